// The bundle manifest `vouch-bundle.json` (DESIGN.md section 7; spec page formats/bundle.md):
//   {"format":"vouch-bundle/1","created-on":"...","count":N,
//    "entries":[{"path":"vouchers/...","size":123,"id":"M..."}, ...]}
// compact UTF-8, keys in this order, entries sorted by path (byte order), no duplicates.
#pragma once

#include <string>
#include <vector>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::formats {

inline constexpr std::string_view kManifestName = "vouch-bundle.json";
inline constexpr std::string_view kManifestFormat = "vouch-bundle/1";
inline constexpr std::string_view kBundleMediaType = "application/vouch-bundle+json";
inline constexpr std::string_view kBundleExtension = "vbundle";

struct ManifestEntry {
  std::string path;
  uint64_t size = 0;
  std::string id;
};

struct Manifest {
  std::string created_on;  // RFC 3339: the newest voucher's created-on, so writing is deterministic
  std::vector<ManifestEntry> entries;
};

Bytes EncodeManifest(const Manifest& m);

// Refuses: not JSON or wrong shape (kMalformed), unsorted or repeated paths
// (kManifestUnsorted), a path that is not a layout path (kUnsafePath), an id that is not
// the one the path names or a count that is not the number of entries (kManifestMismatch),
// more than `max_entries` (kTooManyEntries), a size over `max_voucher` (kTooLarge).
Result<Manifest> DecodeManifest(ByteView bytes, size_t max_entries, uint64_t max_voucher);

// UDF of kBundleMediaType over the exact manifest bytes, 260 bits.
std::string BundleId(ByteView manifest_bytes);

}  // namespace vouch::formats
