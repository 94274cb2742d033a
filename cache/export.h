// Packing vouchers into bundles for sticks (DESIGN.md sections 7 and 10; formats/bundle.md):
// what `vouch bundle create` does, from a directory of voucher files or from the cache.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "formats/bundle.h"

namespace vouch::cache {

struct ExportRequest {
  std::set<std::string> devices;  // canonical device UDFs; empty: every device
  std::filesystem::path out;      // where <BUNDLE-ID>.vbundle (or vouch.vshards/) goes
  size_t shard_threshold = formats::kShardThreshold;
  size_t deep_shard_threshold = formats::kShardThreshold;  // a c1c2 over it is cut by c3c4
  // Called after each shard of a sharded ExportCache is written, before the next is read
  // (progress; the tests move the branch here).
  std::function<void(const formats::WrittenBundle&)> on_shard;
};

// Every voucher file under `dir` (links not followed), filed by what its bytes say: the
// device key inside the voucher and the id of the bytes, wherever the file happened to be.
// Read a batch at a time, each file parsed once, on every core; the first file that cannot
// be filed stops the export (naming it). kNotFound when nothing is left to pack.
Result<std::vector<formats::WrittenBundle>> ExportDirectory(const std::filesystem::path& dir, const ExportRequest& request);

// The cache's vouchers, or those added after `since` (a commit-ish, or a bundle id exported
// earlier); each bundle written is recorded (Cache::RecordExport) so that the next export
// can be `since` it. kNotFound when nothing is left to pack.
Result<std::vector<formats::WrittenBundle>> ExportCache(Cache& cache, const std::string& since, const ExportRequest& request);

}  // namespace vouch::cache
