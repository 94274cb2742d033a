#include "cache/cache.h"

#include <malloc.h>

#include <cstdlib>
#include <random>
#include <set>
#include <thread>

#include "cache/git/device_directory.h"
#include "cache/git/lock.h"
#include "cache/git/staging.h"
#include "cache/receipts.h"
#include "cache/sorted_paths.h"
#include "formats/layout.h"
#include "formats/tlog/merkle.h"
#include "formats/voucher_json.h"
#include "libvoucher/file.h"
#include "libvoucher/parallel.h"

namespace vouch::cache {
namespace fs = std::filesystem;

namespace {

constexpr int kMaxCasAttempts = 64;

}  // namespace

fs::path Cache::DefaultPath() {
  if (const char* c = std::getenv("VOUCH_CACHE"); c && *c) return c;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return fs::path(x) / "vouch" / "cache.git";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".local" / "share" / "vouch" / "cache.git";
}

Cache::Cache(Cache&& o) noexcept { *this = std::move(o); }
Cache& Cache::operator=(Cache&& o) noexcept {
  std::swap(repo_, o.repo_);
  std::swap(path_, o.path_);
  std::swap(anchors_, o.anchors_);
  std::swap(staging_, o.staging_);
  std::swap(log_, o.log_);
  return *this;
}
Cache::~Cache() = default;

Result<Cache> Cache::Init(const fs::path& path, const std::vector<Certificate>& anchors) {
  std::error_code ec;
  if (!fs::exists(path / "vouch")) {
    if (fs::exists(path) && !fs::is_empty(path, ec) && !fs::exists(path / "HEAD")) {
      return Error(Code::kExists, path.string() + ": exists and is not a cache");
    }
    // HEAD names the vouchers branch, so `git log` and `git clone` of a cache show it.
    VOUCH_RETURN_IF_ERROR(git::Repository::Create(path, kBranch));
    fs::create_directories(path / "vouch", ec);
    if (ec) return Error(Code::kIo, (path / "vouch").string() + ": " + ec.message());
  }
  VOUCH_RETURN_IF_ERROR(git::Staging::Configure(path.string()));
  // The lock file exists from the start: a refused pull (which holds it from before its
  // verification) then leaves the cache exactly as it was.
  VOUCH_RETURN_IF_ERROR(git::CacheLock::Take(path.string(), git::CacheLock::Mode::kShared).status());
  if (!anchors.empty()) VOUCH_RETURN_IF_ERROR(SaveCertificates(path / "vouch" / "trust.pem", anchors));
  return Open(path);
}

Result<Cache> Cache::Open(const fs::path& path) {
  Cache c;
  c.path_ = path;
  if (!fs::exists(path / "vouch")) return Error(Code::kNotFound, path.string() + ": not a vouch cache (run vouch cache init)");
  VOUCH_ASSIGN_OR_RETURN(c.repo_, git::Repository::Open(path));
  if (fs::exists(path / "vouch" / "trust.pem")) {
    VOUCH_ASSIGN_OR_RETURN(c.anchors_, LoadCertificates(path / "vouch" / "trust.pem"));
  }
  VOUCH_RETURN_IF_ERROR(c.LoadLogConfig());
  return c;
}

Result<git::Staging*> Cache::Staging() {
  // Made on the first write: reading commands never need it.
  if (!staging_) {
    VOUCH_ASSIGN_OR_RETURN(git::Staging s, git::Staging::Begin(repo_));
    staging_ = std::make_unique<git::Staging>(std::move(s));
  }
  return staging_.get();
}

Result<std::string> Cache::CheckVoucher(const std::string& filed_at, ByteView bytes) const {
  // Identified once: by the path it was filed at (its id checked), or from its bytes.
  std::optional<formats::LayoutEntry> filed;
  formats::Envelope envelope;
  if (!filed_at.empty()) {
    auto entry = formats::ParseLayoutPath(filed_at);
    if (!entry.ok()) return Error(Code::kUnsafePath, entry.status().message());
    VOUCH_ASSIGN_OR_RETURN(envelope, formats::CheckFiled(*entry, Bytes(bytes.begin(), bytes.end()), filed_at));
    filed = std::move(*entry);
  } else {
    VOUCH_ASSIGN_OR_RETURN(envelope, formats::Identify(Bytes(bytes.begin(), bytes.end())));
  }
  // Parsed once: verified (with anchors) or only decoded, then filed by the device key inside.
  formats::LayoutEntry own;
  if (!anchors_.empty()) {
    // An archive keeps old vouchers: signatures and paths are checked, validity periods not.
    auto v = formats::VerifyVoucher(envelope, anchors_, TimePolicy::None());
    if (!v.ok()) return v.status().Context(filed_at.empty() ? "voucher " + envelope.id : filed_at);
    VOUCH_ASSIGN_OR_RETURN(own, formats::LayoutEntryOf(envelope, v->voucher));
  } else {
    VOUCH_ASSIGN_OR_RETURN(own, formats::LayoutEntryOf(envelope));
  }
  // Paths are canonical (the device key inside may be spelled otherwise: lower case, no dashes).
  std::string path = formats::LayoutPath(own);
  if (filed && path != filed_at) return Error(Code::kWrongDevice, filed_at + ": the voucher inside is for another device");
  return path;
}

Result<std::string> Cache::CommitOnTip(git::PathSource& entries, const std::optional<git::ObjectId>& merge_parent,
                                       const std::string& message, size_t* added) {
  VOUCH_ASSIGN_OR_RETURN(git::CacheLock lock, git::CacheLock::Take(path_.string(), git::CacheLock::Mode::kShared));
  VOUCH_ASSIGN_OR_RETURN(git::Staging* staging, Staging());
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < kMaxCasAttempts; ++attempt) {
    VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, repo_.Resolve(kBranch));
    git::Tree base;
    if (tip) {
      VOUCH_ASSIGN_OR_RETURN(base, repo_.TreeOf(*tip));
    }
    // The tip as it is now, grown by what is new against it (another writer may have added
    // some): entries are read from the start, in path order, and never all held at once.
    VOUCH_RETURN_IF_ERROR(entries.Rewind());
    VOUCH_ASSIGN_OR_RETURN(git::GrownTree grown, staging->Grow(base, entries));
    *added = grown.added;
    std::vector<git::ObjectId> parents;
    if (tip) parents.push_back(*tip);
    if (merge_parent) {
      VOUCH_ASSIGN_OR_RETURN(bool contained, tip ? repo_.IsAncestor(*merge_parent, *tip) : Result<bool>(false));
      if (!contained) parents.push_back(*merge_parent);
    }
    if (grown.added == 0 && parents.size() < 2) {
      VOUCH_RETURN_IF_ERROR(staging->Flush());  // blobs of duplicates: harmless, keep them packed
      return tip ? tip->Hex() : std::string();
    }
    VOUCH_ASSIGN_OR_RETURN(git::ObjectId commit, staging->Commit(grown.tree, parents, message));
    Status cas = repo_.CompareAndSwap(kBranch, commit, tip, message.substr(0, message.find('\n')));
    if (cas.ok()) return commit.Hex();
    if (cas.code() != Code::kExists) return cas;
    // Lost the race: back off a little, rebuild on the new tip.
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + rng() % (5 + attempt * 5)));
  }
  return Error(Code::kIo, "the vouchers branch kept moving; gave up after " + std::to_string(kMaxCasAttempts) + " attempts");
}

