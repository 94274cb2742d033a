#include "cache/git/remote.h"

#include <dirent.h>
#include <fcntl.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <unordered_set>
#include <utility>

#include "cache/git/git.h"
#include "cache/git/staging.h"
#include "cache/git/transport.h"
#include "libvoucher/file.h"

namespace vouch::cache::git {
namespace {

using Fd = UniqueFd;

// Opens `name` below `dir_fd` without following a link and without blocking on a FIFO.
int OpenAt(int dir_fd, const char* name, int extra = 0) {
  return ::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | extra);
}

// What names a file in a message: "<what>: " when there is a what (the caller may name the
// remote itself, as a pull does), else nothing.
std::string In(const std::string& what) { return what.empty() ? std::string() : what + ": "; }

const char* KindOf(mode_t mode) {
  if (S_ISFIFO(mode)) return "a fifo";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISDIR(mode)) return "a directory";
  return "not a regular file";
}

Status NotRegular(const std::string& what, const std::string& rel, mode_t mode) {
  return Error(Code::kUnsupported, In(what) + rel + " is " + KindOf(mode) + ", not a regular file");
}

// `rel` below `dir_fd`, one component at a time, no link followed, opened only if it is a
// regular file: -1 when it is not there, a refusal (kUnsupported) for anything else.
Result<int> OpenRegular(int dir_fd, const std::string& rel, const std::string& what) {
  Fd dir(::dup(dir_fd));
  size_t start = 0;
  for (;;) {
    size_t slash = rel.find('/', start);
    bool last = slash == std::string::npos;
    std::string part = rel.substr(start, last ? std::string::npos : slash - start);
    std::string so_far = rel.substr(0, last ? std::string::npos : slash);
    struct stat st;
    if (::fstatat(dir.get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return -1;
      return Error(Code::kIo, In(what) + "cannot stat " + so_far + ": " + std::strerror(errno));
    }
    if (last ? !S_ISREG(st.st_mode) : !S_ISDIR(st.st_mode)) {
      if (!last && !S_ISLNK(st.st_mode)) return Error(Code::kMalformed, In(what) + so_far + " is not a directory");
      return NotRegular(what, so_far, st.st_mode);
    }
    // Opened without following a link or blocking, then checked again: what was looked at
    // above may have been replaced since.
    Fd next(OpenAt(dir.get(), part.c_str(), last ? 0 : O_DIRECTORY));
    if (next.get() < 0 || ::fstat(next.get(), &st) != 0) {
      return Error(Code::kUnsupported, In(what) + so_far + " changed while it was opened");
    }
    if (last) {
      if (!S_ISREG(st.st_mode)) return NotRegular(what, so_far, st.st_mode);
      return next.release();
    }
    dir.reset(next.release());
    start = slash + 1;
  }
}

bool IsHexOid(std::string_view s) {
  if (s.size() != GIT_OID_HEXSZ) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

const std::string kVouchersRef(kBranch);
const std::string kLogBranch(kLogRef);

// A branch of a local remote (refs/heads/vouchers, refs/heads/log): the loose ref, else its
// line in packed-refs (read a block at a time, so its size costs time, not memory). A
// symbolic ref is refused.
Result<std::optional<ObjectId>> ReadBranch(int repo_fd, const std::string& kVouchersRef, const std::string& what,
                                           const LocalRemoteLimits& limits) {
  std::string hex;
  VOUCH_ASSIGN_OR_RETURN(int loose, OpenRegular(repo_fd, kVouchersRef, what));
  if (loose >= 0) {
    Fd f(loose);
    VOUCH_ASSIGN_OR_RETURN(Bytes b, ReadOpenFile(f.get(), limits.max_ref, In(what) + kVouchersRef));
    hex.assign(b.begin(), b.end());
    if (hex.rfind("ref:", 0) == 0) return Error(Code::kUnsupported, In(what) + kVouchersRef + " is a symbolic ref");
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
    if (!IsHexOid(hex)) return Error(Code::kMalformed, In(what) + kVouchersRef + " does not hold an object id");
  } else {
    VOUCH_ASSIGN_OR_RETURN(int packed, OpenRegular(repo_fd, "packed-refs", what));
    if (packed < 0) return std::optional<ObjectId>();
    Fd f(packed);
    const std::string want = std::string(" ") + kVouchersRef;
    std::string line;
    char buf[1 << 16];
    uint64_t total = 0;
    bool found = false;
    for (;;) {
      ssize_t n = ::read(f.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error(Code::kIo, In(what) + "cannot read packed-refs");
      total += static_cast<uint64_t>(n);
      if (total > limits.max_packed_refs) {
        return Error(Code::kTooLarge, In(what) + "packed-refs is over the cap of " + std::to_string(limits.max_packed_refs) + " bytes");
      }
      for (ssize_t i = 0; i < n || (n == 0 && !line.empty()); ++i) {
        char c = n == 0 ? '\n' : buf[i];
        if (c != '\n') {
          if (line.size() > 4096) return Error(Code::kMalformed, In(what) + "packed-refs has a line over 4096 bytes");
          line.push_back(c);
          continue;
        }
        if (line.size() == GIT_OID_HEXSZ + want.size() && line.compare(GIT_OID_HEXSZ, std::string::npos, want) == 0) {
          hex = line.substr(0, GIT_OID_HEXSZ);
          if (!IsHexOid(hex)) return Error(Code::kMalformed, In(what) + "packed-refs: " + kVouchersRef + " has no object id");
          found = true;
        }
        line.clear();
        if (n == 0) break;
      }
      if (n == 0 || found) break;
    }
    if (!found) return std::optional<ObjectId>();
  }
  git_oid oid;
  if (git_oid_fromstr(&oid, hex.c_str()) != 0) return Fail(Code::kMalformed, In(what) + kVouchersRef);
  return std::optional<ObjectId>(IdOf(oid));
}

// The repository at `path` (a bare one, or a work tree's .git directory), checked before
// anything reads it: config, HEAD and packed-refs are regular files when present (libgit2's
// local transport would open them; a FIFO there blocked it for good), objects and refs are
// plain directories, and nothing redirects reads elsewhere.
Result<int> OpenRepository(const std::string& path, const std::string& what) {
  Fd top(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC));
  if (top.get() < 0) return Error(Code::kNotFound, In(what) + "not a directory (" + std::strerror(errno) + ")");
  struct stat st;
  Fd repo;
  if (::fstatat(top.get(), "objects", &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) {
    repo.reset(top.release());
  } else if (::fstatat(top.get(), ".git", &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISDIR(st.st_mode)) return Error(Code::kUnsupported, In(what) + ".git is " + KindOf(st.st_mode) + ", not a directory");
    repo.reset(OpenAt(top.get(), ".git", O_DIRECTORY));
    if (repo.get() < 0) return Error(Code::kIo, In(what) + "cannot open .git");
  } else {
    return Error(Code::kNotFound, In(what) + "not a git repository");
  }
  for (const char* dir : {"objects", "refs"}) {
    if (::fstatat(repo.get(), dir, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT && std::string(dir) == "refs") continue;
      return Error(Code::kMalformed, In(what) + "has no " + dir + " directory");
    }
    if (!S_ISDIR(st.st_mode)) return Error(Code::kUnsupported, In(what) + dir + " is " + KindOf(st.st_mode) + ", not a directory");
  }
  for (const std::string& file : {std::string("config"), std::string("HEAD"), std::string("packed-refs"), kVouchersRef}) {
    if (::fstatat(repo.get(), file.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
      return NotRegular(what, file, st.st_mode);
    }
  }
  for (const char* redirect : {"commondir", "gitdir", "objects/info/alternates", "objects/info/http-alternates"}) {
    if (::fstatat(repo.get(), redirect, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      return Error(Code::kUnsupported, In(what) + "has " + redirect + ", which would make git read objects elsewhere");
    }
  }
  return repo.release();
}

// Where a backend libgit2 calls leaves why it refused a read: libgit2 keeps only a message,
// per thread, so the quarantine keeps the Status (its code) for the pull to report.
struct RefusalSlot {
  Status* status = nullptr;
  std::mutex* mu = nullptr;
  int Refuse(Status s, int error_class = GIT_ERROR_ODB) const {
    git_error_set_str(error_class, s.message().c_str());
    std::lock_guard<std::mutex> l(*mu);
    if (status->ok()) *status = std::move(s);
    return GIT_ERROR;
  }
};

// A local remote's loose objects, for libgit2: objects/xx/yyyy is opened with no link
// followed and without blocking, must be a regular file under the cap, and is copied into
// the quarantine, where libgit2's own loose backend reads it. Reads whole files only after
// that, and copies each object once.
struct LooseCopier {
  git_odb_backend parent;
  int objects_fd = -1;       // the remote's objects/, owned
  std::string copies;        // <quarantine>/loose
  git_odb_backend* inner = nullptr;  // libgit2's loose backend over `copies`
  uint64_t max_file = 0;
  std::string what;
  RefusalSlot refusal;
  std::mutex mu;  // the packbuilder reads on every core
  std::unordered_set<std::string> copied;

  static LooseCopier* Of(git_odb_backend* b) { return reinterpret_cast<LooseCopier*>(b); }
  int Refuse(Status s) { return refusal.Refuse(std::move(s)); }

  // 0 when a copy is ready, GIT_ENOTFOUND when the remote has no such loose object.
  int Ensure(const git_oid* oid) {
    std::string hex = OidText(*oid);
    std::lock_guard<std::mutex> l(mu);
    if (copied.count(hex)) return 0;
    std::string rel = "objects/" + hex.substr(0, 2) + "/" + hex.substr(2);
    Fd dir(OpenAt(objects_fd, hex.substr(0, 2).c_str(), O_DIRECTORY));
    if (dir.get() < 0) {
      if (errno == ENOENT) return GIT_ENOTFOUND;
      return Refuse(Error(Code::kUnsupported, In(what) + "objects/" + hex.substr(0, 2) + " is not a plain directory"));
    }
    struct stat st;
    if (::fstatat(dir.get(), hex.c_str() + 2, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return GIT_ENOTFOUND;
      return Refuse(Error(Code::kIo, In(what) + "cannot stat " + rel));
    }
    if (!S_ISREG(st.st_mode)) return Refuse(NotRegular(what, rel, st.st_mode));
    Fd f(OpenAt(dir.get(), hex.c_str() + 2));
    if (f.get() < 0 || ::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return Refuse(Error(Code::kUnsupported, In(what) + rel + " changed while it was opened"));
    }
    if (static_cast<uint64_t>(st.st_size) > max_file) {
      return Refuse(Error(Code::kTooLarge, In(what) + rel + " is " + std::to_string(st.st_size) +
                                               " bytes, over the cap of " + std::to_string(max_file) + " for a loose object"));
    }
    auto bytes = ReadOpenFile(f.get(), max_file, In(what) + rel);
    if (!bytes.ok()) return Refuse(bytes.status());
    std::string sub = copies + "/" + hex.substr(0, 2);
    ::mkdir(sub.c_str(), 0700);
    std::string to = sub + "/" + hex.substr(2);
    Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (out.get() < 0) return Refuse(Error(Code::kIo, to + ": cannot write"));
    size_t done = 0;
    while (done < bytes->size()) {
      ssize_t n = ::write(out.get(), bytes->data() + done, bytes->size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Refuse(Error(Code::kIo, to + ": cannot write"));
      done += static_cast<size_t>(n);
    }
    copied.insert(hex);
    return 0;
  }

  static int Read(void** data, size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* oid) {
    if (int rc = Of(b)->Ensure(oid); rc != 0) return rc;
    return Of(b)->inner->read(data, len, type, Of(b)->inner, oid);
  }
  static int ReadHeader(size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* oid) {
    if (int rc = Of(b)->Ensure(oid); rc != 0) return rc;
    return Of(b)->inner->read_header(len, type, Of(b)->inner, oid);
  }
  static int Exists(git_odb_backend* b, const git_oid* oid) { return Of(b)->Ensure(oid) == 0; }
  static void Free(git_odb_backend* b) {
    LooseCopier* self = Of(b);
    if (self->inner) self->inner->free(self->inner);
    if (self->objects_fd >= 0) ::close(self->objects_fd);
    delete self;
  }
};

// Reads a pack as it streams in, before libgit2's indexer sees it whole. The indexer hashes
// a plain object as a stream, whatever its size, but resolves every delta in memory, base and
// result whole: a delta of a few bytes can stand for 256 MiB (git makes one of two large
// blobs that differ in a byte). So every delta's base and result sizes, read from the first
// bytes of its data, must be within `max_object`, and no delta may rest on a plain object
// over it (one named by offset; or, when the pack has such an object, any delta by id).
class PackGuard {
 public:
  explicit PackGuard(uint64_t max_object) : max_(max_object) {}
  ~PackGuard() {
    if (z_open_) inflateEnd(&z_);
  }
  PackGuard(const PackGuard&) = delete;
  PackGuard& operator=(const PackGuard&) = delete;

  Status Feed(const uint8_t* p, size_t n) {
    while (n > 0) {
      size_t used = 1;
      switch (state_) {
        case State::kHeader:
          header_[header_len_++] = *p;
          if (header_len_ == sizeof header_) {
            if (std::memcmp(header_, "PACK", 4) != 0) return Error(Code::kMalformed, "what it sends is not a pack");
            count_ = (uint32_t{header_[8]} << 24) | (uint32_t{header_[9]} << 16) | (uint32_t{header_[10]} << 8) | header_[11];
            state_ = count_ ? State::kEntry : State::kTrailer;
            first_ = true;
          }
          break;
        case State::kEntry:
          if (first_) {
            start_ = offset_;
            type_ = (*p >> 4) & 7;
            size_ = *p & 15;
            shift_ = 4;
            first_ = false;
          } else {
            if (shift_ > 57) return Error(Code::kMalformed, "an object in the pack has a size header over 64 bits");
            size_ |= uint64_t{static_cast<uint8_t>(*p & 0x7f)} << shift_;
            shift_ += 7;
          }
          if (!(*p & 0x80)) {
            // A delta's own data is inflated whole too; a real one is at most about its result.
            bool delta = type_ == GIT_OBJECT_OFS_DELTA || type_ == GIT_OBJECT_REF_DELTA;
            if (delta && size_ > 2 * max_) {
              return Error(Code::kTooLarge, "it sends a delta of " + std::to_string(size_) + " bytes, over the cap of " +
                                                std::to_string(2 * max_));
            }
            if (type_ == GIT_OBJECT_OFS_DELTA) {
              state_ = State::kOfs;
              ofs_ = 0;
              ofs_len_ = 0;
            } else if (type_ == GIT_OBJECT_REF_DELTA) {
              state_ = State::kRef;
              ref_left_ = GIT_OID_RAWSZ;
              ref_delta_ = true;
            } else if (type_ >= GIT_OBJECT_COMMIT && type_ <= GIT_OBJECT_TAG) {
              if (size_ > max_) huge_.push_back(start_);
              VOUCH_RETURN_IF_ERROR(StartData());
            } else {
              return Error(Code::kMalformed, "an object in the pack has type " + std::to_string(type_));
            }
          }
          break;
        case State::kOfs:
          // git's offset encoding: each further byte adds one before shifting.
          if (++ofs_len_ > 9) return Error(Code::kMalformed, "a delta in the pack has an offset over 63 bits");
          ofs_ = ofs_len_ == 1 ? (*p & 0x7f) : ((ofs_ + 1) << 7) | (*p & 0x7f);
          if (!(*p & 0x80)) {
            if (ofs_ == 0 || ofs_ > start_) return Error(Code::kMalformed, "a delta in the pack names a base outside it");
            bases_.push_back(start_ - ofs_);
            VOUCH_RETURN_IF_ERROR(StartData());
          }
          break;
        case State::kRef:
          used = std::min(n, ref_left_);
          ref_left_ -= used;
          if (ref_left_ == 0) VOUCH_RETURN_IF_ERROR(StartData());
          break;
        case State::kData: {
          VOUCH_ASSIGN_OR_RETURN(used, Inflate(p, n));
          break;
        }
        case State::kTrailer:
          used = n;
          break;
      }
      p += used;
      n -= used;
      offset_ += used;
    }
    return Status::Ok();
  }

  // After the whole pack: no delta rests on a plain object over the cap.
  Status Finish() const {
    if (huge_.empty()) return Status::Ok();
    std::vector<uint64_t> huge = huge_;
    std::sort(huge.begin(), huge.end());
    for (uint64_t base : bases_) {
      if (std::binary_search(huge.begin(), huge.end(), base)) {
        return Error(Code::kTooLarge, "it sends a delta on an object over the cap of " + std::to_string(max_) + " bytes");
      }
    }
    if (ref_delta_) {
      return Error(Code::kTooLarge, "it sends deltas by id beside an object over the cap of " + std::to_string(max_) + " bytes");
    }
    return Status::Ok();
  }

 private:
  enum class State { kHeader, kEntry, kOfs, kRef, kData, kTrailer };

  Status StartData() {
    if (!z_open_) {
      std::memset(&z_, 0, sizeof z_);
      if (inflateInit(&z_) != Z_OK) return Error(Code::kInternal, "zlib");
      z_open_ = true;
    } else if (inflateReset(&z_) != Z_OK) {
      return Error(Code::kInternal, "zlib");
    }
    delta_ = type_ == GIT_OBJECT_OFS_DELTA || type_ == GIT_OBJECT_REF_DELTA;
    head_len_ = 0;
    state_ = State::kData;
    return Status::Ok();
  }

  // Inflates what it can of the current object's data (output dropped but a delta's first
  // bytes); returns how many input bytes it took.
  Result<size_t> Inflate(const uint8_t* p, size_t n) {
    z_.next_in = const_cast<Bytef*>(p);
    z_.avail_in = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    size_t given = z_.avail_in;
    for (;;) {
      z_.next_out = scratch_;
      z_.avail_out = sizeof scratch_;
      int rc = inflate(&z_, Z_NO_FLUSH);
      size_t out = sizeof scratch_ - z_.avail_out;
      if (delta_ && head_len_ < sizeof head_) {
        size_t k = std::min(out, sizeof head_ - head_len_);
        std::memcpy(head_ + head_len_, scratch_, k);
        head_len_ += k;
      }
      if (rc == Z_STREAM_END) {
        if (delta_) VOUCH_RETURN_IF_ERROR(CheckDelta());
        state_ = ++done_ == count_ ? State::kTrailer : State::kEntry;
        first_ = true;
        return given - z_.avail_in;
      }
      if (rc == Z_BUF_ERROR || (rc == Z_OK && z_.avail_in == 0 && z_.avail_out != 0)) return given - z_.avail_in;
      if (rc != Z_OK) return Error(Code::kMalformed, "an object in the pack does not inflate");
    }
  }

  // A delta starts with its base's size and its result's size.
  Status CheckDelta() {
    size_t at = 0;
    uint64_t sizes[2] = {0, 0};
    for (uint64_t& v : sizes) {
      unsigned shift = 0;
      for (;;) {
        if (at >= head_len_ || shift > 57) return Error(Code::kMalformed, "a delta in the pack has no size header");
        uint8_t b = head_[at++];
        v |= uint64_t{static_cast<uint8_t>(b & 0x7f)} << shift;
        shift += 7;
        if (!(b & 0x80)) break;
      }
    }
    if (sizes[0] > max_ || sizes[1] > max_) {
      return Error(Code::kTooLarge, "it sends a delta from " + std::to_string(sizes[0]) + " to " + std::to_string(sizes[1]) +
                                        " bytes, over the cap of " + std::to_string(max_) + " for one object");
    }
    return Status::Ok();
  }

  uint64_t max_;
  State state_ = State::kHeader;
  uint8_t header_[12] = {};
  size_t header_len_ = 0;
  uint32_t count_ = 0, done_ = 0;
  uint64_t offset_ = 0, start_ = 0, size_ = 0, ofs_ = 0;
  int type_ = 0;
  unsigned shift_ = 0;
  bool first_ = true, delta_ = false, ref_delta_ = false;
  size_t ofs_len_ = 0, ref_left_ = 0;
  z_stream z_{};
  bool z_open_ = false;
  uint8_t head_[20] = {};
  size_t head_len_ = 0;
  uint8_t scratch_[1 << 16];
  std::vector<uint64_t> huge_, bases_;
};

// An odb backend that only writes packs: libgit2's pack writer for the quarantine's own
// objects, with every byte passed through a PackGuard first. Added with a priority above
// the quarantine's pack backend, so a fetch writes through it.
struct GuardedPacks {
  git_odb_backend parent;
  git_odb_backend* inner = nullptr;  // libgit2's pack backend over the quarantine's objects
  uint64_t max_object = 0;
  RefusalSlot refusal;

  struct Writer {
    git_odb_writepack parent;
    git_odb_writepack* real = nullptr;
    std::unique_ptr<PackGuard> guard;
    RefusalSlot refusal;

    static Writer* Of(git_odb_writepack* w) { return reinterpret_cast<Writer*>(w); }
    int Refuse(Status s) const { return refusal.Refuse(std::move(s), GIT_ERROR_INDEXER); }
    static int Append(git_odb_writepack* w, const void* data, size_t size, git_indexer_progress* stats) {
      Status s = Of(w)->guard->Feed(static_cast<const uint8_t*>(data), size);
      if (!s.ok()) return Of(w)->Refuse(std::move(s));
      return Of(w)->real->append(Of(w)->real, data, size, stats);
    }
    static int Commit(git_odb_writepack* w, git_indexer_progress* stats) {
      Status s = Of(w)->guard->Finish();  // before the indexer resolves a single delta
      if (!s.ok()) return Of(w)->Refuse(std::move(s));
      return Of(w)->real->commit(Of(w)->real, stats);
    }
    static void Free(git_odb_writepack* w) {
      Of(w)->real->free(Of(w)->real);
      delete Of(w);
    }
  };

  static GuardedPacks* Of(git_odb_backend* b) { return reinterpret_cast<GuardedPacks*>(b); }
  static int WritePack(git_odb_writepack** out, git_odb_backend* b, git_odb* odb, git_indexer_progress_cb cb, void* payload) {
    GuardedPacks* self = Of(b);
    auto* w = new Writer{};
    if (int rc = self->inner->writepack(&w->real, self->inner, odb, cb, payload); rc != 0) {
      delete w;
      return rc;
    }
    w->guard = std::make_unique<PackGuard>(self->max_object);
    w->refusal = self->refusal;
    w->parent.backend = b;
    w->parent.append = Writer::Append;
    w->parent.commit = Writer::Commit;
    w->parent.free = Writer::Free;
    *out = &w->parent;
    return 0;
  }
  static int ReadHeader(size_t*, git_object_t*, git_odb_backend*, const git_oid*) { return GIT_ENOTFOUND; }
  static void Free(git_odb_backend* b) {
    if (Of(b)->inner) Of(b)->inner->free(Of(b)->inner);
    delete Of(b);
  }
};

// Reads the varint sizes a delta's data starts with (its base's, then its result's) by
// inflating only as much of the data as they take.
Status DeltaSizes(int pack_fd, uint64_t data_at, uint64_t* base, uint64_t* result) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return Error(Code::kInternal, "zlib");
  uint8_t in[512], out[32];
  size_t have = 0;
  z.next_out = out;
  z.avail_out = sizeof out;
  for (int round = 0; round < 8 && z.avail_out > 0; ++round) {
    ssize_t n = ::pread(pack_fd, in, sizeof in, static_cast<off_t>(data_at));
    if (n <= 0) break;
    data_at += static_cast<uint64_t>(n);
    z.next_in = in;
    z.avail_in = static_cast<uInt>(n);
    int rc = inflate(&z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
  }
  have = sizeof out - z.avail_out;
  inflateEnd(&z);
  size_t at = 0;
  for (uint64_t* v : {base, result}) {
    *v = 0;
    for (unsigned shift = 0;; shift += 7) {
      if (at >= have || shift > 57) return Error(Code::kMalformed, "a delta has no size header");
      uint8_t b = out[at++];
      *v |= uint64_t{static_cast<uint8_t>(b & 0x7f)} << shift;
      if (!(b & 0x80)) break;
    }
  }
  return Status::Ok();
}

uint32_t Be32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]; }

// A local remote's pack, for libgit2: an object is read (libgit2 inflates its delta chain
// whole, base first) only after the chain is checked from the pack itself: every plain
// object and every delta's base and result within `max_object`, delta data within twice
// that, at most kMaxChain deltas deep. A voucher stored as a delta on a 256 MiB blob is so
// refused from a few headers. Headers are read by libgit2 directly: that inflates no base.
struct CheckedPack {
  static constexpr int kMaxChain = 4096;  // git itself makes chains of at most 4095
  git_odb_backend parent;
  git_odb_backend* inner = nullptr;  // libgit2's backend for this one pack
  int idx_fd = -1, pack_fd = -1;     // pinned by the quarantine
  uint32_t fanout[256] = {};
  uint64_t max_object = 0;
  std::string what;
  RefusalSlot refusal;

  static CheckedPack* Of(git_odb_backend* b) { return reinterpret_cast<CheckedPack*>(b); }
  int Refuse(Status s) const { return refusal.Refuse(std::move(s)); }

  bool ReadAt(int fd, uint64_t at, void* buf, size_t n) const {
    return ::pread(fd, buf, n, static_cast<off_t>(at)) == static_cast<ssize_t>(n);
  }

  Status LoadFanout() {
    uint8_t head[8 + 1024];
    if (!ReadAt(idx_fd, 0, head, sizeof head) || std::memcmp(head, "\377tOc", 4) != 0 || Be32(head + 4) != 2) {
      return Error(Code::kUnsupported, what + ": its index is not a version 2 pack index");
    }
    for (int i = 0; i < 256; ++i) fanout[i] = Be32(head + 8 + 4 * i);
    return Status::Ok();
  }

  // The object's offset in the pack, from the index (a binary search, one read a step).
  Result<std::optional<uint64_t>> Find(const git_oid& id) const {
    uint32_t n = fanout[255], lo = id.id[0] ? fanout[id.id[0] - 1] : 0, hi = fanout[id.id[0]];
    const uint64_t shas = 8 + 1024;
    while (lo < hi) {
      uint32_t mid = lo + (hi - lo) / 2;
      uint8_t sha[GIT_OID_RAWSZ];
      if (!ReadAt(idx_fd, shas + uint64_t{GIT_OID_RAWSZ} * mid, sha, sizeof sha)) return Error(Code::kMalformed, In(what) + "index cut short");
      int c = std::memcmp(sha, id.id, sizeof sha);
      if (c == 0) {
        uint8_t off[8];
        uint64_t at = shas + uint64_t{GIT_OID_RAWSZ + 4} * n + 4ull * mid;
        if (!ReadAt(idx_fd, at, off, 4)) return Error(Code::kMalformed, In(what) + "index cut short");
        uint32_t small = Be32(off);
        if (!(small & 0x80000000u)) return std::optional<uint64_t>(small);
        at = shas + uint64_t{GIT_OID_RAWSZ + 8} * n + 8ull * (small & 0x7fffffffu);
        if (!ReadAt(idx_fd, at, off, 8)) return Error(Code::kMalformed, In(what) + "index cut short");
        return std::optional<uint64_t>((uint64_t{Be32(off)} << 32) | Be32(off + 4));
      }
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return std::optional<uint64_t>();
  }

  Status Check(const git_oid& id, uint64_t at) const {
    auto over = [&](const std::string& what_is, uint64_t size, uint64_t cap) {
      return Error(Code::kTooLarge, In(what) + "object " + OidText(id) + " rests on " + what_is + " of " + std::to_string(size) +
                                        " bytes, over the cap of " + std::to_string(cap));
    };
    for (int depth = 0; depth <= kMaxChain; ++depth) {
      uint8_t h[32];
      ssize_t got = ::pread(pack_fd, h, sizeof h, static_cast<off_t>(at));
      if (got <= 0) return Error(Code::kMalformed, In(what) + "pack cut short");
      size_t i = 0;
      int type = (h[0] >> 4) & 7;
      uint64_t size = h[0] & 15;
      for (unsigned shift = 4; h[i++] & 0x80; shift += 7) {
        if (i >= static_cast<size_t>(got) || shift > 57) return Error(Code::kMalformed, In(what) + "bad object header");
        size |= uint64_t{static_cast<uint8_t>(h[i] & 0x7f)} << shift;
      }
      if (type != GIT_OBJECT_OFS_DELTA && type != GIT_OBJECT_REF_DELTA) {
        return size > max_object ? over("an object", size, max_object) : Status::Ok();
      }
      if (size > 2 * max_object) return over("delta data", size, 2 * max_object);
      uint64_t base_at = 0;
      if (type == GIT_OBJECT_OFS_DELTA) {
        uint64_t ofs = h[i] & 0x7f;
        while (h[i++] & 0x80) {
          if (i >= static_cast<size_t>(got) || i > 12) return Error(Code::kMalformed, In(what) + "bad delta offset");
          ofs = ((ofs + 1) << 7) | (h[i] & 0x7f);
        }
        if (ofs == 0 || ofs > at) return Error(Code::kMalformed, In(what) + "a delta names a base outside the pack");
        base_at = at - ofs;
      } else {
        git_oid base;
        if (i + GIT_OID_RAWSZ > static_cast<size_t>(got)) return Error(Code::kMalformed, In(what) + "bad delta");
        git_oid_fromraw(&base, h + i);
        i += GIT_OID_RAWSZ;
        VOUCH_ASSIGN_OR_RETURN(std::optional<uint64_t> found, Find(base));
        if (!found) return Error(Code::kMalformed, In(what) + "a delta's base is not in its pack");
        base_at = *found;
      }
      uint64_t base_size = 0, result_size = 0;
      VOUCH_RETURN_IF_ERROR(DeltaSizes(pack_fd, at + i, &base_size, &result_size).Context(what));
      if (base_size > max_object) return over("a delta base", base_size, max_object);
      if (result_size > max_object) return over("a delta result", result_size, max_object);
      at = base_at;
    }
    return Error(Code::kTooLarge, In(what) + "object " + OidText(id) + " is a chain of over " + std::to_string(kMaxChain) + " deltas");
  }

  static int Read(void** data, size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* oid) {
    CheckedPack* self = Of(b);
    auto at = self->Find(*oid);
    if (!at.ok()) return self->Refuse(at.status());
    if (!*at) return GIT_ENOTFOUND;
    if (Status s = self->Check(*oid, **at); !s.ok()) return self->Refuse(std::move(s));
    return self->inner->read(data, len, type, self->inner, oid);
  }
  static int ReadHeader(size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* oid) {
    return Of(b)->inner->read_header(len, type, Of(b)->inner, oid);
  }
  static int Exists(git_odb_backend* b, const git_oid* oid) { return Of(b)->inner->exists(Of(b)->inner, oid); }
  static void Free(git_odb_backend* b) {
    if (Of(b)->inner) Of(b)->inner->free(Of(b)->inner);
    delete Of(b);
  }
};

// The socket under every network transport (git://, http://, and https:// under TLS),
// libgit2's own but for a bound on silence: libgit2 1.5 waits on a socket for ever, so a
// server that stops sending would stall a pull (or push) until it was interrupted. Each
// connect, read and write here waits at most the idle timeout.
std::atomic<int> idle_ms{60000};

struct TimedSocket {
  git_stream parent;
  std::string host, port;
  int fd = -1;

  static TimedSocket* Of(git_stream* s) { return reinterpret_cast<TimedSocket*>(s); }
  static int Fail(const std::string& msg) {
    git_error_set_str(GIT_ERROR_NET, msg.c_str());
    return -1;
  }
  // 1 when ready, 0 after the idle timeout, -1 on an error.
  static int Wait(int fd, short events) {
    struct pollfd p = {fd, events, 0};
    for (;;) {
      int rc = ::poll(&p, 1, idle_ms.load());
      if (rc < 0 && errno == EINTR) continue;
      return rc < 0 ? -1 : rc;
    }
  }
  std::string Silent() const {
    return host + ":" + port + " sent nothing for " + std::to_string(idle_ms.load() / 1000) + " s";
  }

  static int Connect(git_stream* s) {
    TimedSocket* self = Of(s);
    struct addrinfo hints = {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(self->host.c_str(), self->port.c_str(), &hints, &found); rc != 0) {
      return Fail("cannot resolve " + self->host + ": " + ::gai_strerror(rc));
    }
    std::unique_ptr<struct addrinfo, void (*)(struct addrinfo*)> owned(found, ::freeaddrinfo);
    std::string why = "no address";
    for (struct addrinfo* a = found; a; a = a->ai_next) {
      Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
      if (fd.get() < 0) continue;
      if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
          why = std::strerror(errno);
          continue;
        }
        int ready = Wait(fd.get(), POLLOUT), err = 0;
        socklen_t len = sizeof err;
        if (ready == 0) {
          why = "no answer for " + std::to_string(idle_ms.load() / 1000) + " s";
          continue;
        }
        if (ready < 0 || ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
          why = std::strerror(err ? err : errno);
          continue;
        }
      }
      self->fd = fd.release();
      return 0;
    }
    return Fail("cannot connect to " + self->host + ":" + self->port + ": " + why);
  }
  static ssize_t Read(git_stream* s, void* data, size_t len) {
    TimedSocket* self = Of(s);
    for (;;) {
      ssize_t n = ::recv(self->fd, data, len, 0);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return Fail(std::string("error receiving data: ") + std::strerror(errno));
      int ready = Wait(self->fd, POLLIN);
      if (ready == 0) return Fail(self->Silent());
      if (ready < 0) return Fail(std::string("error receiving data: ") + std::strerror(errno));
    }
  }
  static ssize_t Write(git_stream* s, const char* data, size_t len, int flags) {
    TimedSocket* self = Of(s);
    for (;;) {
      ssize_t n = ::send(self->fd, data, len, flags | MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return Fail(std::string("error sending data: ") + std::strerror(errno));
      int ready = Wait(self->fd, POLLOUT);
      if (ready == 0) return Fail(self->host + ":" + self->port + " took nothing for " + std::to_string(idle_ms.load() / 1000) + " s");
      if (ready < 0) return Fail(std::string("error sending data: ") + std::strerror(errno));
    }
  }
  static int Close(git_stream* s) {
    TimedSocket* self = Of(s);
    if (self->fd >= 0) ::close(std::exchange(self->fd, -1));
    return 0;
  }
  static void Free(git_stream* s) {
    Close(s);
    delete Of(s);
  }
  static int New(git_stream** out, const char* host, const char* port) {
    auto* self = new TimedSocket{};
    self->parent.version = GIT_STREAM_VERSION;
    self->parent.connect = Connect;
    self->parent.read = Read;
    self->parent.write = Write;
    self->parent.close = Close;
    self->parent.free = Free;
    self->host = host;
    self->port = port;
    *out = &self->parent;
    return 0;
  }
};

constexpr const char* kPullPrefix = "pull-";

// Removes quarantines left by pulls that were killed: their lock is free. A minute's grace
// covers a pull that has made its directory but not yet locked it.
void SweepQuarantines(const std::string& vouch_dir) {
  DIR* d = ::opendir(vouch_dir.c_str());
  if (!d) return;
  std::unique_ptr<DIR, int (*)(DIR*)> owned(d, ::closedir);
  std::vector<std::string> stale;
  while (struct dirent* e = ::readdir(d)) {
    if (std::strncmp(e->d_name, kPullPrefix, std::strlen(kPullPrefix)) != 0) continue;
    std::string path = vouch_dir + "/" + e->d_name;
    Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st;
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || st.st_mtime + 60 > ::time(nullptr)) continue;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) stale.push_back(path);
  }
  std::error_code ec;
  for (const auto& p : stale) std::filesystem::remove_all(p, ec);
}

}  // namespace

Result<Quarantine> Quarantine::Make(const Repository& cache) {
  std::string cache_dir = cache.path();  // absolute, ends in '/'
  std::string vouch_dir = cache_dir + "vouch";
  SweepQuarantines(vouch_dir);
  std::string dir = vouch_dir + "/" + kPullPrefix + "XXXXXX";
  if (!::mkdtemp(dir.data())) return Error(Code::kIo, vouch_dir + ": cannot make a quarantine: " + std::strerror(errno));
  Quarantine q;
  q.dir_ = dir;
  q.lock_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (q.lock_fd_ < 0 || ::flock(q.lock_fd_, LOCK_EX) != 0) return Error(Code::kIo, dir + ": cannot lock");
  std::string git_dir = dir + "/git";
  {
    git_repository* created = nullptr;
    if (git_repository_init(&created, git_dir.c_str(), /*is_bare=*/1) != 0) return Fail(Code::kIo, git_dir);
    RepoPtr closed(created);  // opened again below, once alternates name the cache
  }
  // The cache's objects, read through alternates: a fetch finds what the cache has (thin
  // packs resolve against it) and writes only here.
  std::string alternates = git_dir + "/objects/info/alternates";
  std::string line = cache_dir + "objects\n";
  VOUCH_RETURN_IF_ERROR(WriteFileAtomic(alternates, ByteView(reinterpret_cast<const uint8_t*>(line.data()), line.size())));
  VOUCH_ASSIGN_OR_RETURN(q.repo_, Repository::Open(git_dir));
  return q;
}

Quarantine::Quarantine(Quarantine&& o) noexcept
    : dir_(std::move(o.dir_)),
      lock_fd_(std::exchange(o.lock_fd_, -1)),
      pinned_(std::move(o.pinned_)),
      refusal_(std::move(o.refusal_)),
      refusal_mu_(std::move(o.refusal_mu_)),
      repo_(std::move(o.repo_)) {
  o.dir_.clear();
  o.pinned_.clear();
}

Quarantine::~Quarantine() {
  repo_ = Repository();  // before the files it reads are closed
  for (int fd : pinned_) ::close(fd);
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::optional<ObjectId>> Quarantine::OpenLocal(const std::string& path, const std::string& what,
                                                      const LocalRemoteLimits& limits) {
  VOUCH_ASSIGN_OR_RETURN(int repo_fd, OpenRepository(path, what));
  Fd repo(repo_fd);
  Fd objects(OpenAt(repo.get(), "objects", O_DIRECTORY));
  if (objects.get() < 0) return Error(Code::kUnsupported, In(what) + "objects is not a plain directory");
  git_odb* odb = nullptr;
  if (git_repository_odb(&odb, repo_.handle()) != 0) return Fail(Code::kIo, "object database");
  OdbPtr odb_owned(odb);
  std::string links = dir_ + "/remote";
  if (::mkdir(links.c_str(), 0700) != 0) return Error(Code::kIo, links + ": cannot make");

  // Packs: each index and pack opened here, checked, and kept open; libgit2 is given links
  // to these open files, so what it reads is what was checked.
  Fd pack_dir(OpenAt(objects.get(), "pack", O_DIRECTORY));
  if (pack_dir.get() < 0 && errno != ENOENT) return Error(Code::kUnsupported, In(what) + "objects/pack is not a plain directory");
  if (pack_dir.get() >= 0) {
    DIR* d = ::fdopendir(::dup(pack_dir.get()));
    if (!d) return Error(Code::kIo, In(what) + "cannot list objects/pack");
    std::unique_ptr<DIR, int (*)(DIR*)> listing(d, ::closedir);
    std::vector<std::string> indexes;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".idx") == 0) indexes.push_back(name.substr(0, name.size() - 4));
    }
    std::sort(indexes.begin(), indexes.end());
    if (indexes.size() > limits.max_packs) {
      return Error(Code::kTooLarge, In(what) + "has " + std::to_string(indexes.size()) + " packs, over the cap of " +
                                        std::to_string(limits.max_packs));
    }
    for (size_t i = 0; i < indexes.size(); ++i) {
      std::string base = "objects/pack/" + indexes[i];
      VOUCH_ASSIGN_OR_RETURN(int pack_fd, OpenRegular(pack_dir.get(), indexes[i] + ".pack", what));
      if (pack_fd < 0) continue;  // an index without its pack: git ignores it too
      pinned_.push_back(pack_fd);
      VOUCH_ASSIGN_OR_RETURN(int idx_fd, OpenRegular(pack_dir.get(), indexes[i] + ".idx", what));
      if (idx_fd < 0) return Error(Code::kIo, In(what) + base + ".idx vanished");
      pinned_.push_back(idx_fd);
      std::string link = links + "/p" + std::to_string(i);
      if (::symlink(("/proc/self/fd/" + std::to_string(idx_fd)).c_str(), (link + ".idx").c_str()) != 0 ||
          ::symlink(("/proc/self/fd/" + std::to_string(pack_fd)).c_str(), (link + ".pack").c_str()) != 0) {
        return Error(Code::kIo, link + ": cannot link");
      }
      auto* checked = new CheckedPack{};
      if (git_odb_init_backend(&checked->parent, GIT_ODB_BACKEND_VERSION) != 0 ||
          git_odb_backend_one_pack(&checked->inner, (link + ".idx").c_str()) != 0) {
        CheckedPack::Free(&checked->parent);
        return Fail(Code::kMalformed, In(what) + base + ".idx");
      }
      checked->idx_fd = idx_fd;
      checked->pack_fd = pack_fd;
      checked->max_object = limits.max_object;
      checked->what = In(what) + base + ".pack";
      checked->refusal = {refusal_.get(), refusal_mu_.get()};
      checked->parent.read = CheckedPack::Read;
      checked->parent.read_header = CheckedPack::ReadHeader;
      checked->parent.exists = CheckedPack::Exists;
      checked->parent.free = CheckedPack::Free;
      if (Status s = checked->LoadFanout(); !s.ok()) {
        CheckedPack::Free(&checked->parent);
        return s;
      }
      // An alternate: read from, never written to.
      if (git_odb_add_alternate(odb, &checked->parent, 2) != 0) {
        CheckedPack::Free(&checked->parent);
        return Fail(Code::kInternal, "odb backend");
      }
    }
  }

  // Loose objects, checked and copied one by one when they are looked up.
  std::string copies = dir_ + "/loose";
  if (::mkdir(copies.c_str(), 0700) != 0) return Error(Code::kIo, copies + ": cannot make");
  auto* loose = new LooseCopier{};
  if (git_odb_init_backend(&loose->parent, GIT_ODB_BACKEND_VERSION) != 0 ||
      git_odb_backend_loose(&loose->inner, copies.c_str(), -1, 0, 0, 0) != 0) {
    LooseCopier::Free(&loose->parent);
    return Fail(Code::kInternal, "odb backend");
  }
  loose->objects_fd = objects.release();
  loose->copies = copies;
  loose->max_file = limits.max_loose;
  loose->what = what;
  loose->refusal = {refusal_.get(), refusal_mu_.get()};
  loose->parent.read = LooseCopier::Read;
  loose->parent.read_header = LooseCopier::ReadHeader;
  loose->parent.exists = LooseCopier::Exists;
  loose->parent.free = LooseCopier::Free;
  if (git_odb_add_alternate(odb, &loose->parent, 0) != 0) {  // looked at last
    LooseCopier::Free(&loose->parent);
    return Fail(Code::kInternal, "odb backend");
  }
  VOUCH_ASSIGN_OR_RETURN(incoming_log_, ReadBranch(repo.get(), kLogBranch, what, limits));
  return ReadBranch(repo.get(), kVouchersRef, what, limits);
}

