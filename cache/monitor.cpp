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
  // Every new leaf is checked against the voucher its index entry names (not only the
  // watched ones): a mirror that rewrote the index to file a voucher under another device
  // is caught here, since the bytes at that path do not hash to the leaf. `covers` must be
  // on the cache's vouchers branch, whose paths are each the canonical path of their bytes.
  if (report.to > report.from) {
    if (!view->covers()) return Error(Code::kMalformed, "log has leaves but covers no vouchers commit");
    VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, cache.repository().Resolve(kBranch));
    bool on_branch = false;
    if (tip) {
      VOUCH_ASSIGN_OR_RETURN(on_branch, cache.repository().IsAncestor(*view->covers(), *tip));
    }
    if (!on_branch) return Error(Code::kMalformed, "the log covers a commit that is not on the vouchers branch");
    VOUCH_ASSIGN_OR_RETURN(git::Tree covered, cache.repository().TreeOf(*view->covers()));
    VOUCH_RETURN_IF_ERROR(CheckLeaves(*view, cache.repository(), covered, report.from, report.to,
                                      [&](uint64_t leaf, const std::string& path) -> Status {
                                        VOUCH_ASSIGN_OR_RETURN(formats::LayoutEntry entry, formats::ParseLayoutPath(path));
                                        if (!r.devices.count(entry.device_udf)) return Status::Ok();
                                        MonitorReport::Seen s{leaf, path, entry.device_udf, entry.voucher_id,
                                                              r.expected.count(entry.voucher_id) > 0};
                                        report.unexpected += !s.expected;
                                        report.vouchers.push_back(std::move(s));
                                        return Status::Ok();
                                      }));
  }
  if (report.unexpected == 0) {
    std::error_code ec;
    if (r.state.has_parent_path()) fs::create_directories(r.state.parent_path(), ec);
    VOUCH_RETURN_IF_ERROR(WriteFileAtomic(r.state, AsBytes(view->note())));
  }
  return report;
}

}  // namespace vouch::cache