Result<AddReport> Cache::Add(const OfferedBatches& next, const std::string& source) {
  VOUCH_ASSIGN_OR_RETURN(AddReport report, AddAll(next, source));
  // Consolidate when imports have left many packs, if nobody else is importing right now.
  // The import's own memory goes first: its batches, paths and staged chunks are freed, the
  // staging database dropped, and what the allocator kept of them given back to the system,
  // so that a gc after a large import costs its merges, not those plus the import's peak
  // (at a million vouchers: 143 MiB anonymous before, cache.md "Memory").
  std::error_code ec;
  size_t packs = 0;
  for (auto& e : fs::directory_iterator(path_ / "objects" / "pack", ec)) packs += e.path().extension() == ".pack";
  if (report.added + report.receipts > 0 && packs > kAutoGcPacks) {
    staging_.reset();
    malloc_trim(0);
    (void)Gc();
  }
  return report;
}

Result<AddReport> Cache::AddAll(const OfferedBatches& next, const std::string& source) {
  AddReport report;
  // What the branch holds now: vouchers already there are counted, not written again.
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, repo_.Resolve(kBranch));
  git::Tree base;
  if (tip) {
    VOUCH_ASSIGN_OR_RETURN(base, repo_.TreeOf(*tip));
  }
  struct Checked {
    Result<std::string> path = std::string();
    git::ObjectId blob;
    formats::tlog::Hash leaf{};  // with a log: hashed here, on every core, not read back later
  };
  // A logged cache signs a checkpoint after the commit: its key must load before anything moves.
  if (log_) VOUCH_RETURN_IF_ERROR(LogSigner().status());
  std::map<std::string, formats::tlog::Hash> leaves;
  VOUCH_ASSIGN_OR_RETURN(git::Staging* staging, Staging());
  // Layout path -> blob id, new in this import: sorted on disk past a run's worth, so an
  // import's memory does not grow with its size (sorted_paths.h).
  SortedPaths entries(path_ / "vouch");
  std::vector<Offered> batch;
  std::vector<Checked> checked;
  // Receipts wait until every voucher is staged: each names a voucher, which may come in this
  // very import. They are small (formats::kMaxReceiptSize) and a stick holds one a device.
  // Held until then, so bounded: the same bytes once (a stick of hard links to one receipt
  // is one receipt, not thousands in memory), and at most kMaxImportReceiptBytes in all; the
  // rest is refused (too-large) and can come in another import.
  std::vector<Offered> receipts;
  std::set<std::string> receipt_ids;
  uint64_t receipt_bytes = 0;
  auto is_receipt = [](const Offered& o) { return o.kind == Offered::Kind::kReceipt; };
  for (;;) {
    VOUCH_ASSIGN_OR_RETURN(bool more, next(&batch));
    if (!more) break;
    for (Offered& o : batch) {
      if (!is_receipt(o)) continue;
      std::string id = formats::ReceiptId(o.bytes);
      if (!receipt_ids.insert(id).second) {
        ++report.present;
        continue;
      }
      if (receipt_bytes + o.bytes.size() > kMaxImportReceiptBytes) {
        formats::CandidateReport refused;
        refused.source = o.source.empty() ? source : o.source;
        refused.id = id;
        refused.status = Error(Code::kTooLarge, "over " + std::to_string(kMaxImportReceiptBytes >> 20) +
                                                    " MiB of receipts in one import; import the rest separately");
        report.refused.push_back(std::move(refused));
        continue;
      }
      receipt_bytes += o.bytes.size();
      receipts.push_back(std::move(o));
    }
    std::erase_if(batch, is_receipt);
    // Checking is most of an import's work (decoding, hashing, signatures) and each voucher
    // stands alone, so it runs on every core; writing objects stays on this thread.
    checked.assign(batch.size(), Checked{});
    ParallelFor(batch.size(), [&](size_t i) {
      const Offered& v = batch[i];
      checked[i].path = CheckVoucher(v.path, v.bytes);
      if (checked[i].path.ok()) checked[i].blob = git::ObjectId::OfBlob(v.bytes);
      if (checked[i].path.ok() && log_) {
        auto h = formats::tlog::LeafHash(v.bytes);
        if (!h.ok()) checked[i].path = h.status();
        else checked[i].leaf = *h;
      }
    });
    for (size_t i = 0; i < batch.size(); ++i) {
      const Offered& v = batch[i];
      Status s = checked[i].path.status();
      if (s.ok()) {
        const std::string& path = *checked[i].path;
        const git::ObjectId& blob = checked[i].blob;
        if (std::optional<git::ObjectId> there = base.EntryAt(path)) {
          if (*there == blob) {
            ++report.present;
            continue;
          }
          s = Error(Code::kIdMismatch, path + " is in the cache with other bytes");
        } else {
          VOUCH_RETURN_IF_ERROR(staging->WriteBlob(blob, v.bytes));
          VOUCH_RETURN_IF_ERROR(entries.Add(path, blob));
          if (log_) leaves.emplace(path, checked[i].leaf);
          continue;
        }
      }
      CandidateReport r;
      r.source = v.source.empty() ? source : v.source;
      r.status = s;
      report.refused.push_back(std::move(r));
    }
  }
  // A voucher offered twice in this import is read once from `entries`.
  size_t vouchers = 0;
  VOUCH_RETURN_IF_ERROR(entries.Rewind());
  while (entries.Current()) {
    ++vouchers;
    VOUCH_RETURN_IF_ERROR(entries.Next());
  }
  report.present += entries.added() - vouchers;
  size_t total = vouchers;  // distinct paths: the vouchers, then the receipts admitted
  if (!receipts.empty()) {
    auto staged = [&](const std::set<std::string>& dirs) -> Result<std::map<std::string, git::ObjectId>> {
      std::map<std::string, git::ObjectId> found;
      VOUCH_RETURN_IF_ERROR(entries.Rewind());
      while (const git::PathEntry* e = entries.Current()) {
        if (dirs.count(e->first.substr(0, e->first.rfind('/') + 1))) found.emplace(e->first, e->second);
        VOUCH_RETURN_IF_ERROR(entries.Next());
      }
      return found;
    };
    std::vector<std::pair<std::string, git::ObjectId>> admitted;
    VOUCH_RETURN_IF_ERROR(AddReceipts(receipts, source, base, *staging, staged, &admitted, &report));
    total += admitted.size();
    for (auto& [p, blob] : admitted) VOUCH_RETURN_IF_ERROR(entries.Add(std::move(p), blob));
  }
  if (total == 0) {
    VOUCH_RETURN_IF_ERROR(SyncLog(nullptr));  // a log left behind by a killed write catches up
    return report;
  }
  size_t added = 0;
  std::string message = "vouch: add vouchers from " + source;
  VOUCH_ASSIGN_OR_RETURN(std::string new_tip, CommitOnTip(entries, std::nullopt, message, &added));
  // Paths another writer added meanwhile are present, not added; which of the two kinds
  // they were is not told apart (a race of two imports of the same receipts is rare).
  report.receipts = std::min(added, total - vouchers);
  report.added = added - report.receipts;
  report.present += total - added;
  if (added) report.commit = new_tip;
  // The branch moved first, the log follows: a kill between the two leaves the log behind,
  // never ahead, and the next write appends what it missed (cache/log.md, "Crashes").
  VOUCH_RETURN_IF_ERROR(SyncLog(&leaves, added == total ? &tip : nullptr));
  return report;
}