Result<std::optional<ObjectId>> Quarantine::IncomingLog() const {
  if (incoming_log_) return incoming_log_;
  return repo_.Resolve(kIncomingLog);  // where a fetch put it, if the remote has one
}

Status Quarantine::GuardFetch(uint64_t max_object) {
  git_odb* odb = nullptr;
  if (git_repository_odb(&odb, repo_.handle()) != 0) return Fail(Code::kIo, "object database");
  OdbPtr owned(odb);
  auto* g = new GuardedPacks{};
  std::string objects = dir_ + "/git/objects";
  if (git_odb_init_backend(&g->parent, GIT_ODB_BACKEND_VERSION) != 0 || git_odb_backend_pack(&g->inner, objects.c_str()) != 0) {
    GuardedPacks::Free(&g->parent);
    return Fail(Code::kInternal, "odb backend");
  }
  g->max_object = max_object;
  g->refusal = {refusal_.get(), refusal_mu_.get()};
  g->parent.writepack = GuardedPacks::WritePack;
  g->parent.read_header = GuardedPacks::ReadHeader;
  g->parent.free = GuardedPacks::Free;
  if (git_odb_add_backend(odb, &g->parent, 100) != 0) {  // above the pack backend (2): written through first
    GuardedPacks::Free(&g->parent);
    return Fail(Code::kInternal, "odb backend");
  }
  return Status::Ok();
}

