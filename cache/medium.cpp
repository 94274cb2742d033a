#include "cache/medium.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "cache/git/medium.h"
#include "formats/layout.h"
#include "libvoucher/file.h"

#include <cstring>

namespace vouch::cache {
namespace fs = std::filesystem;

namespace {

// Every directory below a medium's root is reached with openat(O_NOFOLLOW | O_DIRECTORY),
// one component at a time, from the descriptor of its parent: no path is ever resolved
// again by name, so no link (not even an intermediate one) is followed, and each directory's
// device is checked against the medium's.
class Scanner {
 public:
  Scanner(const std::string& udf, const MediumLimits& limits) : udf_(udf), limits_(limits) {
    auto dir = formats::DeviceDirectory(udf);
    device_dir_ = dir.ok() ? *dir : std::string();
    // "vouchers/B5/SR/<UDF>" -> shard directories "B5" and "B5/SR"
    if (!device_dir_.empty()) prefix_ = device_dir_.substr(formats::kLayoutRoot.size() + 1, 5);
  }

  void Medium(const fs::path& root) {
    // The medium's own path comes from the operator or udev, so it may be a link; links
    // found on the medium are never followed.
    int fd = ::open(root.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      Refuse(root.string(), Error(Code::kNotFound, root.string() + ": no such medium"));
      return;
    }
    Fd owned(fd);
    struct stat st;
    if (::fstat(fd, &st) != 0) return;
    if (S_ISREG(st.st_mode)) {
      if (root.extension() == ".vbundle") BundleAt(fd, root);
      else Refuse(root.string(), Error(Code::kUnsupported, root.string() + ": not a bundle (.vbundle) or a directory"));
      return;
    }
    if (!S_ISDIR(st.st_mode)) {
      Refuse(root.string(), Error(Code::kUnsupported, root.string() + ": not a directory, bundle or mount point"));
      return;
    }
    device_ = st.st_dev;
    Walk(fd, root, 0);
  }

  Scan Take() { return std::move(scan_); }

 private:
  struct Fd {
    explicit Fd(int f) : fd(f) {}
    ~Fd() { if (fd >= 0) ::close(fd); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int fd;
  };