Result<std::optional<std::string>> Cache::Tip() const {
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, repo_.Resolve(kBranch));
  if (!tip) return std::optional<std::string>();
  return std::optional<std::string>(tip->Hex());
}

Result<std::vector<formats::PackedVoucher>> Cache::Get(std::string_view device_udf) const {
  VOUCH_RETURN_IF_ERROR(formats::DeviceDirectory(device_udf).status());  // a bad name is refused, even by an empty cache
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, repo_.Resolve(kBranch));
  if (!tip) return std::vector<formats::PackedVoucher>();
  // The cache's own history was verified as it came: no caps on its commits and trees, but
  // every voucher within the voucher cap.
  git::DirectoryLimits limits{UINT64_MAX, UINT64_MAX, formats::kMaxVoucherSize, SIZE_MAX};
  return git::ReadDeviceDirectory(repo_, *tip, device_udf, limits, path_.string());
}

Result<std::vector<std::string>> Cache::List() const {
  std::vector<std::string> paths;
  VOUCH_RETURN_IF_ERROR(List([&](const std::string& p) {
    paths.push_back(p);
    return Status::Ok();
  }));
  return paths;
}

Status Cache::List(const std::function<Status(const std::string& path)>& each) const {
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, repo_.Resolve(kBranch));
  if (!tip) return Status::Ok();
  VOUCH_ASSIGN_OR_RETURN(git::Tree root, repo_.TreeOf(*tip));
  return root.ForEachFile(formats::kLayoutRoot, [&](const std::string& path, const git::ObjectId&) { return each(path); });
}

