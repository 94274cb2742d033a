// Reading a published tree (cache/publish.h) over HTTP(S): a carrier filling a stick with the
// shards of some devices (`vouch fetch`), and a cache pulling every shard it has not seen
// (`vouch cache pull http(s)://...`). Spec page: cache/publish.md, "Reading".
//
// Every download goes to a temporary file in the folder it is meant for, capped at the size
// the index declares, and is checked as any bundle from any medium (formats/bundle.md: the
// reader rules, the id the index names, the shard's prefix, its voucher count, every
// voucher's id) before anything is renamed into place or imported: a tampered or truncated
// download leaves the destination as it was.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "cache/http/client.h"
#include "cache/publish_index.h"

namespace vouch::cache {

struct StaticLimits {
  uint64_t max_fetch_bytes = 2ull << 30;  // shards one `vouch fetch` downloads (a stick's worth)
  // Shards one pull downloads: a whole tree of some 20 million vouchers. A pull imports a
  // group at a time, so its disk and memory follow group_bytes, not this.
  uint64_t max_pull_bytes = 64ull << 30;
  uint64_t group_bytes = 256ull << 20;    // downloaded, checked and imported together
  size_t max_shards = kMaxIndexEntries;
  // Wall-clock budgets of a whole run, every transfer included: a server trickling just
  // above the low-speed limit cannot hold a carrier or a mirror for days. A pull commits a
  // group at a time, so one cut short keeps its groups and the next goes on from there.
  long fetch_seconds = 2 * 3600;
  long pull_seconds = 12 * 3600;
  http::Limits http;
};

// Called after each shard: how many of `total` are done, and the bytes so far.
using StaticProgress = std::function<void(size_t done, size_t total, uint64_t bytes)>;

// The mirror's index, read and checked (DecodeIndex), at most kMaxIndexSize.
Result<PublishIndex> ReadStaticIndex(const std::string& url, const http::Limits& limits = {});

// Whether `url` (http or https) serves a published tree: its index read (the tree's), none
// when the server answers 404 for it, or 200 with a body that does not start with
// "vouch-index/" (a git remote over https, say). Any other failure, an index that starts so
// and does not read included, is that error: a mirror that claims to be a tree is never
// silently read as something else.
Result<std::optional<PublishIndex>> ProbeStaticMirror(const std::string& url, const http::Limits& limits = {});

struct StaticFetchReport {
  std::vector<IndexEntry> downloaded;  // shards written to the stick
  std::vector<IndexEntry> present;     // already there (same id), not downloaded again
  std::vector<std::string> missing;    // devices the index names no shard for
  uint64_t bytes = 0;
};

// Writes under `out`, at vouch.vshards/<prefix>/<ID>.vbundle (the stick layout a device
// reads), the shard of each device in `devices` (canonical UDFs). All of them are downloaded
// and checked before the first is renamed into place. kNotFound when the index names no
// shard for any of the devices.
Result<StaticFetchReport> FetchStaticShards(const std::string& url, const std::set<std::string>& devices,
                                            const std::filesystem::path& out, const StaticLimits& limits = {},
                                            const StaticProgress& progress = {});

// Refusals a pull keeps to report; past it only counted.
inline constexpr size_t kMaxReportedRefusals = 1000;

struct StaticPullReport {
  size_t shards = 0;       // named by the index
  size_t new_shards = 0;   // downloaded and imported
  size_t groups = 0;       // imports (commits) made
  uint64_t bytes = 0;
  AddReport added;         // its `refused` stays empty: see below
  std::vector<CandidateReport> refused;  // vouchers the cache's rules refused, the first kMaxReportedRefusals
  size_t refused_count = 0;
  std::vector<CandidateReport> failed_shards;  // shards that failed their checks: left out, tried again next time
};

// Imports the vouchers of every shard of `index` (read from `url`) whose id the cache has
// not pulled before (remembered in <cache>/vouch/static-pulled/<key of the URL>, pruned to
// the ids of the current index), through Cache::Add: anchors, ids and the append-only rule apply as to any
// import. Shards go a group at a time (up to group_bytes): each shard of a group is
// downloaded and checked (into a folder under <cache>/vouch/) before any is imported, then
// the group is imported in one commit and remembered. A shard that fails its checks (a
// tampered, short or misnamed download) is left out, reported in `failed_shards` and not
// remembered (the next pull tries it again): one bad shard withholds its own prefix, not
// the tree. Trouble with the network, the disk or the time budget (kIo) ends the pull with
// that error; the groups committed before stay, remembered. Vouchers the cache's own rules refuse (a signer it does
// not trust, say) are reported in `refused` as `cache import` reports them: the group's
// others are committed, the group remembered, and the pull goes on.
Result<StaticPullReport> PullStatic(Cache& cache, const std::string& url, const PublishIndex& index,
                                    const StaticLimits& limits = {}, const StaticProgress& progress = {});

}  // namespace vouch::cache
