// Reading a medium (a mounted stick, a directory, a bundle file) for one device's vouchers
// (DESIGN.md section 9). Read-only: nothing is ever opened for writing, no link is followed,
// no other filesystem is entered, and every walk and read is bounded.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cache/enroll.h"
#include "formats/bundle.h"
#include "libvoucher/status.h"

namespace vouch::cache {

struct MediumLimits {
  size_t max_depth = 8;             // directory levels below a mount point
  size_t max_dirents = 200000;      // directory entries looked at, all media together
  size_t max_vouchers = 4096;       // candidate vouchers for this device, all media together
  size_t max_bundles = 1024;        // bundle files opened
  formats::BundleLimits bundle;
};

struct Scan {
  std::vector<Found> found;               // candidate envelopes for the device
  std::vector<CandidateReport> refused;   // sources refused whole (a hostile bundle, an oversize file)
  std::vector<std::string> notes;         // limits reached, sources skipped
};

// Looks under each medium for `vouchers/` trees, `*.vbundle` files, `vouch.vshards` shard
// sets and `*.git` caches, and collects only the vouchers filed under `device_udf`.
Scan ScanMedia(const std::vector<std::filesystem::path>& media, const std::string& device_udf,
               const MediumLimits& limits = {});

// ScanMedia, then Enroll (enroll.h), with sources refused whole reported among the
// candidates: `vouch-device fetch`.
struct FetchReport {
  EnrollReport report;
  std::vector<std::string> notes;
};
Result<FetchReport> Fetch(DeviceState& device, const std::vector<std::filesystem::path>& media, bool dry_run,
                          const MediumLimits& limits = {});

}  // namespace vouch::cache