namespace {

struct ExportTrees {
  git::Tree from, to;
  bool empty = true;  // no branch yet
};

}  // namespace

// The commit an export reads: `at` (a commit hex from Tip()), or the tip now (none: no branch).
static Result<std::optional<git::ObjectId>> ExportCommit(const git::Repository& repo, const std::string& at) {
  if (at.empty()) return repo.Resolve(kBranch);
  VOUCH_ASSIGN_OR_RETURN(git::ObjectId id, git::ObjectId::FromHex(at));
  return std::optional<git::ObjectId>(id);
}

// The trees an export compares: `at`'s, and `since`'s (none: everything).
static Result<ExportTrees> TreesFor(const git::Repository& repo, const std::string& since, const std::string& at) {
  ExportTrees t;
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, ExportCommit(repo, at));
  if (!tip) return t;
  t.empty = false;
  VOUCH_ASSIGN_OR_RETURN(t.to, repo.TreeOf(*tip));
  if (!since.empty()) {
    // A bundle id recorded by RecordExport, or any commit-ish git understands.
    std::optional<git::ObjectId> from = repo.Find("refs/vouch/bundles/" + since);
    if (!from) from = repo.Find(since);
    if (!from) return Error(Code::kNotFound, "--since '" + since + "' is neither a commit nor a bundle exported from this cache");
    VOUCH_ASSIGN_OR_RETURN(t.from, repo.PeelToTree(*from, since));
  }
  return t;
}

