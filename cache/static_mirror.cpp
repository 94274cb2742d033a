#include "cache/static_mirror.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "cache/git/object_id.h"
#include "cache/sources.h"
#include "formats/bundle.h"
#include "formats/layout.h"
#include "libvoucher/udf.h"
#include "libvoucher/file.h"

namespace vouch::cache {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kSeenFolder = "static-pulled";  // under <cache>/vouch/, a file per tree

// Where the ids pulled from `url` are remembered: one file per tree (its URL without user or
// password, without a trailing '/'), so pulling two trees in turn keeps both.
fs::path SeenFile(const Cache& cache, const std::string& url) {
  std::string key = http::Redact(url);
  while (!key.empty() && key.back() == '/') key.pop_back();
  return cache.path() / "vouch" / std::string(kSeenFolder) / git::ObjectId::OfBlob(AsBytes(key)).Hex();
}

// Leftovers of runs that were killed (a run removes its own): old enough that no live run
// can own them.
void RemoveStale(const fs::path& dir, std::string_view prefix, long older_than_seconds) {
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().filename().string().rfind(prefix, 0) != 0 || it->is_symlink(ec)) continue;
    auto age = std::chrono::duration_cast<std::chrono::seconds>(now - it->last_write_time(ec)).count();
    if (!ec && age > older_than_seconds) fs::remove_all(it->path(), ec);
  }
}

// A temporary file inside `dir`, removed when dropped unless kept.
class TempFile {
 public:
  static Result<TempFile> In(const fs::path& dir) {
    TempFile t;
    std::string name = (dir / ".vouch-download-XXXXXX").string();
    int fd = ::mkstemp(name.data());
    if (fd < 0) return Error(Code::kIo, dir.string() + ": cannot create a temporary file");
    t.fd_.reset(fd);
    t.path_ = name;
    // mkstemp makes 0600; a shard is public, and a device's medium reader runs as another
    // user (DESIGN.md 9), so the file on a stick must be readable by all, as bundles are.
    // FAT and exFAT sticks have no modes (their mount options decide): EPERM there is fine.
    if (::fchmod(fd, 0644) != 0 && errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP) {
      return Error(Code::kIo, name + ": cannot set its mode");
    }
    return t;
  }
  TempFile() = default;
  TempFile(TempFile&& o) noexcept : fd_(std::move(o.fd_)), path_(std::move(o.path_)) { o.path_.clear(); }
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  int fd() const { return fd_.get(); }
  const fs::path& path() const { return path_; }
  // Renames it to `to` (same filesystem: the same folder tree) and keeps it.
  Status RenameTo(const fs::path& to) {
    if (::rename(path_.c_str(), to.c_str()) != 0) return Error(Code::kIo, to.string() + ": cannot rename the download into place");
    path_.clear();
    return SyncDirectory(to.parent_path());
  }
  // The same, to `name` in the folder open as `dir` (never through a link: ShardFolder).
  Status RenameAt(int dir, const std::string& name, const fs::path& shown) {
    if (::renameat(AT_FDCWD, path_.c_str(), dir, name.c_str()) != 0) {
      return Error(Code::kIo, shown.string() + ": cannot rename the download into place");
    }
    path_.clear();
    if (::fsync(dir) != 0) return Error(Code::kIo, shown.parent_path().string() + ": fsync failed");
    return Status::Ok();
  }

 private:
  UniqueFd fd_;
  fs::path path_;
};

// Checks the shard open as `fd` (named `shown`, a URL or a path) as any bundle (the reader
// rules), then as the one the index names: its size, its id, its prefix, its count, every
// voucher's id.
Status CheckShardFile(int fd, const std::string& shown, const IndexEntry& e) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return Error(Code::kUnsupported, shown + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) != e.size) {
    return Error(Code::kTruncated, shown + ": " + std::to_string(st.st_size) + " bytes, the index declares " + std::to_string(e.size));
  }
  // Opened under the shard's own name, so a manifest of another id is kNameMismatch.
  VOUCH_ASSIGN_OR_RETURN(formats::Bundle b, formats::Bundle::OpenFd(fd, fs::path(shown)));
  if (b.id() != e.id) return Error(Code::kNameMismatch, shown + ": its manifest is bundle " + b.id());
  VOUCH_RETURN_IF_ERROR(b.CheckShard(e.prefix));
  size_t vouchers = 0;
  for (const auto& m : b.manifest().entries) vouchers += m.proof ? 0 : 1;
  if (vouchers != e.vouchers) {
    return Error(Code::kManifestMismatch, shown + ": holds " + std::to_string(vouchers) + " vouchers, the index says " + std::to_string(e.vouchers));
  }
  return b.ReadAll().status();  // every voucher against its id
}

