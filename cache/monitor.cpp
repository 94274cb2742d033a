#include "cache/monitor.h"

#include "cache/sources.h"
#include "cache/witness.h"
#include "formats/envelope.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"
#include "libvoucher/file.h"

namespace vouch::cache {
namespace fs = std::filesystem;
namespace tlog = formats::tlog;

Result<std::set<std::string>> VoucherIdsIn(const fs::path& dir) {
  std::set<std::string> ids;
  VOUCH_ASSIGN_OR_RETURN(SourceReader reader, SourceReader::Open({dir.string()}, SourceReader::kBatch, SourceReader::Bundles::kRead));
  std::vector<Offered> batch;
  for (;;) {
    VOUCH_ASSIGN_OR_RETURN(bool more, reader.Next(&batch));
    if (!reader.refused().empty()) return reader.refused().front().status.Context(reader.refused().front().source);
    if (!more) break;
    for (Offered& o : batch) {
      auto e = formats::Identify(std::move(o.bytes));
      if (!e.ok()) return e.status().Context(o.source);
      ids.insert(e->id);
    }
  }
  return ids;
}

Result<MonitorReport> Monitor(const Cache& cache, const MonitorRequest& r) {
  VOUCH_ASSIGN_OR_RETURN(std::optional<LogView> view, cache.ReadLog(r.ref));
  if (!view) return Error(Code::kNotFound, cache.path().string() + " has no log (" + r.ref + ")");
  std::optional<std::string> held;
  if (fs::exists(r.state)) {
    VOUCH_ASSIGN_OR_RETURN(Bytes b, ReadFile(r.state, tlog::kMaxNoteSize));
    held = std::string(b.begin(), b.end());
  }
  auto checked = CheckLogExtends(*view, r.log_key, held);
  if (!checked.ok()) {
    if (checked.status().code() == Code::kLogFork) {
      fs::path evidence = r.state;
      evidence += ".forks";
      VOUCH_ASSIGN_OR_RETURN(fs::path kept, KeepForkEvidence(evidence, *held, view->note()));
      return Error(Code::kLogFork, checked.status().message() + "; both checkpoints kept in " + kept.string() + "-*");
    }
    return checked.status();
  }
  MonitorReport report;
  report.origin = checked->origin;
  report.to = checked->size;
  if (held) {
    VOUCH_ASSIGN_OR_RETURN(tlog::Note n, tlog::ParseNote(*held));
    VOUCH_ASSIGN_OR_RETURN(tlog::Checkpoint c, tlog::ParseCheckpoint(n.text));
    report.from = c.size;
  }
  VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> paths, view->Paths(report.from, report.to));
  // Watched leaves are checked against the vouchers they name: the index says where a
  // leaf's voucher is, the tiles say what its bytes hash to, and the two must agree.
  std::optional<git::Tree> vouchers;
  tlog::TileHashes hashes = view->Hashes();
  for (size_t i = 0; i < paths.size(); ++i) {
    auto entry = formats::ParseLayoutPath(paths[i]);
    if (!entry.ok()) return entry.status().Context("log entry " + std::to_string(report.from + i));
    if (!r.devices.count(entry->device_udf)) continue;
    if (!vouchers) {
      if (!view->covers()) return Error(Code::kMalformed, "log has leaves but covers no vouchers commit");
      VOUCH_ASSIGN_OR_RETURN(git::Tree t, cache.repository().TreeOf(*view->covers()));
      vouchers = std::move(t);
    }
    const uint64_t leaf = report.from + i;
    std::optional<git::ObjectId> blob = vouchers->EntryAt(paths[i]);
    if (!blob) return Error(Code::kMalformed, "log entry " + std::to_string(leaf) + " names " + paths[i] + ", which is not in the cache");
    VOUCH_ASSIGN_OR_RETURN(Bytes bytes, cache.repository().ReadBlob(*blob, formats::kMaxVoucherSize));
    VOUCH_ASSIGN_OR_RETURN(tlog::Hash want, tlog::LeafHash(bytes));
    VOUCH_ASSIGN_OR_RETURN(tlog::Hash have, hashes.Subtree(leaf, 0));
    if (want != have) return Error(Code::kIdMismatch, "log entry " + std::to_string(leaf) + ": " + paths[i] + " is not the voucher the log holds");
    MonitorReport::Seen s{leaf, paths[i], entry->device_udf, entry->voucher_id, r.expected.count(entry->voucher_id) > 0};
    report.unexpected += !s.expected;
    report.vouchers.push_back(std::move(s));
  }
  if (report.unexpected == 0) {
    std::error_code ec;
    if (r.state.has_parent_path()) fs::create_directories(r.state.parent_path(), ec);
    VOUCH_RETURN_IF_ERROR(WriteFileAtomic(r.state, AsBytes(view->note())));
  }
  return report;
}

}  // namespace vouch::cache
