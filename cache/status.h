// `vouch cache status`: the owner's view of a fleet (issue 14; cache/cache.md, "Status"). Per
// device: how many vouchers the cache holds for it, the newest, whether it has enrolled (the
// receipt of highest generation that came back), and whether its certificate for Z is due for
// renewal.
//
// Everything is read from the vouchers branch as it is; nothing is verified again (the cache
// verified each voucher and receipt as it came): vouchers are decoded without their
// signatures (formats::DecodeUnverified), their certificates read for notAfter alone
// (CertificateNotAfter), receipts read as HeldReceipt. Blobs are read and decoded on every
// core, once: what was read is kept by blob id (status_facts.h), so a run reads only the
// blobs new since the last, and a fleet of 10,000 devices answers in well under a second
// (bench/bench_status.cpp), in memory that does not grow with the fleet.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "libvoucher/instant.h"
#include "libvoucher/status.h"

namespace vouch::cache {

struct FleetStatusRequest {
  std::set<std::string> devices;  // canonical device UDFs; empty: every device the cache holds
  Instant now;                    // renewal is judged at this instant
  int64_t within_seconds = 30 * 86400;  // due when the certificate's notAfter is at most this far from now
};

struct DeviceStatus {
  std::string device;   // canonical UDF
  size_t vouchers = 0;  // filed under the device
  struct Newest {
    std::string id;
    Instant created_on;
    std::optional<Instant> certificate_not_after;  // none: the voucher carries no certificate for Z
  };
  std::optional<Newest> newest;  // by created-on, ties by id (the larger wins); none with no voucher
  struct Enrolled {
    std::string receipt_id;
    int64_t generation = 0;
    Instant time;  // by the device's clock
    std::string voucher_id;
  };
  std::optional<Enrolled> enrolled;  // the receipt of highest generation; none before one came back
  bool renewal_due = false;          // the newest voucher's certificate ends within the window
};

struct FleetStatus {
  std::vector<DeviceStatus> devices;  // by UDF
  size_t enrolled = 0;
  size_t renewal_due = 0;
};

struct FleetSummary {
  size_t devices = 0;
  size_t enrolled = 0;
  size_t renewal_due = 0;
};

// Calls `each` with every device's status in UDF order, as soon as it is known, and returns
// the counts. Memory does not grow with the cache (cache/cache.md, "Status"): the tree is
// walked a device directory at a time (vouchers/ and receipts/ side by side), blobs are read
// a batch of devices at a time, and what was read of each is kept in a file read and written
// beside the walk (status_facts.h). An error from `each` stops the walk and is returned.
// kMalformed when a voucher or receipt on the branch cannot be read back (a cache that
// `cache verify` would refuse), kTooLarge over the voucher or receipt cap: the devices before
// it have been passed to `each` already.
Result<FleetSummary> ForEachDeviceStatus(const Cache& cache, const FleetStatusRequest& request,
                                         const std::function<Status(const DeviceStatus&)>& each);

// ForEachDeviceStatus, collected (its memory grows with the fleet: for tests and small fleets).
Result<FleetStatus> ReadFleetStatus(const Cache& cache, const FleetStatusRequest& request);

}  // namespace vouch::cache