  void Refuse(const std::string& source, Status s) {
    CandidateReport r;
    r.source = source;
    r.status = std::move(s);
    scan_.refused.push_back(std::move(r));
  }
  bool Budget() {
    if (++dirents_ <= limits_.max_dirents) return true;
    if (!dirent_note_) scan_.notes.push_back("stopped looking after " + std::to_string(limits_.max_dirents) + " directory entries");
    dirent_note_ = true;
    return false;
  }
  void Add(const std::string& source, Bytes bytes) {
    if (scan_.found.size() >= limits_.max_vouchers) {
      if (!voucher_note_) scan_.notes.push_back("more than " + std::to_string(limits_.max_vouchers) + " vouchers for this device; the rest were not read");
      voucher_note_ = true;
      return;
    }
    scan_.found.push_back({source, std::move(bytes)});
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
      scan_.notes.push_back(dir.string() + ": deeper than " + std::to_string(limits_.max_depth) + " levels, not searched");
      return;
    }
    for (const auto& [name, st] : List(dir_fd)) {
      fs::path p = dir / name;
      // Links are never followed (a link may lead off the medium), nor other filesystems entered.
      if (S_ISLNK(st.st_mode) || st.st_dev != device_) continue;
      if (S_ISDIR(st.st_mode)) {
        if (name == formats::kLayoutRoot) {
          LayoutTree(dir_fd, dir);
        } else if (name == formats::kShardDirectory) {
          int fd = OpenBeneath(dir_fd, name);
          if (fd >= 0) { Fd owned(fd); ShardSet(fd, p); }
        } else if (p.extension() == ".git") {
          GitCache(dir_fd, name, p);
        } else {
          int fd = OpenBeneath(dir_fd, name);
          if (fd >= 0) { Fd owned(fd); Walk(fd, p, depth + 1); }
        }
      } else if (S_ISREG(st.st_mode) && p.extension() == ".vbundle") {
        BundleFile(dir_fd, name, p);
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
    for (const auto& [name, st] : List(fd)) {
      if (!S_ISREG(st.st_mode)) continue;
      fs::path p = root / device_dir_ / name;
      auto entry = formats::ParseLayoutPath(device_dir_ + "/" + name);
      if (!entry.ok()) continue;  // not a voucher file name: not ours to judge
      int file = ::openat(fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (file < 0) continue;
      Fd file_owned(file);
      auto bytes = ReadOpenFile(file, limits_.bundle.max_voucher, p.string());
      if (!bytes.ok()) {
        Refuse(p.string(), bytes.status());
        continue;
      }
      if (formats::VoucherId(entry->kind, *bytes) != entry->voucher_id) {
        Refuse(p.string(), Error(Code::kIdMismatch, p.string() + ": bytes do not have the id they are filed under"));
        continue;
      }
      Add(p.string(), std::move(*bytes));
    }
  }

  // `vouch.vshards/<c1c2>/*.vbundle` and `vouch.vshards/<c1c2>/<c3c4>/*.vbundle`: only the
  // shards for this device's prefix are opened (formats/bundle.md, "Shards").
  void ShardSet(int shards_fd, const fs::path& dir) {
    if (prefix_.empty()) return;
    for (std::string prefix : {prefix_.substr(0, 2), prefix_}) {
      int fd = OpenBeneath(shards_fd, prefix);
      if (fd < 0) continue;
      Fd owned(fd);
      for (const auto& [name, st] : List(fd)) {
        if (S_ISREG(st.st_mode) && fs::path(name).extension() == ".vbundle") BundleFile(fd, name, dir / prefix / name, prefix);
      }
    }
  }

  // `*.git`: a copy of a cache; only this device's directory on its vouchers branch.
  void GitCache(int parent_fd, const std::string& name, const fs::path& p) {
    int fd = OpenBeneath(parent_fd, name);
    if (fd < 0) return;
    Fd owned(fd);
    // libgit2 takes a path: the one of the directory just opened, pinned through /proc so
    // that no link swapped in by name can redirect it.
    std::string pinned = "/proc/self/fd/" + std::to_string(fd);
    auto vs = git::ReadDevice(fs::exists(pinned) ? fs::path(pinned) : p, p.string(), udf_, limits_.bundle.max_voucher,
                              limits_.max_vouchers);
    if (!vs.ok()) {
      Refuse(p.string(), vs.status());
      return;
    }
    for (auto& v : *vs) Add(p.string() + ":" + v.path, std::move(v.bytes));
  }

  void BundleFile(int dir_fd, const std::string& name, const fs::path& p, const std::string& shard_prefix = "") {
    int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return;
    Fd owned(fd);
    BundleAt(fd, p, shard_prefix);
  }

  void BundleAt(int fd, const fs::path& p, const std::string& shard_prefix = "") {
    if (++bundles_ > limits_.max_bundles) {
      if (bundles_ == limits_.max_bundles + 1) scan_.notes.push_back("more than " + std::to_string(limits_.max_bundles) + " bundles; the rest were not opened");
      return;
    }
    auto b = formats::Bundle::OpenFd(fd, p, limits_.bundle);
    if (!b.ok()) {
      Refuse(p.string(), b.status());
      return;
    }
    if (!shard_prefix.empty()) {
      std::string want = std::string(formats::kLayoutRoot) + "/" + shard_prefix + "/";
      for (const auto& e : b->manifest().entries) {
        if (e.path.compare(0, want.size(), want) != 0) {
          Refuse(p.string(), Error(Code::kManifestMismatch, p.string() + ": shard " + shard_prefix + " holds " + e.path));
          return;
        }
      }
    }
    auto vs = b->ReadDevice(udf_);
    if (!vs.ok()) {
      Refuse(p.string(), vs.status());
      return;
    }
    for (auto& v : *vs) Add(p.string() + ":" + v.path, std::move(v.bytes));
  }

  std::string udf_, device_dir_, prefix_;
  MediumLimits limits_;
  Scan scan_;
  dev_t device_ = 0;
  size_t dirents_ = 0, bundles_ = 0;
  bool dirent_note_ = false, voucher_note_ = false;
};

}  // namespace

Scan ScanMedia(const std::vector<fs::path>& media, const std::string& device_udf, const MediumLimits& limits) {
  Scanner s(device_udf, limits);
  for (const auto& m : media) s.Medium(m);
  return s.Take();
}

Result<FetchReport> Fetch(DeviceState& device, const std::vector<fs::path>& media, bool dry_run,
                          const MediumLimits& limits) {
  Scan scan = ScanMedia(media, device.identity().udf, limits);
  VOUCH_ASSIGN_OR_RETURN(EnrollReport report, Enroll(device, scan.found, dry_run));
  report.candidates.insert(report.candidates.end(), scan.refused.begin(), scan.refused.end());
  if (report.outcome == EnrollReport::Outcome::kNoVoucher && !scan.refused.empty()) {
    report.outcome = EnrollReport::Outcome::kAllRefused;
  }
  return FetchReport{std::move(report), std::move(scan.notes)};
}

}  // namespace vouch::cache
