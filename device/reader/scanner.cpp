#include "device/reader/scanner.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "formats/layout.h"
#include "libvoucher/file.h"

namespace vouch::device::reader {
namespace fs = std::filesystem;

Medium OpenMedium(const std::string& path) {
  // The medium's own path comes from the operator or udev, so it may be a link; links
  // found on the medium are never followed.
  Medium m;
  m.path = path;
  m.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (m.fd < 0) m.error = errno;
  return m;
}

namespace {

using Fd = UniqueFd;

// Every directory below a medium's root is reached with openat(O_NOFOLLOW | O_DIRECTORY),
// one component at a time, from the descriptor of its parent: no path is ever resolved
// again by name, so no link (not even an intermediate one) is followed, and each directory's
// device is checked against the medium's.
class Scanner {
 public:
  Scanner(const std::string& udf, const Limits& limits, Sink& sink, const GitCaches* git)
      : udf_(udf), limits_(limits), sink_(sink), git_(git), start_(std::chrono::steady_clock::now()) {
    auto dir = formats::DeviceDirectory(udf);
    device_dir_ = dir.ok() ? *dir : std::string();
    if (auto shards = formats::ShardPrefixes(udf); shards.ok()) shard_prefixes_ = *shards;
  }

  void Medium(const reader::Medium& m) {
    // The git reader walks media the first reader has reported on: it says nothing of them.
    if (git_ && m.fd < 0) return;
    if (m.fd < 0) {
      Code code = m.error == ENOENT || m.error == ENOTDIR ? Code::kNoMedium : Code::kIo;
      sink_.Refused(m.path, Error(code, m.path + ": cannot open the medium: " + std::strerror(m.error)));
      return;
    }
    struct stat st;
    if (::fstat(m.fd, &st) != 0) return;
    if (git_ && !S_ISDIR(st.st_mode)) return;
    if (S_ISREG(st.st_mode)) {
      if (fs::path(m.path).extension() == ".vbundle") BundleAt(m.fd, st, m.path);
      else sink_.Refused(m.path, Error(Code::kUnsupported, m.path + ": not a bundle (.vbundle) or a directory"));
      return;
    }
    if (!S_ISDIR(st.st_mode)) {
      sink_.Refused(m.path, Error(Code::kUnsupported, m.path + ": not a directory, bundle or mount point"));
      return;
    }
    device_ = st.st_dev;
    Walk(m.fd, m.path, 0);
  }

  void Finish() {
    for (const auto& n : notes_) sink_.Note(n);
  }

 private:
  void NoteOnce(const std::string& text) {
    if (std::find(notes_.begin(), notes_.end(), text) == notes_.end() && notes_.size() < 32) notes_.push_back(text);
  }
  bool TimeLeft() {
    if (std::chrono::steady_clock::now() - start_ < limits_.deadline) return true;
    NoteOnce("stopped looking after " + std::to_string(limits_.deadline.count() / 1000) + " s");
    return false;
  }
  bool Budget() {
    if (++dirents_ > limits_.max_dirents) {
      NoteOnce("stopped looking after " + std::to_string(limits_.max_dirents) + " directory entries");
      return false;
    }
    return (dirents_ & 1023) != 0 || TimeLeft();
  }
  // A file reached again through another hard link, or a second mount of one filesystem, is
  // not read again: every budget counts inodes, not names.
  bool FirstVisit(const struct stat& st) { return inodes_.insert({st.st_dev, st.st_ino}).second; }
  bool ChargeBytes(uint64_t n) {
    bytes_ += n;
    if (bytes_ <= limits_.max_bytes) return true;
    NoteOnce("stopped reading after " + std::to_string(limits_.max_bytes >> 20) + " MiB of vouchers");
    return false;
  }
  void Add(const std::string& source, ByteView bytes, const std::optional<Bytes>& proof) {
    if (sent_ >= limits_.max_vouchers) {
      NoteOnce("more than " + std::to_string(limits_.max_vouchers) + " vouchers for this device; the rest were not read");
      return;
    }
    ++sent_;
    sink_.Voucher(source, bytes, proof);
  }

