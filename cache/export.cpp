#include "cache/export.h"

#include "cache/sources.h"
#include "formats/layout.h"
#include "libvoucher/parallel.h"

namespace vouch::cache {
namespace fs = std::filesystem;
namespace {

Result<std::vector<formats::WrittenBundle>> Write(std::vector<formats::PackedVoucher> vs, const ExportRequest& r,
                                                  const std::string& since) {
  if (vs.empty()) {
    return Error(Code::kNotFound, "no vouchers to pack" + std::string(r.devices.empty() ? "" : " for the given devices") +
                                      (since.empty() ? "" : " since " + since));
  }
  return formats::WriteBundles(r.out, std::move(vs), r.shard_threshold, r.deep_shard_threshold);
}

}  // namespace

Result<std::vector<formats::WrittenBundle>> ExportDirectory(const fs::path& dir, const ExportRequest& request) {
  if (!fs::is_directory(dir)) return Error(Code::kNotFound, dir.string() + ": not a directory");
  VOUCH_ASSIGN_OR_RETURN(SourceReader reader, SourceReader::Open({dir.string()}, SourceReader::kBatch, SourceReader::Bundles::kSkip));
  std::vector<formats::PackedVoucher> out;
  std::vector<Offered> batch;
  std::vector<Result<formats::LayoutEntry>> filed;
  for (;;) {
    VOUCH_ASSIGN_OR_RETURN(bool more, reader.Next(&batch));
    if (!reader.refused().empty()) {
      const auto& r = reader.refused().front();
      return r.status.Context(r.source);
    }
    if (!more) break;
    filed.assign(batch.size(), Result<formats::LayoutEntry>(formats::LayoutEntry{}));
    ParallelFor(batch.size(), [&](size_t i) {
      auto envelope = formats::Identify(std::move(batch[i].bytes));
      if (!envelope.ok()) {
        filed[i] = envelope.status();
        return;
      }
      filed[i] = formats::LayoutEntryOf(*envelope);
      batch[i].bytes = std::move(envelope->bytes);
    });
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!filed[i].ok()) return filed[i].status().Context(batch[i].source);
      if (!request.devices.empty() && !request.devices.count(filed[i]->device_udf)) continue;
      out.push_back({formats::LayoutPath(*filed[i]), std::move(batch[i].bytes)});
    }
  }
  return Write(std::move(out), request, "");
}

namespace {

// The vouchers of one shard prefix (all: ""), for the devices asked for, with their proofs
// when the cache keeps a log.
Result<std::vector<formats::PackedVoucher>> Gather(Cache& cache, const std::string& since, const std::string& prefix,
                                                   const std::string& at, const ExportRequest& request) {
  VOUCH_ASSIGN_OR_RETURN(std::vector<formats::PackedVoucher> all, cache.Export(since, prefix, at));
  std::vector<formats::PackedVoucher> vs;
  for (auto& v : all) {
    auto entry = formats::ParseLayoutPath(v.path);  // the cache files only layout paths
    if (!entry.ok()) return entry.status();
    if (request.devices.empty() || request.devices.count(entry->device_udf)) vs.push_back(std::move(v));
  }
  // A logged cache's bundles carry each voucher's proof beside it (formats/bundle.md).
  if (cache.logged() && !vs.empty()) {
    std::vector<std::string> paths;
    for (const auto& v : vs) paths.push_back(v.path);
    VOUCH_ASSIGN_OR_RETURN(auto proofs, cache.Proofs(paths));
    for (auto& v : vs) {
      if (auto it = proofs.find(v.path); it != proofs.end()) v.proof = Bytes(it->second.begin(), it->second.end());
    }
  }
  return vs;
}

}  // namespace

Result<std::vector<formats::WrittenBundle>> ExportCache(Cache& cache, const std::string& since, const ExportRequest& request) {
  // Every shard is read from this one commit, which the bundles are then recorded against:
  // an import that moves the branch meanwhile is in the next export, not half in this one.
  VOUCH_ASSIGN_OR_RETURN(std::optional<std::string> tip, cache.Tip());
  if (!tip) return Write({}, request, since);  // no branch yet: nothing to pack
  std::vector<formats::WrittenBundle> written;
  // Named devices are few: gathered at once. A whole export is counted first, then, when it
  // is to be sharded, read and written a shard at a time, cut as formats::CutShards cuts (a
  // c1c2 of more than deep_shard_threshold vouchers by its c3c4s), so that it holds one shard's
  // vouchers (at most that many, or a c3c4's), not a prefix's (1/128 of the cache) or the cache's.
  size_t total = 0;
  std::vector<std::pair<std::string, size_t>> prefixes;  // c1c2, vouchers to export under it
  if (request.devices.empty()) {
    VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> c1c2s, cache.Prefixes("", *tip));
    for (const std::string& p : c1c2s) {
      VOUCH_ASSIGN_OR_RETURN(size_t n, cache.ExportCount(since, p, *tip));
      prefixes.emplace_back(p, n);
      total += n;
    }
  }
  auto write_shard = [&](const std::string& shard) -> Status {
    VOUCH_ASSIGN_OR_RETURN(std::vector<formats::PackedVoucher> vs, Gather(cache, since, shard, *tip, request));
    if (vs.empty()) return Status::Ok();
    VOUCH_ASSIGN_OR_RETURN(formats::WrittenBundle b, formats::WriteShard(request.out, shard, std::move(vs)));
    written.push_back(std::move(b));
    if (request.on_shard) request.on_shard(written.back());
    return Status::Ok();
  };
  if (!request.devices.empty() || total <= request.shard_threshold) {
    VOUCH_ASSIGN_OR_RETURN(std::vector<formats::PackedVoucher> vs, Gather(cache, since, "", *tip, request));
    VOUCH_ASSIGN_OR_RETURN(written, Write(std::move(vs), request, since));
  } else {
    for (const auto& [p, n] : prefixes) {
      if (n == 0) continue;
      if (n <= request.deep_shard_threshold) {
        VOUCH_RETURN_IF_ERROR(write_shard(p));
        continue;
      }
      VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> c3c4s, cache.Prefixes(p, *tip));
      for (const std::string& q : c3c4s) VOUCH_RETURN_IF_ERROR(write_shard(p + "/" + q));
    }
  }
  // Remember what each bundle was cut from, so the next export can be `--since BUNDLE-ID`.
  for (const auto& b : written) VOUCH_RETURN_IF_ERROR(cache.RecordExport(b.id, *tip));
  return written;
}

}  // namespace vouch::cache