// Downloads one shard into a temporary file in `dir` and checks it (CheckShardFile). Nothing
// is renamed here.
Result<TempFile> DownloadShard(const std::string& url, const IndexEntry& e, const fs::path& dir, const http::Limits& limits) {
  VOUCH_ASSIGN_OR_RETURN(TempFile t, TempFile::In(dir));
  std::string from = http::Join(url, PublishIndex::ShardPath(e));
  VOUCH_ASSIGN_OR_RETURN(uint64_t got, http::Get(from, t.fd(), e.size, limits));
  std::string shown = http::Redact(from);
  if (got != e.size) {
    return Error(Code::kTruncated, shown + ": " + std::to_string(got) + " bytes of the " + std::to_string(e.size) + " the index declares");
  }
  if (::fsync(t.fd()) != 0) return Error(Code::kIo, t.path().string() + ": fsync failed");
  VOUCH_RETURN_IF_ERROR(CheckShardFile(t.fd(), shown, e));
  return t;
}

// The folder of a shard on a stick, `<out>/vouch.vshards/<prefix>`, opened one level at a
// time without following a link (a stick is hostile: a link there could send the carrier's
// downloads anywhere), each level made when missing and, when made, recorded in `made`
// (outermost first) so a failed fetch can take it back.
Result<UniqueFd> ShardFolder(int out, const std::string& relative, const fs::path& shown, std::vector<fs::path>* made) {
  UniqueFd dir(::dup(out));
  if (dir.get() < 0) return Error(Code::kIo, shown.string() + ": dup failed");
  fs::path at = shown;
  for (const auto& part : fs::path(relative)) {
    at /= part;
    std::string name = part.string();
    int fd = ::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && made) {  // no `made`: look, never create
      if (::mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST) return Error(Code::kIo, at.string() + ": cannot create directory");
      if (made) made->push_back(at);
      fd = ::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      return Error(errno == ELOOP || errno == ENOTDIR ? Code::kSymlinkEntry : Code::kIo,
                   at.string() + (errno == ELOOP || errno == ENOTDIR ? ": a link or a file, not a folder: refused" : ": cannot open"));
    }
    dir.reset(fd);
  }
  return dir;
}

// Whether the stick already holds the shard, whole and correct; anything else there under its
// name (a link, a short or damaged file) is not "present" and is replaced.
bool HasShard(int out, const fs::path& out_path, const IndexEntry& e) {
  std::string rel = PublishIndex::ShardPath(e);
  fs::path p(rel);
  auto dir = ShardFolder(out, p.parent_path().string(), out_path, nullptr);
  if (!dir.ok()) return false;
  UniqueFd fd(::openat(dir->get(), p.filename().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return false;
  return CheckShardFile(fd.get(), (out_path / rel).string(), e).ok();
}

Status CheckBudget(const std::vector<IndexEntry>& want, size_t max_shards, uint64_t max_bytes) {
  if (want.size() > max_shards) {
    return Error(Code::kTooLarge, std::to_string(want.size()) + " shards to download, over the cap of " + std::to_string(max_shards));
  }
  uint64_t total = 0;
  for (const auto& e : want) total += e.size;
  if (total > max_bytes) {
    return Error(Code::kTooLarge, std::to_string(total) + " bytes of shards to download, over the cap of " + std::to_string(max_bytes));
  }
  return Status::Ok();
}

// The ids remembered for a tree: at most one index's worth of bundle ids, anything else in
// the file ignored (it is ours, but a cache folder is no place to trust blindly).
Result<std::set<std::string>> ReadSeen(const fs::path& file) {
  std::set<std::string> seen;
  if (!fs::exists(file)) return seen;
  VOUCH_ASSIGN_OR_RETURN(Bytes bytes, ReadFile(file, kMaxIndexEntries * 100, false));
  std::string text(bytes.begin(), bytes.end());
  for (size_t pos = 0; pos < text.size() && seen.size() < kMaxIndexEntries;) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string id = text.substr(pos, nl - pos);
    if (formats::CanonicalUdf(id, udf::kContentBits) == id) seen.insert(std::move(id));
    pos = nl + 1;
  }
  return seen;
}

}  // namespace

Result<PublishIndex> ReadStaticIndex(const std::string& url, const http::Limits& limits) {
  VOUCH_ASSIGN_OR_RETURN(Bytes bytes, http::GetBytes(http::Join(url, kIndexName), kMaxIndexSize, limits));
  auto index = DecodeIndex(bytes);
  if (!index.ok()) return index.status().Context(http::Redact(http::Join(url, kIndexName)));
  return index;
}

