// Driving enrollment on a device: judge every voucher found for it, apply the newest
// acceptable one. Used by `vouch-device accept` (one file) and `vouch-device fetch` (media).
#pragma once

#include <string>
#include <vector>

#include "libvoucher/bytes.h"
#include "libvoucher/device_state.h"
#include "libvoucher/status.h"

namespace vouch::cache {

// One envelope, and where it was found ("stick/vouchers/B5/SR/.../MDDK....vjj").
struct Found {
  std::string source;
  Bytes envelope;
};

struct CandidateReport {
  std::string source;
  std::string id;          // voucher id, when the bytes were an envelope
  std::string created_on;  // as written, when the voucher decoded
  Status status;           // ok, or the refusal
  bool applied = false;
  bool current = false;    // the voucher the device already runs
};

struct EnrollReport {
  enum class Outcome { kEnrolled, kAlreadyCurrent, kNoVoucher, kAllRefused };
  Outcome outcome = Outcome::kNoVoucher;
  std::vector<CandidateReport> candidates;
  int generation = 0;           // the device's generation afterwards
  std::string combined_key;     // UDF of Z afterwards, when enrolled
};

const char* OutcomeName(EnrollReport::Outcome o);  // "enrolled", "already-current", ...

// Verifies each candidate's envelope against the device's accepted anchors (with the time
// policy its clock allows), applies the device rules (libvoucher/enroll.h), and applies the
// newest acceptable voucher unless `dry_run`. A refusal of one candidate is reported in
// it, never returned; only a failure to write the device state is an error.
Result<EnrollReport> Enroll(DeviceState& device, const std::vector<Found>& found, bool dry_run);

}  // namespace vouch::cache
