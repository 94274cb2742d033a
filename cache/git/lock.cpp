#include "cache/git/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

namespace vouch::cache::git {

Result<CacheLock> CacheLock::Take(const std::string& cache_path, Mode mode, bool wait, const char* name) {
  std::string path = cache_path + "/vouch/" + name;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error(Code::kIo, path + ": cannot open lock");
  int op = (mode == Mode::kShared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB);
  while (::flock(fd, op) != 0) {
    if (errno == EINTR) continue;
    ::close(fd);
    return Error(Code::kExists, path + ": busy");
  }
  return CacheLock(fd);
}

CacheLock::~CacheLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace vouch::cache::git
