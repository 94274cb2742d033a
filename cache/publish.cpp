#include "cache/publish.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "cache/log.h"
#include "formats/bundle.h"
#include "formats/layout.h"
#include "formats/tlog/proof.h"
#include "formats/tlog/tiles.h"
#include "formats/voucher_json.h"
#include "libvoucher/file.h"

namespace vouch::cache {
namespace fs = std::filesystem;
namespace {

// The index the last run wrote, if any. One that does not read is not ours to overwrite
// blindly: the folder may be something else (kMalformed and friends, naming it).
Result<std::map<std::string, IndexEntry>> PreviousIndex(const fs::path& out) {
  std::map<std::string, IndexEntry> by_prefix;
  fs::path p = out / std::string(kIndexName);
  if (!fs::exists(p)) return by_prefix;
  VOUCH_ASSIGN_OR_RETURN(Bytes bytes, ReadFile(p, kMaxIndexSize + 1, false));
  auto index = DecodeIndex(bytes);
  if (!index.ok()) return index.status().Context(p.string() + ": the index a last publish left");
  for (auto& e : index->entries) by_prefix[e.prefix] = std::move(e);
  return by_prefix;
}

// The previous shard of a prefix is still current when it holds exactly these vouchers
// (`paths`, sorted). The cache is append-only, so a prefix that gained nothing has the same
// count; the manifest check makes sure (a folder last published from another cache). Its
// proofs may be older than the log now is: still valid proofs, under an older checkpoint
// (cache/publish.md). A logged cache's shard must also carry a proof for each voucher (one
// cut before the cache had a log does not: it is cut again).
// The folder is only trusted as far as it reads: the shard must be a regular file of the
// declared size whose every voucher matches its id, and, of a logged cache, whose proofs are
// proofs of this cache's log (its origin), not another's left by an earlier publish.
bool StillCurrent(const fs::path& out, const IndexEntry& old, const std::vector<std::string>& paths,
                  const std::optional<std::string>& log_origin) {
  if (old.vouchers != paths.size()) return false;
  fs::path p = out / PublishIndex::ShardPath(old);
  std::error_code ec;
  if (fs::symlink_status(p, ec).type() != fs::file_type::regular || fs::file_size(p, ec) != old.size || ec) return false;
  auto b = formats::Bundle::Open(p);
  if (!b.ok() || b->id() != old.id) return false;
  size_t i = 0, proofs = 0;
  for (const auto& e : b->manifest().entries) {
    if (e.proof) {
      ++proofs;
      continue;
    }
    if (i >= paths.size() || paths[i] != e.path) return false;
    ++i;
  }
  if (i != paths.size() || (log_origin && proofs != paths.size())) return false;
  auto vs = b->ReadAll();
  if (!vs.ok()) return false;
  if (log_origin) {
    for (const auto& v : *vs) {
      if (!v.proof) return false;
      auto proof = formats::tlog::ParseProof(std::string_view(reinterpret_cast<const char*>(v.proof->data()), v.proof->size()));
      if (!proof.ok() || proof->checkpoint.substr(0, proof->checkpoint.find('\n')) != *log_origin) return false;
    }
  }
  return true;
}

// A link (or a FIFO, a device) anywhere below `out` is refused before anything is written or
// pruned: a publish writes and removes files by path, and a link would carry both elsewhere.
// `out` itself is the publisher's choice and may be one.
Status RefuseLinks(const fs::path& out) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(out, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto type = it->symlink_status(ec).type();
    if (ec) break;
    if (type != fs::file_type::regular && type != fs::file_type::directory) {
      return Error(Code::kSymlinkEntry, it->path().string() + ": a link or a special file in the publish folder: refused (nothing written)");
    }
  }
  if (ec) return Error(Code::kIo, out.string() + ": " + ec.message());
  return Status::Ok();
}

// The c1c2 prefixes the layout can have, in byte order (the index's order): the cache's
// tree is read one c1c2 at a time, so a publish holds one prefix's vouchers at once.
std::vector<std::string> AllC1C2() {
  std::string alphabet = "234567ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::vector<std::string> out;
  for (char a : alphabet) {
    for (char b : alphabet) out.push_back(std::string{a, b});
  }
  return out;
}

// Writes the shards of `shards` (prefix -> voucher paths and blobs) that changed since the
// last publish, reading only their vouchers (and their proofs, in one lookup of the log).
Status WriteChanged(const Cache& cache, const fs::path& out, const std::map<std::string, IndexEntry>& previous,
                    const std::optional<std::string>& log_origin,
                    std::map<std::string, std::vector<std::pair<std::string, git::ObjectId>>> shards, PublishReport* report) {
  std::map<std::string, std::vector<std::pair<std::string, git::ObjectId>>> changed;
  for (auto& [prefix, files] : shards) {
    std::vector<std::string> paths;
    for (const auto& f : files) paths.push_back(f.first);
    if (auto it = previous.find(prefix); it != previous.end() && StillCurrent(out, it->second, paths, log_origin)) {
      report->index.entries.push_back(it->second);
      ++report->kept;
    } else {
      changed[prefix] = std::move(files);
    }
  }
  if (changed.empty()) return Status::Ok();
  std::vector<std::string> paths;
  for (const auto& [prefix, files] : changed) {
    for (const auto& f : files) paths.push_back(f.first);
  }
  std::map<std::string, std::string> proofs;
  if (cache.logged()) {
    VOUCH_ASSIGN_OR_RETURN(proofs, cache.Proofs(paths));
  }
  for (auto& [prefix, files] : changed) {
    std::vector<git::ObjectId> ids;
    for (const auto& f : files) ids.push_back(f.second);
    std::vector<formats::PackedVoucher> vs(files.size());
    std::vector<Status> failed(files.size(), Status::Ok());
    VOUCH_RETURN_IF_ERROR(cache.repository().ReadBlobs(ids, formats::kMaxVoucherSize, [&](size_t i, Result<Bytes> blob) {
      if (!blob.ok()) {
        failed[i] = blob.status();
        return;
      }
      vs[i].bytes = std::move(*blob);
    }));
    for (size_t i = 0; i < files.size(); ++i) {
      VOUCH_RETURN_IF_ERROR(failed[i]);
      vs[i].path = files[i].first;
      if (auto it = proofs.find(vs[i].path); it != proofs.end()) vs[i].proof = Bytes(it->second.begin(), it->second.end());
    }
    fs::path dir = out / std::string(formats::kShardDirectory) / prefix;
    VOUCH_ASSIGN_OR_RETURN(auto written, formats::WriteBundles(dir, std::move(vs), std::numeric_limits<size_t>::max()));
    if (written.size() != 1) return Error(Code::kInternal, "shard " + prefix + " was not written as one bundle");
    std::error_code ec;
    uint64_t size = fs::file_size(written[0].path, ec);
    if (ec) return Error(Code::kIo, written[0].path.string() + ": " + ec.message());
    IndexEntry e{prefix, files.size(), size, written[0].id};
    report->index.entries.push_back(e);
    report->written.push_back(std::move(e));
  }
  return Status::Ok();
}

// Every file below `root` (ending in `ext`, when given) whose path relative to `base` `keep`
// does not name, and the folders left empty.
Result<std::vector<std::string>> Prune(const fs::path& base, const fs::path& root, const std::set<std::string>& keep,
                                       std::string_view ext) {
  std::vector<std::string> removed;
  if (!fs::is_directory(root)) return removed;
  std::error_code ec;
  std::vector<fs::path> dirs, drop;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      dirs.push_back(p);
    } else if ((ext.empty() || p.extension() == ext) && !keep.count(p.lexically_relative(base).generic_string())) {
      drop.push_back(p);
    }
  }
  if (ec) return Error(Code::kIo, root.string() + ": " + ec.message());
  for (const auto& p : drop) {
    if (!fs::remove(p, ec) || ec) return Error(Code::kIo, p.string() + ": cannot remove: " + ec.message());
    removed.push_back(p.lexically_relative(base).generic_string());
  }
  // Deepest first; a folder that still holds anything stays.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    if (fs::is_empty(*it, ec) && !ec) fs::remove(*it, ec);
  }
  return removed;
}