Result<std::vector<formats::PackedVoucher>> Cache::Export(const std::string& since) const { return Export(since, ""); }

Result<std::vector<formats::PackedVoucher>> Cache::Export(const std::string& since, const std::string& prefix,
                                                          const std::string& at) const {
  VOUCH_RETURN_IF_ERROR(repo_.DropPackCaches());  // a shard at a time: what the last shard's reads kept goes
  std::vector<formats::PackedVoucher> out;
  VOUCH_ASSIGN_OR_RETURN(ExportTrees t, TreesFor(repo_, since, at));
  if (t.empty) return out;
  // Vouchers only: bundles do not carry receipts (cache/cache.md, "Receipts").
  std::string under = std::string(formats::kLayoutRoot) + (prefix.empty() ? "" : "/" + prefix);
  VOUCH_ASSIGN_OR_RETURN(auto added, repo_.Added(t.from, t.to, under));
  for (const auto& [path, blob] : added) {
    VOUCH_ASSIGN_OR_RETURN(Bytes bytes, repo_.ReadBlob(blob, formats::kMaxVoucherSize));
    out.push_back({path, std::move(bytes)});
  }
  return out;
}

Result<size_t> Cache::ExportCount(const std::string& since, const std::string& prefix, const std::string& at) const {
  VOUCH_ASSIGN_OR_RETURN(ExportTrees t, TreesFor(repo_, since, at));
  if (t.empty) return size_t{0};
  VOUCH_ASSIGN_OR_RETURN(auto added, repo_.Added(t.from, t.to, std::string(formats::kLayoutRoot) + "/" + prefix));
  return added.size();
}

Result<std::vector<std::string>> Cache::Prefixes(const std::string& c1c2, const std::string& at) const {
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, ExportCommit(repo_, at));
  if (!tip) return std::vector<std::string>();
  VOUCH_ASSIGN_OR_RETURN(git::Tree root, repo_.TreeOf(*tip));
  return root.Directories(std::string(formats::kLayoutRoot) + (c1c2.empty() ? "" : "/" + c1c2));
}

Status Cache::RecordExport(const std::string& bundle_id, const std::string& commit) {
  VOUCH_ASSIGN_OR_RETURN(git::ObjectId oid, git::ObjectId::FromHex(commit));
  return repo_.SetRef("refs/vouch/bundles/" + bundle_id, oid, "vouch: bundle exported");
}

Status Cache::Gc() {
  VOUCH_ASSIGN_OR_RETURN(git::CacheLock lock, git::CacheLock::Take(path_.string(), git::CacheLock::Mode::kExclusive, false));
  // A staging repository reads through the cache's database and would keep every pack a merge
  // read open, to the end of the gc (git::Repository::ConsolidatePacks).
  staging_.reset();
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, repo_.Resolve(kBranch));
  if (!tip) return Status::Ok();
  // A cache small enough is packed anew from what is reachable: one pack, objects no ref
  // reaches dropped. A larger one is consolidated in bounded merges (cache.md, "Packs").
  VOUCH_ASSIGN_OR_RETURN(git::Repository::PackTotals packed, repo_.Packed());
  if (packed.objects > kGcMaxObjects || packed.bytes > kGcMaxPackBytes) {
    return repo_.ConsolidatePacks(kGcMaxObjects, kGcMaxPackBytes);
  }
  // Bundle markers, mirror tracking refs, remote logs and the log keep their objects too.
  return repo_.Repack(*tip, "refs/vouch/");
}

}  // namespace vouch::cache
