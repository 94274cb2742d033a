#include "libvoucher/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <cstring>

namespace vouch {
namespace fs = std::filesystem;

static Status Errno(const fs::path& path, std::string_view what) {
  return Error(Code::kIo, path.string() + ": " + std::string(what) + ": " + std::strerror(errno));
}

struct FileBatch::State {
  UniqueFd root;
  std::mutex mu;
  std::vector<Staged> staged;
  std::atomic<uint64_t> next{0};
};

Result<FileBatch> FileBatch::Open(const fs::path& root) {
  FileBatch b;
  b.state_ = std::make_unique<State>();
  b.state_->root.reset(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (b.state_->root.get() < 0) return Errno(root, "cannot open directory");
  return b;
}

FileBatch::FileBatch(FileBatch&&) noexcept = default;

FileBatch::~FileBatch() {
  if (!state_) return;
  for (const auto& s : state_->staged) {
    if (!s.temp.empty()) ::unlink(s.temp.c_str());
  }
}

Result<size_t> FileBatch::Stage(const fs::path& path, ByteView data, unsigned mode) {
  // A counter, not a random name: one process, and O_EXCL refuses a name already taken.
  fs::path temp = path.parent_path() / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(state_->next++));
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) return Errno(temp, "cannot create");
  auto fail = [&](std::string_view what) {
    Status s = Errno(temp, what);
    ::unlink(temp.c_str());
    return s;
  };
  if (::fchmod(fd.get(), mode) != 0) return fail("cannot set mode");
  for (size_t off = 0; off < data.size();) {
    ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write");
    off += static_cast<size_t>(n);
  }
  if (::close(fd.release()) != 0) return fail("cannot close");
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->staged.push_back({std::move(temp), path});
  return state_->staged.size() - 1;
}

std::vector<Status> FileBatch::Commit() {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::vector<Status> out(state_->staged.size(), Status::Ok());
  if (state_->staged.empty()) return out;
  // Every byte durable before any name points at it; then the names.
  if (::syncfs(state_->root.get()) != 0) {
    Status s = Errno("staged files", "cannot sync the file system");
    for (auto& st : out) st = s;
    return out;
  }
  for (size_t i = 0; i < state_->staged.size(); ++i) {
    Staged& s = state_->staged[i];
    if (::rename(s.temp.c_str(), s.path.c_str()) != 0) {
      out[i] = Errno(s.path, "cannot rename into place");
      ::unlink(s.temp.c_str());
    }
    s.temp.clear();
  }
  if (::syncfs(state_->root.get()) != 0) {
    Status s = Errno("renamed files", "cannot sync the file system");
    for (auto& st : out) {
      if (st.ok()) st = s;
    }
  }
  state_->staged.clear();
  return out;
}

Status SyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno(dir, "cannot open directory");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno(dir, "cannot sync directory");
  return Status::Ok();
}

Status WriteFileAtomic(const fs::path& path, ByteView data, unsigned mode, Overwrite overwrite) {
  if (overwrite == Overwrite::kNo) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
      return Error(Code::kExists, path.string() + ": already exists (refusing to overwrite)");
    }
  }
  fs::path dir = path.parent_path();
  // The process and a counter make the name unique (O_EXCL refuses one already taken).
  static std::atomic<uint64_t> counter{0};
  fs::path tmp = dir / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Errno(tmp, "cannot create");
  // The umask may have narrowed the mode; we want exactly `mode`.
  if (::fchmod(fd, mode) != 0) {
    Status s = Errno(tmp, "cannot set mode");
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = Errno(tmp, "cannot write");
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Status s = Errno(tmp, "cannot sync");
    ::unlink(tmp.c_str());
    return s;
  }
  if (overwrite == Overwrite::kNo) {
    // link() fails if the target appeared meanwhile, where rename() would replace it.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      Status s = errno == EEXIST ? Error(Code::kExists, path.string() + ": already exists (refusing to overwrite)")
                                 : Errno(path, "cannot create");
      ::unlink(tmp.c_str());
      return s;
    }
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Errno(path, "cannot rename into place");
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncDirectory(dir);
}

Result<Bytes> ReadOpenFile(int fd, size_t cap, const std::string& what) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return Error(Code::kIo, what + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > cap) {
    return Error(Code::kTooLarge, what + ": " + std::to_string(st.st_size) + " bytes is over the cap of " + std::to_string(cap));
  }
  // Read at most cap + 1 bytes whatever fstat said: the file may grow while we read it.
  Bytes out(static_cast<size_t>(st.st_size));
  size_t off = 0;
  for (;;) {
    if (off == out.size()) {
      if (out.size() > cap) break;
      out.resize(std::min(cap + 1, out.size() + 4096));
    }
    ssize_t n = ::read(fd, out.data() + off, out.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(Code::kIo, what + ": cannot read: " + std::strerror(errno));
    if (n == 0) break;
    off += static_cast<size_t>(n);
  }
  out.resize(off);
  if (off > cap) return Error(Code::kTooLarge, what + ": over the cap of " + std::to_string(cap) + " bytes");
  return out;
}

Result<SecretBytes> ReadSecretFile(const fs::path& path, size_t cap) {
  VOUCH_ASSIGN_OR_RETURN(Bytes raw, ReadFile(path, cap));
  SecretBytes secret(raw);
  Wipe(raw.data(), raw.size());
  return secret;
}

Result<Bytes> ReadFile(const fs::path& path, size_t cap, bool follow_links) {
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow_links ? 0 : O_NOFOLLOW);
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    if (errno == ENOENT) return Error(Code::kNotFound, path.string() + ": no such file");
    if (errno == ELOOP) return Error(Code::kIo, path.string() + ": is a symbolic link");
    return Errno(path, "cannot open");
  }
  auto r = ReadOpenFile(fd, cap, path.string());
  ::close(fd);
  return r;
}

}  // namespace vouch
