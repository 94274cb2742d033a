#include "libvoucher/anonymous_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace vouch {

std::FILE* OpenAnonymousFile(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::string name = (dir / "scratch-XXXXXX").string();
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) return nullptr;
    ::unlink(name.c_str());
  }
  std::FILE* f = ::fdopen(fd, "w+b");
  if (!f) {
    int e = errno;
    ::close(fd);
    errno = e;
  }
  return f;
}

}  // namespace vouch
