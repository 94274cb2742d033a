#include "device/medium_writer.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "libvoucher/file.h"

namespace vouch::device {
namespace {

// Every descriptor here: no link is followed, a FIFO or device is never opened for I/O
// (O_DIRECTORY refuses it before the open could block), nothing leaks into a child.
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;

Result<std::vector<std::string>> Components(std::string_view relative) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= relative.size(); ++i) {
    if (i < relative.size() && relative[i] != '/') continue;
    std::string part(relative.substr(start, i - start));
    if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string::npos) {
      return Error(Code::kUsage, "'" + std::string(relative.substr(0, 200)) + "' is not a path of plain names");
    }
    parts.push_back(std::move(part));
    start = i + 1;
  }
  return parts;
}

std::string Reason(int err) {
  if (err == EROFS) return "the filesystem is read-only (remount it read-write for this step)";
  if (err == ENOSPC || err == EDQUOT) return "the filesystem is full";
  return std::strerror(err);
}

// Why `name` in `dir` could not be used as a directory or a new name: a link is a refusal of
// its own, anything else an I/O error naming `where`.
Status Classify(int dir, const char* name, int err, const std::string& where) {
  struct stat st;
  if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) return Error(Code::kSymlinkEntry, where + " is a symbolic link; links are never followed");
    if (err == ENOTDIR || err == ELOOP) return Error(Code::kIo, where + " is not a directory");
  }
  return Error(Code::kIo, where + ": " + Reason(err));
}

// The directory `name` below `dir`, made if missing.
Result<UniqueFd> OpenOrMakeDir(int dir, const std::string& name, const std::string& where) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    UniqueFd fd(::openat(dir, name.c_str(), kDirFlags));
    if (fd.get() >= 0) return fd;
    if (errno != ENOENT) return Classify(dir, name.c_str(), errno, where);
    // EEXIST: someone made it meanwhile; open it again (and check what it is) then.
    if (::mkdirat(dir, name.c_str(), 0755) == 0) {
      UniqueFd made(::openat(dir, name.c_str(), kDirFlags));
      // 0755 whatever the umask (the unit's is 0077): the owner reads the stick elsewhere.
      if (made.get() >= 0) {
        ::fchmod(made.get(), 0755);
        return made;
      }
      return Classify(dir, name.c_str(), errno, where);
    }
    if (errno != EEXIST) return Classify(dir, name.c_str(), errno, where);
  }
  return Error(Code::kIo, where + ": cannot be opened as a directory");
}

// What holds the final name, when something does: it is left as it is, whatever it is.
Status Taken(int dir, const std::string& name, const std::string& where, bool taken = false) {
  struct stat st;
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) return Error(Code::kSymlinkEntry, where + " is a symbolic link; left as it is");
    taken = true;
  }
  if (taken) return Error(Code::kExists, where + " already exists; left as it is");
  return Status::Ok();
}

std::string RandomSuffix() {
  unsigned char r[8] = {};
  if (::getrandom(r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
    // A name collision only costs an EEXIST from O_EXCL, never an overwrite.
    for (size_t i = 0; i < sizeof r; ++i) r[i] = static_cast<unsigned char>(::getpid() >> (i % 4));
  }
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : r) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

Status WriteAll(int fd, ByteView bytes, const std::string& where) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error(Code::kIo, where + ": " + Reason(n < 0 ? errno : ENOSPC));
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return Error(Code::kIo, where + ": " + Reason(errno));
  return Status::Ok();
}

// Makes `tmp` the name `final_name` without replacing anything. A hard link fails with EEXIST
// when the name is taken, whatever holds it; FAT has no hard links (EPERM), and there
// renameat2's RENAME_NOREPLACE gives the same guarantee.
int LinkNoReplace(int dir, const std::string& tmp, const std::string& final_name) {
  if (::linkat(dir, tmp.c_str(), dir, final_name.c_str(), 0) == 0) return 0;
  if (errno != EPERM && errno != EOPNOTSUPP && errno != EMLINK) return errno;
  if (::renameat2(dir, tmp.c_str(), dir, final_name.c_str(), RENAME_NOREPLACE) == 0) return 0;
  return errno;
}

}  // namespace

Status WriteNewFile(const std::filesystem::path& root, std::string_view relative, ByteView bytes, size_t cap) {
  if (bytes.size() > cap) return Error(Code::kTooLarge, std::to_string(bytes.size()) + " bytes to write, over the cap of " + std::to_string(cap));
  VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> parts, Components(relative));
  UniqueFd dir(::open(root.c_str(), kDirFlags));
  if (dir.get() < 0) {
    int err = errno;
    struct stat st;
    if (::lstat(root.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      return Error(Code::kSymlinkEntry, root.string() + " is a symbolic link; links are never followed");
    }
    return Error(Code::kIo, root.string() + (err == ENOTDIR || err == ELOOP ? " is not a directory" : ": " + Reason(err)));
  }
  std::string where = root.string();
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    where += "/" + parts[i];
    VOUCH_ASSIGN_OR_RETURN(UniqueFd next, OpenOrMakeDir(dir.get(), parts[i], where));
    dir = std::move(next);
  }
  const std::string& final_name = parts.back();
  const std::string final_path = where + "/" + final_name;
  // Refused early, so that a taken name costs no write (the link below is the real check).
  if (Status taken = Taken(dir.get(), final_name, final_path); !taken.ok()) return taken;
  const std::string tmp = "." + final_name + ".tmp-" + RandomSuffix();
  UniqueFd out(::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (out.get() < 0) return Error(Code::kIo, final_path + ": " + Reason(errno));
  // From here on the temporary name goes, whatever happens.
  struct Unlink {
    int dir;
    const std::string& name;
    ~Unlink() { ::unlinkat(dir, name.c_str(), 0); }
  } unlink_tmp{dir.get(), tmp};
  ::fchmod(out.get(), 0644);  // whatever the umask (the unit's is 0077): the owner reads it elsewhere
  VOUCH_RETURN_IF_ERROR(WriteAll(out.get(), bytes, final_path));
  if (::close(out.release()) != 0) return Error(Code::kIo, final_path + ": " + Reason(errno));
  if (int err = LinkNoReplace(dir.get(), tmp, final_name); err != 0) {
    if (err == EEXIST) return Taken(dir.get(), final_name, final_path, /*taken=*/true);
    return Error(Code::kIo, final_path + ": " + Reason(err));
  }
  // The temporary name goes before the directory is synced, so that both changes are durable
  // together (the guard's second unlink then finds nothing).
  ::unlinkat(dir.get(), tmp.c_str(), 0);
  if (::fsync(dir.get()) != 0) return Error(Code::kIo, where + ": " + Reason(errno));
  return Status::Ok();
}

}  // namespace vouch::device
