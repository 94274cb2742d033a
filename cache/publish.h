// `vouch publish`: a cache as a static tree that any web server, object store or CDN serves
// with no code of ours running there (spec page cache/publish.md):
//
//   vouch.index                                    which shard is current for each prefix
//   vouch.vshards/<c1c2>/[<c3c4>/]<ID>.vbundle     the shards, immutable, named by bundle id
//   log/checkpoint, log/tile/..., log/index/...    the cache's transparency log, when it has one
//
// Run again on the same folder, it writes only the shards whose prefix gained vouchers, the
// log tiles it lacks, the checkpoint, and last the index (atomically), so a reader never sees
// an index naming a shard not yet written.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "cache/publish_index.h"

namespace vouch::cache {

inline constexpr std::string_view kPublishedLogDirectory = "log";

struct PublishOptions {
  bool prune = false;  // remove the shards the new index no longer names
  size_t deep_shard_threshold = formats::kShardThreshold;
};

struct PublishReport {
  size_t vouchers = 0;
  std::vector<IndexEntry> written;  // shards written by this run
  size_t kept = 0;                  // shards the last run wrote, still current
  std::vector<std::string> pruned;  // shard paths removed (PublishOptions::prune)
  size_t log_files = 0;             // log files written (tiles, index tiles, checkpoint)
  uint64_t log_size = 0;            // the published checkpoint's tree size (0: no log)
  PublishIndex index;
};

Result<PublishReport> Publish(const Cache& cache, const std::filesystem::path& out, const PublishOptions& options);

}  // namespace vouch::cache