Result<std::optional<PublishIndex>> ProbeStaticMirror(const std::string& url, const http::Limits& limits) {
  std::string at = http::Join(url, kIndexName);
  auto bytes = http::GetBytes(at, kMaxIndexSize, limits);
  if (!bytes.ok() && bytes.status().code() == Code::kNotFound) return std::optional<PublishIndex>();
  if (!bytes.ok()) return bytes.status();
  // A page that is no index at all (a git host's answer to any path, say) is not a tree;
  // one that claims to be an index and does not read is refused, never read as git.
  std::string_view head(reinterpret_cast<const char*>(bytes->data()), std::min<size_t>(bytes->size(), 12));
  if (head != "vouch-index/") return std::optional<PublishIndex>();
  auto index = DecodeIndex(*bytes);
  if (!index.ok()) return index.status().Context(http::Redact(at));
  return std::optional<PublishIndex>(std::move(*index));
}

Result<StaticFetchReport> FetchStaticShards(const std::string& url, const std::set<std::string>& devices, const fs::path& out,
                                            const StaticLimits& limits, const StaticProgress& progress) {
  http::Limits http = limits.http;
  http.deadline = http::Deadline(limits.fetch_seconds);
  VOUCH_ASSIGN_OR_RETURN(PublishIndex index, ReadStaticIndex(url, http));
  StaticFetchReport report;
  std::map<std::string, IndexEntry> want;  // by shard path: two devices may share a shard
  for (const auto& d : devices) {
    auto e = index.ForDevice(d);
    if (!e) {
      report.missing.push_back(d);
      continue;
    }
    want.emplace(PublishIndex::ShardPath(*e), *e);
  }
  if (want.empty()) return Error(Code::kNotFound, http::Redact(url) + ": the index names no shard for the devices given");
  bool made_out = false;
  RemoveStale(out, ".vouch-download-", limits.fetch_seconds);
  if (!fs::exists(out)) {
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) return Error(Code::kIo, out.string() + ": cannot create directory: " + ec.message());
    made_out = true;
  }
  // `out` is the carrier's own choice and may be a link; below it nothing is followed.
  UniqueFd out_fd(::open(out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (out_fd.get() < 0) return Error(Code::kIo, out.string() + ": cannot open the folder");
  std::vector<IndexEntry> fetch;
  for (const auto& [path, e] : want) {
    if (HasShard(out_fd.get(), out, e)) {
      report.present.push_back(e);
    } else {
      fetch.push_back(e);
    }
  }
  std::vector<fs::path> made;  // what this run created, to take back on failure
  std::vector<fs::path> placed;
  auto undo = [&](Status s) {
    std::error_code ec;
    for (const auto& p : placed) fs::remove(p, ec);
    for (auto it = made.rbegin(); it != made.rend(); ++it) fs::remove(*it, ec);  // innermost first, only when empty
    if (made_out) fs::remove(out, ec);  // only when empty: it was ours
    return s;
  };
  if (Status s = CheckBudget(fetch, limits.max_shards, limits.max_fetch_bytes); !s.ok()) return undo(s);
  // Every download checked before the first rename: a refusal leaves `out` as it was.
  std::vector<TempFile> done;
  for (const auto& e : fetch) {
    auto t = DownloadShard(url, e, out, http);
    if (!t.ok()) {
      done.clear();
      return undo(t.status());
    }
    report.bytes += e.size;
    done.push_back(std::move(*t));
    if (progress) progress(done.size(), fetch.size(), report.bytes);
  }
  // And a failure while placing them (a full or pulled stick) takes back what was placed: a
  // stick holds all the shards of a run or none.
  for (size_t i = 0; i < fetch.size(); ++i) {
    fs::path rel(PublishIndex::ShardPath(fetch[i]));
    auto dir = ShardFolder(out_fd.get(), rel.parent_path().string(), out, &made);
    if (!dir.ok()) return undo(dir.status());
    if (Status s = done[i].RenameAt(dir->get(), rel.filename().string(), out / rel); !s.ok()) return undo(s);
    placed.push_back(out / rel);
    report.downloaded.push_back(fetch[i]);
  }
  return report;
}

namespace {

// One group of a pull: downloaded and checked into a folder of its own beside the cache's
// files (dropped whatever happens), then imported in one Cache::Add. A shard that fails its
// checks fails the group before anything of it is imported; vouchers the cache's own rules
// refuse are reported in `added->refused`, the others committed.
Status PullGroup(Cache& cache, const std::string& url, const std::vector<IndexEntry>& group, const http::Limits& http,
                 const std::function<void(const IndexEntry&)>& downloaded, AddReport* added,
                 std::vector<std::pair<IndexEntry, Status>>* failed) {
  std::string tmpl = (cache.path() / "vouch" / "static-pull-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return Error(Code::kIo, tmpl + ": cannot create a temporary folder");
  fs::path dir = tmpl;
  struct Drop {
    fs::path dir;
    ~Drop() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } drop{dir};
  size_t good = 0;
  for (const auto& e : group) {
    auto t = DownloadShard(url, e, dir, http);
    // A shard that fails its checks is left out (and not remembered: the next pull tries it
    // again); trouble with the network, the disk or the time budget (io) ends the pull.
    if (!t.ok() && t.status().code() == Code::kIo) return t.status();
    if (!t.ok()) {
      failed->emplace_back(e, t.status());
      continue;
    }
    VOUCH_RETURN_IF_ERROR(t->RenameTo(dir / (e.id + "." + std::string(formats::kBundleExtension))));
    downloaded(e);
    ++good;
  }
  if (good == 0) return Status::Ok();
  // The normal import: each bundle read again by its reader, each voucher by the cache's rules.
  VOUCH_ASSIGN_OR_RETURN(SourceReader sources, SourceReader::Open({dir.string()}, SourceReader::kBatch, SourceReader::Bundles::kRead,
                                                                  SourceReader::Receipts::kSkip));
  VOUCH_ASSIGN_OR_RETURN(*added, cache.Add([&](std::vector<Offered>* b) { return sources.Next(b); }, http::Redact(url)));
  // The shards were checked whole above: a bundle the reader refuses now is a bug or a race.
  if (!sources.refused().empty()) {
    const auto& r = sources.refused().front();
    return Error(r.status.code(), r.source + ": " + r.status.message());
  }
  return Status::Ok();
}

}  // namespace

Result<StaticPullReport> PullStatic(Cache& cache, const std::string& url, const PublishIndex& index, const StaticLimits& limits,
                                    const StaticProgress& progress) {
  fs::path seen_file = SeenFile(cache, url);
  VOUCH_ASSIGN_OR_RETURN(std::set<std::string> seen_before, ReadSeen(seen_file));
  RemoveStale(cache.path() / "vouch", "static-pull-", limits.pull_seconds);
  http::Limits http = limits.http;
  http.deadline = http::Deadline(limits.pull_seconds);
  StaticPullReport report;
  report.shards = index.entries.size();
  // Only the ids of this index are remembered: shards a publisher has since replaced drop out,
  // so the file stays the size of one index however often the tree is republished.
  std::set<std::string> seen;
  std::vector<IndexEntry> fetch;
  for (const auto& e : index.entries) {
    if (seen_before.count(e.id)) {
      seen.insert(e.id);
    } else {
      fetch.push_back(e);
    }
  }
  bool pruned = seen.size() != seen_before.size();
  seen_before.clear();
  VOUCH_RETURN_IF_ERROR(CheckBudget(fetch, limits.max_shards, limits.max_pull_bytes));
  auto downloaded = [&](const IndexEntry& e) {
    report.bytes += e.size;
    ++report.new_shards;
    if (progress) progress(report.new_shards, fetch.size(), report.bytes);
  };
  auto remember = [&]() {
    std::string text;
    for (const auto& id : seen) text += id + "\n";
    std::error_code ec;
    fs::create_directories(seen_file.parent_path(), ec);
    if (ec) return Error(Code::kIo, seen_file.parent_path().string() + ": cannot create directory: " + ec.message());
    return WriteFileAtomic(seen_file, AsBytes(text));
  };
  for (size_t next = 0; next < fetch.size();) {
    std::vector<IndexEntry> group;
    uint64_t bytes = 0;
    for (; next < fetch.size() && (group.empty() || bytes + fetch[next].size <= limits.group_bytes); ++next) {
      bytes += fetch[next].size;
      group.push_back(fetch[next]);
    }
    AddReport added;
    std::vector<std::pair<IndexEntry, Status>> failed;
    VOUCH_RETURN_IF_ERROR(PullGroup(cache, url, group, http, downloaded, &added, &failed));
    report.added.added += added.added;
    report.added.receipts += added.receipts;
    report.added.present += added.present;
    if (!added.commit.empty()) report.added.commit = added.commit;
    report.refused_count += added.refused.size();
    for (auto& r : added.refused) {
      if (report.refused.size() < kMaxReportedRefusals) report.refused.push_back(std::move(r));
    }
    ++report.groups;
    // Remembered once committed, refusals and all: the shards are immutable, so reading them
    // again would refuse the same vouchers (cache/publish.md, "Pulling"). A crash before this
    // costs the next pull a download, no more.
    std::set<std::string> bad;
    for (auto& [e, s] : failed) {
      bad.insert(e.id);
      CandidateReport r;
      r.source = http::Redact(http::Join(url, PublishIndex::ShardPath(e)));
      r.id = e.id;
      r.status = std::move(s);
      report.failed_shards.push_back(std::move(r));
    }
    for (const auto& e : group) {
      if (!bad.count(e.id)) seen.insert(e.id);
    }
    VOUCH_RETURN_IF_ERROR(remember());
  }
  if (fetch.empty() && pruned) VOUCH_RETURN_IF_ERROR(remember());  // nothing new, old ids dropped
  return report;
}

}  // namespace vouch::cache
