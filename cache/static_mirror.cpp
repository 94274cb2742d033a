#include "cache/static_mirror.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "cache/sources.h"
#include "formats/bundle.h"
#include "libvoucher/file.h"

namespace vouch::cache {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kSeenFile = "static-shards";  // under <cache>/vouch/

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
    if (::fchmod(fd, 0644) != 0) return Error(Code::kIo, name + ": cannot set its mode");
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

 private:
  UniqueFd fd_;
  fs::path path_;
};

// Downloads one shard into a temporary file in `dir` and checks it as any bundle (the reader
// rules), then as the shard the index names: its id, its prefix, its count, every voucher's
// id. Nothing is renamed here.
Result<TempFile> DownloadShard(const std::string& url, const IndexEntry& e, const fs::path& dir, const http::Limits& limits) {
  VOUCH_ASSIGN_OR_RETURN(TempFile t, TempFile::In(dir));
  std::string shard = PublishIndex::ShardPath(e);
  std::string from = http::Join(url, shard);
  VOUCH_ASSIGN_OR_RETURN(uint64_t got, http::Get(from, t.fd(), e.size, limits));
  if (got != e.size) {
    return Error(Code::kTruncated, from + ": " + std::to_string(got) + " bytes of the " + std::to_string(e.size) + " the index declares");
  }
  if (::fsync(t.fd()) != 0) return Error(Code::kIo, t.path().string() + ": fsync failed");
  // Opened under the shard's own name, so a manifest of another id is kNameMismatch.
  VOUCH_ASSIGN_OR_RETURN(formats::Bundle b, formats::Bundle::OpenFd(t.fd(), fs::path(from)));
  if (b.id() != e.id) return Error(Code::kNameMismatch, from + ": its manifest is bundle " + b.id());
  VOUCH_RETURN_IF_ERROR(b.CheckShard(e.prefix));
  size_t vouchers = 0;
  for (const auto& m : b.manifest().entries) vouchers += m.proof ? 0 : 1;
  if (vouchers != e.vouchers) {
    return Error(Code::kManifestMismatch, from + ": holds " + std::to_string(vouchers) + " vouchers, the index says " + std::to_string(e.vouchers));
  }
  VOUCH_RETURN_IF_ERROR(b.ReadAll().status());  // every voucher against its id
  return t;
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

Result<std::set<std::string>> ReadSeen(const fs::path& file) {
  std::set<std::string> seen;
  if (!fs::exists(file)) return seen;
  VOUCH_ASSIGN_OR_RETURN(Bytes bytes, ReadFile(file, 64ull << 20, false));
  std::string text(bytes.begin(), bytes.end());
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (nl > pos) seen.insert(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return seen;
}

}  // namespace

Result<PublishIndex> ReadStaticIndex(const std::string& url, const http::Limits& limits) {
  VOUCH_ASSIGN_OR_RETURN(Bytes bytes, http::GetBytes(http::Join(url, kIndexName), kMaxIndexSize, limits));
  auto index = DecodeIndex(bytes);
  if (!index.ok()) return index.status().Context(http::Join(url, kIndexName));
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
  if (!index.ok()) return index.status().Context(at);
  return std::optional<PublishIndex>(std::move(*index));
}

Result<StaticFetchReport> FetchStaticShards(const std::string& url, const std::set<std::string>& devices, const fs::path& out,
                                            const StaticLimits& limits, const StaticProgress& progress) {
  VOUCH_ASSIGN_OR_RETURN(PublishIndex index, ReadStaticIndex(url, limits.http));
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
  if (want.empty()) return Error(Code::kNotFound, url + ": the index names no shard for the devices given");
  std::vector<IndexEntry> fetch;
  for (const auto& [path, e] : want) {
    if (fs::exists(out / path)) {
      report.present.push_back(e);
    } else {
      fetch.push_back(e);
    }
  }
  VOUCH_RETURN_IF_ERROR(CheckBudget(fetch, limits.max_shards, limits.max_fetch_bytes));
  bool made_out = false;
  if (!fetch.empty() && !fs::exists(out)) {
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) return Error(Code::kIo, out.string() + ": cannot create directory: " + ec.message());
    made_out = true;
  }
  // Every download checked before the first rename: a refusal leaves `out` as it was.
  std::vector<TempFile> done;
  for (const auto& e : fetch) {
    auto t = DownloadShard(url, e, out, limits.http);
    if (!t.ok()) {
      done.clear();
      if (made_out) {
        std::error_code ec;
        fs::remove(out, ec);  // only when empty: it was ours
      }
      return t.status();
    }
    report.bytes += e.size;
    done.push_back(std::move(*t));
    if (progress) progress(done.size(), fetch.size(), report.bytes);
  }
  for (size_t i = 0; i < fetch.size(); ++i) {
    fs::path to = out / PublishIndex::ShardPath(fetch[i]);
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    if (ec) return Error(Code::kIo, to.parent_path().string() + ": cannot create directory: " + ec.message());
    VOUCH_RETURN_IF_ERROR(done[i].RenameTo(to));
    report.downloaded.push_back(fetch[i]);
  }
  return report;
}