uint64_t Quarantine::PackBytes() const {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/git/objects/pack", ec)) {
    if (e.path().extension() == ".pack") total += e.file_size(ec);
  }
  return total;
}

// Always a pack (or packs) of the verified objects, written from here. The pack a fetch left
// was once moved in as it was when the remote had sent exactly the verified objects, judged
// by their count; with the ids kept on disk and not made unique (IdSpool: an object met twice
// is noted twice), a remote could pad its pack with objects nothing verified reaches up to
// the count of repeats it caused (sibling commits adding the same files), and they would have
// been kept. Re-packing costs a pull its delta search; it keeps only what was verified.
Result<uint64_t> Quarantine::Adopt(const Repository& cache, IdSpool& ids) {
  if (ids.size() == 0) return uint64_t{0};
  return WritePack(repo_, ids, cache);
}

Status BoundNetworkSilence(int seconds) {
  idle_ms = seconds * 1000;
  static std::once_flag once;
  static int rc = 0;
  std::call_once(once, [] {
    git_stream_registration timed = {GIT_STREAM_VERSION, TimedSocket::New, nullptr};
    rc = git_stream_register(GIT_STREAM_STANDARD, &timed);
  });
  return rc == 0 ? Status::Ok() : Fail(Code::kInternal, "stream registration");
}

Status CheckLocalRemote(const std::string& path, const std::string& what) {
  VOUCH_ASSIGN_OR_RETURN(int fd, OpenRepository(path, what));
  ::close(fd);
  return Status::Ok();
}

}  // namespace vouch::cache::git
