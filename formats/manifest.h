// The bundle manifest `vouch-bundle.json` (DESIGN.md section 7; spec page formats/bundle.md):
//   {"format":"vouch-bundle/1","created-on":"...","count":N,
//    "entries":[{"path":"vouchers/...","size":123,"id":"M..."}, ...]}
// compact UTF-8, keys in this order, entries sorted by path (byte order), no duplicates.
// An entry is a voucher at its layout path or a voucher's log proof at the voucher's path +
// ".tlog-proof" (formats/layout.md), which directly follows its voucher's entry.
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
  std::string id;     // the voucher's id, for a proof entry the id of the voucher it is for
  bool proof = false;  // a proof entry (not written: its path says so)
};

struct Manifest {
  std::string created_on;  // RFC 3339: the newest voucher's created-on, so writing is deterministic
  std::vector<ManifestEntry> entries;
};

Bytes EncodeManifest(const Manifest& m);

// Refuses: not JSON or wrong shape (kMalformed), unsorted or repeated paths
// (kManifestUnsorted), a path that is neither a layout path nor a proof path (kUnsafePath),
// an id that is not the one the path names, a count that is not the number of entries, or a
// proof whose voucher's entry does not come right before it (kManifestMismatch), more than
// `max_entries` vouchers (kTooManyEntries; each may have its proof besides), a voucher over
// `max_voucher` or a proof over `max_proof` bytes (kTooLarge).
Result<Manifest> DecodeManifest(ByteView bytes, size_t max_entries, uint64_t max_voucher,
                                uint64_t max_proof = 64 * 1024);

// The manifest's size cap for `max_entries` vouchers, each with a proof (an entry line is
// under 300 bytes).
inline uint64_t ManifestCap(size_t max_entries) { return 512 * (2 * uint64_t{max_entries} + 1); }

// UDF of kBundleMediaType over the exact manifest bytes, 260 bits.
std::string BundleId(ByteView manifest_bytes);

}  // namespace vouch::formats