namespace {

// One group of a pull: downloaded and checked into a folder of its own beside the cache's
// files (dropped whatever happens), then imported in one Cache::Add.
Status PullGroup(Cache& cache, const std::string& url, const std::vector<IndexEntry>& group, const StaticLimits& limits,
                 const std::function<void(const IndexEntry&)>& downloaded, AddReport* added) {
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
  for (const auto& e : group) {
    VOUCH_ASSIGN_OR_RETURN(TempFile t, DownloadShard(url, e, dir, limits.http));
    VOUCH_RETURN_IF_ERROR(t.RenameTo(dir / (e.id + "." + std::string(formats::kBundleExtension))));
    downloaded(e);
  }
  // The normal import: each bundle read again by its reader, each voucher by the cache's rules.
  VOUCH_ASSIGN_OR_RETURN(SourceReader sources, SourceReader::Open({dir.string()}, SourceReader::kBatch, SourceReader::Bundles::kRead,
                                                                  SourceReader::Receipts::kSkip));
  VOUCH_ASSIGN_OR_RETURN(*added, cache.Add([&](std::vector<Offered>* b) { return sources.Next(b); }, url));
  std::vector<CandidateReport> refused = sources.refused();
  refused.insert(refused.end(), added->refused.begin(), added->refused.end());
  if (!refused.empty()) {
    const auto& r = refused.front();
    return Error(r.status.code(), std::to_string(refused.size()) + " vouchers refused, first " + r.source + ": " + r.status.message());
  }
  return Status::Ok();
}

}  // namespace

Result<StaticPullReport> PullStatic(Cache& cache, const std::string& url, const PublishIndex& index, const StaticLimits& limits,
                                    const StaticProgress& progress) {
  fs::path seen_file = cache.path() / "vouch" / std::string(kSeenFile);
  VOUCH_ASSIGN_OR_RETURN(std::set<std::string> seen, ReadSeen(seen_file));
  StaticPullReport report;
  report.shards = index.entries.size();
  std::vector<IndexEntry> fetch;
  for (const auto& e : index.entries) {
    if (!seen.count(e.id)) fetch.push_back(e);
  }
  VOUCH_RETURN_IF_ERROR(CheckBudget(fetch, limits.max_shards, limits.max_pull_bytes));
  auto downloaded = [&](const IndexEntry& e) {
    report.bytes += e.size;
    ++report.new_shards;
    if (progress) progress(report.new_shards, fetch.size(), report.bytes);
  };
  for (size_t next = 0; next < fetch.size();) {
    std::vector<IndexEntry> group;
    uint64_t bytes = 0;
    for (; next < fetch.size() && (group.empty() || bytes + fetch[next].size <= limits.group_bytes); ++next) {
      bytes += fetch[next].size;
      group.push_back(fetch[next]);
    }
    AddReport added;
    VOUCH_RETURN_IF_ERROR(PullGroup(cache, url, group, limits, downloaded, &added));
    report.added.added += added.added;
    report.added.receipts += added.receipts;
    report.added.present += added.present;
    if (!added.commit.empty()) report.added.commit = added.commit;
    ++report.groups;
    // Remembered once committed: a crash before this costs the next pull a download, no more.
    std::string text;
    for (const auto& e : group) seen.insert(e.id);
    for (const auto& id : seen) text += id + "\n";
    VOUCH_RETURN_IF_ERROR(WriteFileAtomic(seen_file, AsBytes(text)));
  }
  return report;
}

}  // namespace vouch::cache
