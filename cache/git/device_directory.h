// The one reader of a device's directory on the vouchers branch: Cache::Get reads a cache's
// with it, and the confined medium reader a stick's copy of a cache (medium.h). It reads the
// way hostile input must be read: every object's type and size from its header before the
// object itself, the tip commit, each tree on the way down and each voucher blob.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cache/git/object_id.h"
#include "cache/git/repository.h"
#include "formats/bundle.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {

struct DirectoryLimits {
  uint64_t max_commit;   // the tip commit, message included
  uint64_t max_tree;     // each tree on the path to the device's directory
  uint64_t max_voucher;  // a voucher blob
  size_t max_vouchers;   // blobs read from the device's directory; the rest are not read
  uint64_t max_proof = 64 * 1024;  // a proof blob beside a voucher (tlog::kMaxProofSize)
};

// The vouchers filed under `device_udf` in the tree of the commit `tip`: entries that are
// not voucher files at their layout path are skipped; a voucher whose bytes do not have the
// id it is filed under is refused (kIdMismatch). A blob `<voucher>.tlog-proof` beside a
// voucher is read as its proof (a git cache copied to a stick may carry them; a proof
// without its voucher is ignored, formats/layout.md). `what` starts every message.
// Refusals: kTooLarge (a cap, a proof's included), kMalformed (an object of the wrong type,
// or unreadable), kIdMismatch.
Result<std::vector<formats::PackedVoucher>> ReadDeviceDirectory(const Repository& repo, const ObjectId& tip,
                                                                std::string_view device_udf,
                                                                const DirectoryLimits& limits, const std::string& what);

}  // namespace vouch::cache::git