  // A directory below `dir_fd`, by a relative path, with no link and no other filesystem on
  // the way; -1 when there is none.
  int OpenBeneath(int dir_fd, const std::string& rel) {
    int fd = ::dup(dir_fd);
    size_t start = 0;
    while (fd >= 0 && start <= rel.size()) {
      size_t slash = rel.find('/', start);
      std::string part = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      int next = ::openat(fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      ::close(fd);
      fd = next;
      struct stat st;
      if (fd >= 0 && (::fstat(fd, &st) != 0 || st.st_dev != device_)) {
        ::close(fd);
        fd = -1;
      }
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    return fd;
  }

  // Names in a directory with their lstat, links included (and then skipped by callers).
  std::vector<std::pair<std::string, struct stat>> List(int dir_fd) {
    std::vector<std::pair<std::string, struct stat>> out;
    int fd = ::dup(dir_fd);
    DIR* d = fd >= 0 ? ::fdopendir(fd) : nullptr;
    if (!d) {
      if (fd >= 0) ::close(fd);
      return out;
    }
    ::rewinddir(d);
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      if (!Budget()) break;
      struct stat st;
      if (::fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      out.emplace_back(std::move(name), st);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
  }

  void Walk(int dir_fd, const fs::path& dir, size_t depth) {
    if (depth > limits_.max_depth) {
      NoteOnce("directories deeper than " + std::to_string(limits_.max_depth) + " levels were not searched");
      return;
    }
    for (const auto& [name, st] : List(dir_fd)) {
      if (!TimeLeft()) return;
      fs::path p = dir / name;
      // Links are never followed (a link may lead off the medium), nor other filesystems entered.
      if (S_ISLNK(st.st_mode) || st.st_dev != device_) continue;
      if (S_ISDIR(st.st_mode)) {
        if (name == formats::kLayoutRoot) {
          if (!git_) LayoutTree(dir_fd, dir);
        } else if (name == formats::kShardDirectory) {
          if (git_) continue;
          int fd = OpenBeneath(dir_fd, name);
          if (fd >= 0) {
            Fd owned(fd);
            ShardSet(fd, p);
          }
        } else if (p.extension() == ".git") {
          GitCache(dir_fd, name, p);
        } else {
          int fd = OpenBeneath(dir_fd, name);
          if (fd >= 0) {
            Fd owned(fd);
            Walk(fd, p, depth + 1);
          }
        }
      } else if (!git_ && S_ISREG(st.st_mode) && p.extension() == ".vbundle") {
        BundleFile(dir_fd, name, st, p);
      }
      // FIFOs, sockets and devices are never opened.
    }
  }

  // `<root>/vouchers/...`: look only in this device's own directory.
  void LayoutTree(int root_fd, const fs::path& root) {
    if (device_dir_.empty()) return;
    int fd = OpenBeneath(root_fd, device_dir_);
    if (fd < 0) return;
    Fd owned(fd);
    auto listing = List(fd);
    for (const auto& [name, st] : listing) {
      if (!S_ISREG(st.st_mode) || !TimeLeft()) continue;
      std::string p = (root / device_dir_ / name).string();
      auto entry = formats::ParseLayoutPath(device_dir_ + "/" + name);
      if (!entry.ok()) continue;  // not a voucher file name (a proof is read with its voucher)
      if (!FirstVisit(st)) continue;
      auto bytes = ReadSmallFile(fd, name, st, p, limits_.bundle.max_voucher);
      if (!bytes) return;  // a budget ran out
      if (!bytes->ok()) {
        if (bytes->status().code() != Code::kNotFound) sink_.Refused(p, bytes->status());
        continue;
      }
      auto filed = formats::CheckFiled(*entry, std::move(**bytes), p);
      if (!filed.ok()) {
        sink_.Refused(p, filed.status());
        continue;
      }
      // Its proof, if one lies beside it (a regular file: links are not followed). The
      // listing is sorted, so it is found by name, not by a second look at the directory.
      std::optional<Bytes> proof;
      const std::string proof_name = name + std::string(formats::kProofSuffix);
      auto it = std::lower_bound(listing.begin(), listing.end(), proof_name,
                                 [](const auto& e, const std::string& n) { return e.first < n; });
      if (it != listing.end() && it->first == proof_name && S_ISREG(it->second.st_mode)) {
        std::string pp = p + std::string(formats::kProofSuffix);
        auto read = ReadSmallFile(fd, proof_name, it->second, pp, limits_.bundle.max_proof);
        if (!read) return;
        // A proof that cannot be read is said, and its voucher goes without it: the judge
        // then refuses it as not-logged if the device insists on a log.
        if (read->ok()) proof = std::move(**read);
        else if (read->status().code() != Code::kNotFound) sink_.Refused(pp, read->status());
      }
      Add(p, filed->bytes, proof);
    }
  }

  // One voucher or proof file in a device's directory, by name below `dir_fd`, counted
  // against the file and byte budgets; nullopt once a budget has run out (stop reading),
  // kNotFound when it is gone or not a plain file, kTooLarge over `cap` (known from its
  // size before it is read, so an oversize file costs nothing but a refusal).
  std::optional<Result<Bytes>> ReadSmallFile(int dir_fd, const std::string& name, const struct stat& st,
                                             const std::string& p, uint64_t cap) {
    if (++files_ > limits_.max_files) {
      NoteOnce("stopped after opening " + std::to_string(limits_.max_files) + " voucher files");
      return std::nullopt;
    }
    if (static_cast<uint64_t>(st.st_size) > cap) {
      return Result<Bytes>(Error(Code::kTooLarge, p + ": " + std::to_string(st.st_size) + " bytes is over the cap of " +
                                                      std::to_string(cap)));
    }
    if (!ChargeBytes(static_cast<uint64_t>(st.st_size))) return std::nullopt;
    int file = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (file < 0) return Result<Bytes>(Error(Code::kNotFound, p + ": cannot open"));
    Fd file_owned(file);
    return ReadOpenFile(file, cap, p);
  }

  // `vouch.vshards/<c1c2>/*.vbundle` and `vouch.vshards/<c1c2>/<c3c4>/*.vbundle`: only the
  // shards for this device's prefix are opened (formats/bundle.md, "Shards").
  void ShardSet(int shards_fd, const fs::path& dir) {
    for (const std::string& prefix : shard_prefixes_) {
      int fd = OpenBeneath(shards_fd, prefix);
      if (fd < 0) continue;
      Fd owned(fd);
      for (const auto& [name, st] : List(fd)) {
        if (S_ISREG(st.st_mode) && fs::path(name).extension() == ".vbundle") BundleFile(fd, name, st, dir / prefix / name, prefix);
      }
    }
  }

  // `*.git`: a copy of a cache; only this device's directory on its vouchers branch, read by
  // the git reader. The medium reader only says that there is one.
  void GitCache(int parent_fd, const std::string& name, const fs::path& p) {
    if (!git_) {
      if (caches_++ == 0) sink_.GitCaches();
      return;
    }
    if (++caches_ > limits_.max_git_caches) {
      NoteOnce("more than " + std::to_string(limits_.max_git_caches) + " git caches; the rest were not opened");
      return;
    }
    int fd = OpenBeneath(parent_fd, name);
    if (fd < 0) return;
    Fd owned(fd);
    Send(p.string(), git_->read(fd, p.string(), udf_, limits_, limits_.max_vouchers - std::min(sent_, limits_.max_vouchers)));
  }

  // What a bundle or a git cache gave for the device: each voucher as "<container>:<path>",
  // or the container refused whole.
  void Send(const std::string& container, const Result<std::vector<formats::PackedVoucher>>& vs) {
    if (!vs.ok()) {
      sink_.Refused(container, vs.status());
      return;
    }
    for (const auto& v : *vs) {
      if (!ChargeBytes(v.bytes.size() + (v.proof ? v.proof->size() : 0))) return;
      Add(container + ":" + v.path, v.bytes, v.proof);
    }
  }

  void BundleFile(int dir_fd, const std::string& name, const struct stat& st, const fs::path& p, const std::string& shard_prefix = "") {
    int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return;
    Fd owned(fd);
    BundleAt(fd, st, p, shard_prefix);
  }

  void BundleAt(int fd, const struct stat& st, const fs::path& p, const std::string& shard_prefix = "") {
    if (!FirstVisit(st) || !TimeLeft()) return;
    if (++bundles_ > limits_.max_bundles) {
      NoteOnce("more than " + std::to_string(limits_.max_bundles) + " bundles; the rest were not opened");
      return;
    }
    if (manifest_entries_ > limits_.max_manifest_entries) {
      NoteOnce("stopped opening bundles after checking " + std::to_string(limits_.max_manifest_entries) + " manifest entries");
      return;
    }
    auto b = formats::Bundle::OpenFd(fd, p, limits_.bundle);
    if (!b.ok()) {
      sink_.Refused(p.string(), b.status());
      return;
    }
    manifest_entries_ += b->manifest().entries.size();
    if (!shard_prefix.empty()) {
      if (Status s = b->CheckShard(shard_prefix); !s.ok()) {
        sink_.Refused(p.string(), s);
        return;
      }
    }
    Send(p.string(), b->ReadDevice(udf_));
  }

  std::string udf_, device_dir_;
  std::vector<std::string> shard_prefixes_;  // formats::ShardPrefixes
  Limits limits_;
  Sink& sink_;
  const GitCaches* git_;  // the git reader's: read git caches, and nothing else
  std::chrono::steady_clock::time_point start_;
  std::vector<std::string> notes_;
  std::set<std::pair<dev_t, ino_t>> inodes_;
  dev_t device_ = 0;
  size_t dirents_ = 0, bundles_ = 0, caches_ = 0, files_ = 0, sent_ = 0;
  uint64_t bytes_ = 0, manifest_entries_ = 0;
};

}  // namespace

void ScanMedia(const std::vector<Medium>& media, const std::string& device_udf, const Limits& limits, Sink& sink,
               const GitCaches* git) {
  Scanner s(device_udf, limits, sink, git);
  for (const auto& m : media) s.Medium(m);
  s.Finish();
}

}  // namespace vouch::device::reader
