// Judging the vouchers found for this device, one at a time, and applying the newest
// acceptable one (DESIGN.md section 9, docs/device-state.md).
//
// A fetch streams candidates from the confined reader; each is verified and judged as it
// arrives against a snapshot of the device, and only the few that could be applied are kept
// (memory does not grow with the medium). The decision is then made again under the state
// lock, against the state as it is then, and only that decision is applied.
//
// Each envelope is identified (kind, id) and parsed and verified once: what is kept carries
// its verified voucher, and the decision under the lock re-applies the device's rules
// (libvoucher/enroll.h, Evaluate) to it without parsing it again.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "formats/candidate_report.h"
#include "device/log_policy.h"
#include "formats/envelope.h"
#include "libvoucher/bytes.h"
#include "libvoucher/device_state.h"
#include "libvoucher/status.h"

namespace vouch::device {

// One envelope, where it was found ("stick/vouchers/B5/SR/.../MDDK....vjj"), and the log
// proof found beside it, if any.
struct Found {
  std::string source;
  Bytes envelope;
  std::optional<Bytes> proof = std::nullopt;
};

using formats::CandidateReport;

struct EnrollReport {
  enum class Outcome { kEnrolled, kAlreadyCurrent, kNoVoucher, kAllRefused };
  Outcome outcome = Outcome::kNoVoucher;
  std::vector<CandidateReport> candidates;  // the kept and the first kMaxReported refused
  std::map<std::string, uint64_t> tally;    // refusals past those, by code name
  std::vector<std::string> notes;
  int generation = 0;           // the device's generation afterwards
  std::string combined_key;     // UDF of Z afterwards, when enrolled
  std::string change;           // what the applied voucher did (libvoucher ChangeName), or empty
};

const char* OutcomeName(EnrollReport::Outcome o);  // "enrolled", "already-current", ...

struct JudgeLimits {
  size_t max_kept = 16;        // acceptable candidates kept for the decision under the lock
  size_t max_reported = 256;   // refusals reported one by one; the rest are tallied
  size_t max_judged = 1024;    // candidates verified and decrypted per fetch (work, not memory)
  std::chrono::milliseconds max_judging{8000};  // time spent judging per fetch
};

class Judge {
 public:
  // A snapshot whose log policy does not parse refuses every candidate with that status
  // (a device must not judge as one without a policy); Fetch checks it first.
  explicit Judge(const DeviceState& snapshot, JudgeLimits limits = {});

  // Verifies and judges one envelope and the log proof found with it; keeps it if it could
  // be applied. With a log policy, a voucher without a valid proof is refused (kNotLogged,
  // or the proof's code) before its y is decrypted; the one the device already runs is not
  // asked for one again.
  void Consider(std::string source, Bytes envelope, std::optional<Bytes> proof = std::nullopt);
  // A source the reader refused whole (a hostile bundle), or `count` more refusals of `code`.
  void Refuse(std::string source, Status why);
  void Tally(Code code, uint64_t count);
  void Note(std::string note);
  // The reader failed: nothing it sent may be applied. Kept candidates become refusals.
  void Abandon(const Status& why);

  // Judges the kept candidates again against `fresh` (the state re-read under its lock, its
  // log policy included) and applies the newest acceptable one unless `dry_run`. Only a
  // failure to read the fresh policy or to write the state is an error; every refusal is in
  // the report.
  Result<EnrollReport> Finish(DeviceState& fresh, bool dry_run);

  size_t judged() const { return judged_; }

 private:
  struct Kept {
    std::string source;
    formats::Envelope envelope;
    std::optional<Bytes> proof;
    formats::VerifiedVoucher verified;
    CandidateReport report;
  };
  void Report(CandidateReport r);

  const DeviceState& snapshot_;
  Result<std::optional<LogPolicy>> policy_;  // the snapshot's
  JudgeLimits limits_;
  std::vector<Kept> kept_;
  EnrollReport report_;
  std::set<std::string> seen_ids_;
  std::set<std::string> log_refused_ids_;  // seen, refused for their log proof only
  std::chrono::steady_clock::duration judging_{};  // time spent judging, not waiting for the reader
  size_t judged_ = 0, duplicates_ = 0, over_budget_ = 0, refusals_ = 0, not_found_ = 0;
};

// Judge every envelope in `found` against `device` and apply the newest acceptable one: the
// caller holds the state lock. `vouch-device accept`, and tests.
Result<EnrollReport> Enroll(DeviceState& device, const std::vector<Found>& found, bool dry_run);

}  // namespace vouch::device
