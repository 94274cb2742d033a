// The index of a published tree (spec page cache/publish.md): which shard is current for each
// layout prefix, with its size, its voucher count and its bundle id. A reader of a static
// mirror reads it first and downloads only the shards it needs; the shard's path is derived
// from the prefix and the id (vouch.vshards/<prefix>/<BUNDLE-ID>.vbundle), never read from the
// index, so no index can name a path outside the shard folder.
//
// The index is not signed: it is a hostile map. What it can do is withhold or misname shards
// (a denial a hostile server can do anyway); every shard is checked against the id the index
// gives and every voucher against its own id, signatures and log as from any medium.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::cache {

inline constexpr std::string_view kIndexName = "vouch.index";
inline constexpr std::string_view kIndexVersion = "vouch-index/1";
// The layout has 128 c1c2 prefixes, each cut into at most 1,024 c3c4 ones: no index of a
// tree cut by formats::CutShards names more shards than that.
inline constexpr size_t kMaxIndexEntries = 128 * 1024;
// A line is at most "XX/YY 16384 1073741824 <64-character id>\n", 96 bytes; a reader refuses
// a longer one before splitting it, so no line costs more than this to read.
inline constexpr size_t kMaxIndexLine = 128;
inline constexpr uint64_t kMaxIndexSize = 16ull << 20;
inline constexpr uint64_t kMaxShardVouchers = 16384;     // formats::BundleLimits::max_entries
inline constexpr uint64_t kMaxShardSize = 1ull << 30;    // formats::BundleLimits::max_file

struct IndexEntry {
  std::string prefix;  // "B5" or "B5/SR" (formats::ShardPrefixes)
  uint64_t vouchers = 0;
  uint64_t size = 0;   // bytes of the shard file
  std::string id;      // its bundle id (260-bit UDF, canonical spelling)
  bool operator==(const IndexEntry&) const = default;
};

struct PublishIndex {
  std::vector<IndexEntry> entries;  // sorted by prefix, byte order

  // The entry for a device's vouchers (its c1c2 shard or its c1c2/c3c4 one), if any.
  std::optional<IndexEntry> ForDevice(std::string_view device_udf) const;
  // The shard's path below the published tree's root.
  static std::string ShardPath(const IndexEntry& e);
};

// Writes the canonical bytes; the entries must be sorted and valid (kInternal otherwise).
Result<Bytes> EncodeIndex(const PublishIndex& index);
// Reads an index strictly (cache/publish.md, "Reading"): kTooLarge over kMaxIndexSize or
// kMaxIndexEntries, kUnsupported for another version, kTruncated when the lines are fewer
// than the header says or the last has no newline, kMalformed for anything else (a field,
// an unsafe or unsorted prefix, a repeated one, a prefix beside its own c3c4 cut, an id
// that is not a bundle id in its one spelling).
Result<PublishIndex> DecodeIndex(ByteView bytes);

}  // namespace vouch::cache