// The log's tiles and entry index (immutable names: written only when absent), then its
// checkpoint. Returns the files written.
Result<size_t> PublishLog(const Cache& cache, const fs::path& out, bool prune, uint64_t* size, std::vector<std::string>* pruned) {
  VOUCH_ASSIGN_OR_RETURN(std::optional<LogView> view, LogView::Read(cache.repository(), kLogRef));
  if (!view) return size_t{0};
  *size = view->size();
  fs::path dir = out / std::string(kPublishedLogDirectory);
  size_t written = 0;
  std::set<std::string> held;
  for (const auto& [under, cap] : {std::pair<std::string, uint64_t>{"tile", formats::tlog::kFullTileSize}, {"index", kMaxIndexTileSize}}) {
    VOUCH_ASSIGN_OR_RETURN(auto files, view->tree().Files(under));
    for (const auto& [path, blob] : files) {
      held.insert(path);
      fs::path p = dir / path;
      // Immutable names, but the folder is trusted only as far as it reads: a file there
      // with other bytes (an earlier publish of another log, damage) is replaced.
      VOUCH_ASSIGN_OR_RETURN(Bytes bytes, view->ReadFile(path, cap));
      auto there = ReadFile(p, cap, false);
      if (there.ok() && *there == bytes) continue;
      std::error_code ec;
      fs::create_directories(p.parent_path(), ec);
      if (ec) return Error(Code::kIo, p.parent_path().string() + ": cannot create directory: " + ec.message());
      VOUCH_RETURN_IF_ERROR(WriteFileAtomic(p, bytes));
      ++written;
    }
  }
  // After the tiles it commits to, as the index comes after the shards.
  fs::path checkpoint = dir / std::string(kCheckpointFile);
  auto old = ReadFile(checkpoint, 1 << 20, false);
  if (!old.ok() || std::string(old->begin(), old->end()) != view->note()) {
    VOUCH_RETURN_IF_ERROR(WriteFileAtomic(checkpoint, AsBytes(view->note())));
    ++written;
  }
  // A partial tile that grew has a new name; the log branch dropped the old one.
  if (prune) {
    for (const char* under : {"tile", "index"}) {
      VOUCH_ASSIGN_OR_RETURN(auto removed, Prune(dir, dir / under, held, ""));
      for (auto& r : removed) pruned->push_back(std::string(kPublishedLogDirectory) + "/" + r);
    }
  }
  return written;
}

}  // namespace

