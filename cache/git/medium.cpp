#include "cache/git/medium.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "cache/git/device_directory.h"
#include "cache/git/git.h"
#include "cache/git/repository.h"
#include "libvoucher/file.h"

namespace vouch::cache::git {
namespace {

using Fd = UniqueFd;

// Opens `name` below `dir_fd` without following a link and without blocking on a FIFO.
int OpenAt(int dir_fd, const char* name, int extra) {
  return ::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | extra);
}

// Checks a repository's files before libgit2 sees any of them.
class Inspector {
 public:
  Inspector(const std::string& what, const MediumLimits& limits) : what_(what), limits_(limits) {}

  Status Objects(int repo_fd) {
    for (const char* redirect : {"objects/info/alternates", "objects/info/http-alternates", "objects/pack/multi-pack-index"}) {
      struct stat st;
      if (::fstatat(repo_fd, redirect, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        return Error(Code::kUnsupported, what_ + ": has " + redirect + ", which could redirect reads");
      }
    }
    int fd = OpenAt(repo_fd, "objects", O_DIRECTORY);
    if (fd < 0) return Error(Code::kMalformed, what_ + ": objects is not a plain directory");
    Fd owned(fd);
    return Walk(fd, "objects", 0);
  }

  uint64_t pack_bytes() const { return pack_bytes_; }

 private:
  Status Walk(int dir_fd, const std::string& rel, int depth) {
    int fd = ::dup(dir_fd);
    DIR* d = fd >= 0 ? ::fdopendir(fd) : nullptr;
    if (!d) {
      if (fd >= 0) ::close(fd);
      return Error(Code::kIo, what_ + ": cannot list " + rel);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> owned(d, ::closedir);
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      if (++files_ > limits_.max_files) {
        return Error(Code::kTooLarge, what_ + ": more than " + std::to_string(limits_.max_files) + " files in objects/");
      }
      struct stat st;
      if (::fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) return Error(Code::kIo, what_ + ": cannot stat " + rel + "/...");
      std::string path = rel + "/" + name;
      if (S_ISDIR(st.st_mode)) {
        if (depth >= 2) return Error(Code::kUnsupported, what_ + ": " + path + " is nested deeper than a repository's objects");
        int sub = OpenAt(dir_fd, e->d_name, O_DIRECTORY);
        if (sub < 0) return Error(Code::kIo, what_ + ": cannot open " + path);
        Fd sub_owned(sub);
        VOUCH_RETURN_IF_ERROR(Walk(sub, path, depth + 1));
        continue;
      }
      if (!S_ISREG(st.st_mode)) {
        return Error(Code::kUnsupported, what_ + ": " + path + (S_ISLNK(st.st_mode) ? " is a link" : " is not a regular file"));
      }
      VOUCH_RETURN_IF_ERROR(Size(rel, name, static_cast<uint64_t>(st.st_size)));
    }
    return Status::Ok();
  }

  Status Size(const std::string& rel, const std::string& name, uint64_t size) {
    auto over = [&](uint64_t cap) {
      return Error(Code::kTooLarge, what_ + ": " + rel + "/" + name + " is " + std::to_string(size) +
                                        " bytes, over the cap of " + std::to_string(cap));
    };
    auto ends = [&](std::string_view suffix) {
      return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (rel == "objects/pack") {
      if (ends(".pack")) {
        if (++packs_ > limits_.max_packs) return Error(Code::kTooLarge, what_ + ": more than " + std::to_string(limits_.max_packs) + " packs");
        pack_bytes_ += size;
        if (pack_bytes_ > limits_.max_pack_bytes) return over(limits_.max_pack_bytes);
      } else if (ends(".idx") && size > limits_.max_index) {
        return over(limits_.max_index);
      }
      return Status::Ok();  // .keep, .rev, .bitmap: libgit2 does not read them
    }
    // Loose objects (objects/xx/...) are read whole by libgit2 before they are inflated.
    if (rel.size() == 10 && size > limits_.max_loose_object) return over(limits_.max_loose_object);
    if (rel == "objects/info" && size > limits_.max_packed_refs) return over(limits_.max_packed_refs);
    return Status::Ok();
  }

  std::string what_;
  MediumLimits limits_;
  size_t files_ = 0, packs_ = 0;
  uint64_t pack_bytes_ = 0;
};

// A small regular file below `dir_fd`, reached component by component with no link followed;
// nullopt when it is not there.
Result<std::optional<std::string>> ReadSmall(int dir_fd, const std::string& rel, uint64_t cap, const std::string& what) {
  int fd = ::dup(dir_fd);
  size_t start = 0;
  for (;;) {
    size_t slash = rel.find('/', start);
    bool last = slash == std::string::npos;
    std::string part = rel.substr(start, last ? std::string::npos : slash - start);
    int next = OpenAt(fd, part.c_str(), last ? 0 : O_DIRECTORY);
    int err = errno;
    ::close(fd);
    if (next < 0) {
      if (err == ENOENT) return std::optional<std::string>();
      return Error(Code::kUnsupported, what + ": " + rel + " is not a plain file (" + std::strerror(err) + ")");
    }
    fd = next;
    if (last) break;
    start = slash + 1;
  }
  Fd owned(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return Error(Code::kUnsupported, what + ": " + rel + " is not a regular file");
  VOUCH_ASSIGN_OR_RETURN(Bytes b, ReadOpenFile(fd, cap, what + ": " + rel));
  return std::optional<std::string>(std::string(b.begin(), b.end()));
}

bool IsHexOid(std::string_view s) {
  if (s.size() != GIT_OID_HEXSZ) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The vouchers branch, loose or packed. A symbolic ref is refused: it could name anything.
Result<std::optional<ObjectId>> ReadBranch(int repo_fd, const std::string& what, const MediumLimits& limits) {
  const std::string ref(kBranch);
  std::optional<std::string> hex;
  VOUCH_ASSIGN_OR_RETURN(std::optional<std::string> loose, ReadSmall(repo_fd, ref, limits.max_ref_file, what));
  if (loose) {
    std::string s = *loose;
    if (s.rfind("ref:", 0) == 0) return Error(Code::kUnsupported, what + ": " + ref + " is a symbolic ref");
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (!IsHexOid(s)) return Error(Code::kMalformed, what + ": " + ref + " does not hold an object id");
    hex = s;
  } else {
    VOUCH_ASSIGN_OR_RETURN(std::optional<std::string> packed, ReadSmall(repo_fd, "packed-refs", limits.max_packed_refs, what));
    if (!packed) return std::optional<ObjectId>();
    size_t pos = 0;
    while (pos < packed->size()) {
      size_t nl = packed->find('\n', pos);
      std::string_view line(packed->data() + pos, (nl == std::string::npos ? packed->size() : nl) - pos);
      pos = nl == std::string::npos ? packed->size() : nl + 1;
      if (line.size() == GIT_OID_HEXSZ + 1 + ref.size() && line.substr(GIT_OID_HEXSZ) == " " + ref) {
        if (!IsHexOid(line.substr(0, GIT_OID_HEXSZ))) return Error(Code::kMalformed, what + ": packed-refs: bad object id");
        hex = std::string(line.substr(0, GIT_OID_HEXSZ));
        break;
      }
    }
    if (!hex) return std::optional<ObjectId>();
  }
  git_oid oid;
  if (git_oid_fromstr(&oid, hex->c_str()) != 0) return Fail(Code::kMalformed, what + ": " + ref);
  return std::optional<ObjectId>(IdOf(oid));
}

}  // namespace

void ConfigureForMedia() {
  Init();
  // No configuration from outside the repository: a device's /etc/gitconfig or $HOME is not
  // the medium's business (and the reader may not read them).
  for (int level : {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA}) {
    git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, "");
  }
  // Packs are mapped a window at a time; a few small windows keep a hostile pack's pages
  // out of memory (the defaults map up to 8 GiB).
  git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, size_t{1} << 20);
  git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, size_t{16} << 20);
  git_libgit2_opts(GIT_OPT_SET_MWINDOW_FILE_LIMIT, size_t{16});
  git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, ssize_t{4} << 20);
}

Result<std::vector<formats::PackedVoucher>> ReadDevice(int repo_fd, const std::string& what, std::string_view device_udf,
                                                       const MediumLimits& limits) {
  Init();
  Inspector inspector(what, limits);
  VOUCH_RETURN_IF_ERROR(inspector.Objects(repo_fd));
  VOUCH_ASSIGN_OR_RETURN(std::optional<ObjectId> tip, ReadBranch(repo_fd, what, limits));
  if (!tip) return std::vector<formats::PackedVoucher>();

  // libgit2 takes a path: the directory already open, pinned through /proc so that no name
  // is resolved again.
  std::string objects = "/proc/self/fd/" + std::to_string(repo_fd) + "/objects";
  VOUCH_ASSIGN_OR_RETURN(Repository repo, Repository::OverObjects(objects, what));
  DirectoryLimits directory{limits.max_commit, limits.max_tree, limits.max_voucher, limits.max_vouchers, limits.max_proof};
  return ReadDeviceDirectory(repo, *tip, device_udf, directory, what);
}

}  // namespace vouch::cache::git