Result<PublishReport> Publish(const Cache& cache, const fs::path& out, const PublishOptions& options) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return Error(Code::kIo, out.string() + ": cannot create directory: " + ec.message());
  VOUCH_RETURN_IF_ERROR(RefuseLinks(out));
  VOUCH_ASSIGN_OR_RETURN(auto previous, PreviousIndex(out));
  PublishReport report;
  const git::Repository& repo = cache.repository();
  std::optional<std::string> log_origin;
  if (cache.logged()) {
    VOUCH_ASSIGN_OR_RETURN(std::optional<LogView> view, LogView::Read(repo, kLogRef));
    if (view) log_origin = view->note().substr(0, view->note().find('\n'));
  }
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, repo.Resolve(kBranch));
  if (tip) {
    VOUCH_ASSIGN_OR_RETURN(git::Tree tree, repo.TreeOf(*tip));
    // Always cut, however few the vouchers: a prefix's shard changes only when that prefix
    // gains vouchers, so a publish rewrites what changed and a reader downloads one shard.
    for (const std::string& c1c2 : AllC1C2()) {
      std::string dir = std::string(formats::kLayoutRoot) + "/" + c1c2;
      if (!tree.EntryAt(dir)) continue;
      VOUCH_ASSIGN_OR_RETURN(auto files, tree.Files(dir));  // vouchers only: receipts are elsewhere
      report.vouchers += files.size();
      std::map<std::string, git::ObjectId> blob_of(files.begin(), files.end());
      std::vector<formats::PackedVoucher> stubs;  // paths only: the cut needs no bytes
      for (const auto& f : files) stubs.push_back({f.first, {}});
      std::sort(stubs.begin(), stubs.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
      std::map<std::string, std::vector<std::pair<std::string, git::ObjectId>>> shards;
      for (auto& [prefix, vs] : formats::CutShards(std::move(stubs), options.deep_shard_threshold)) {
        for (const auto& v : vs) shards[prefix].emplace_back(v.path, blob_of.at(v.path));
      }
      VOUCH_RETURN_IF_ERROR(WriteChanged(cache, out, previous, log_origin, std::move(shards), &report));
    }
  }
  // Kept and written shards of a cut c1c2 came back in two runs: the index is in prefix order.
  std::sort(report.index.entries.begin(), report.index.entries.end(),
            [](const IndexEntry& a, const IndexEntry& b) { return a.prefix < b.prefix; });
  if (report.index.entries.size() > kMaxIndexEntries) {
    return Error(Code::kTooLarge, std::to_string(report.index.entries.size()) + " shards, over the index cap");
  }
  std::vector<std::string> log_pruned;
  VOUCH_ASSIGN_OR_RETURN(report.log_files, PublishLog(cache, out, options.prune, &report.log_size, &log_pruned));
  // Last, and atomically (a temporary name, fsync, rename, the folder fsynced): every shard
  // and tile it names is already there, durable.
  VOUCH_ASSIGN_OR_RETURN(Bytes index, EncodeIndex(report.index));
  auto old = ReadFile(out / std::string(kIndexName), kMaxIndexSize + 1, false);
  if (!old.ok() || *old != index) VOUCH_RETURN_IF_ERROR(WriteFileAtomic(out / std::string(kIndexName), index));
  if (options.prune) {
    std::set<std::string> keep;
    for (const auto& e : report.index.entries) keep.insert(PublishIndex::ShardPath(e));
    VOUCH_ASSIGN_OR_RETURN(report.pruned, Prune(out, out / std::string(formats::kShardDirectory), keep,
                                                "." + std::string(formats::kBundleExtension)));
    report.pruned.insert(report.pruned.end(), log_pruned.begin(), log_pruned.end());
  }
  return report;
}

}  // namespace vouch::cache
