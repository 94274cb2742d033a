#include "cache/enroll.h"

#include "formats/envelope.h"
#include "libvoucher/enroll.h"

namespace vouch::cache {

const char* OutcomeName(EnrollReport::Outcome o) {
  switch (o) {
    case EnrollReport::Outcome::kEnrolled: return "enrolled";
    case EnrollReport::Outcome::kAlreadyCurrent: return "already-current";
    case EnrollReport::Outcome::kNoVoucher: return "no-voucher";
    case EnrollReport::Outcome::kAllRefused: return "all-refused";
  }
  return "all-refused";
}

Result<EnrollReport> Enroll(DeviceState& device, const std::vector<Found>& found, bool dry_run) {
  EnrollReport report;
  const DeviceIdentity& id = device.identity();
  // Without a trusted clock the device cannot judge validity periods (RFC 8995 2.6.1).
  TimePolicy time = id.trusted_clock ? TimePolicy::Now() : TimePolicy::None();
  std::vector<Certificate> anchors = AcceptedAnchors(id, device.current());
  Instant now = Instant::Now();

  std::optional<Enrolled> best;
  size_t best_index = 0;
  bool saw_current = false;
  for (const Found& f : found) {
    CandidateReport r;
    r.source = f.source;
    if (auto kind = formats::Sniff(f.envelope); kind.ok()) r.id = formats::VoucherId(*kind, f.envelope);
    auto verified = formats::VerifyVoucher(f.envelope, anchors, time);
    if (!verified.ok()) {
      r.status = verified.status();
      report.candidates.push_back(std::move(r));
      continue;
    }
    r.created_on = verified->voucher.created_on_text;
    Candidate c{&verified->voucher, verified->id, verified->envelope.anchor};
    auto decision = Evaluate(id, device.current(), c, now);
    if (!decision.ok()) {
      r.status = decision.status();
    } else if (decision->already_current) {
      r.current = true;
      saw_current = true;
    } else if (!best || decision->enrolled->created_on > best->created_on) {
      best = std::move(decision->enrolled);
      best_index = report.candidates.size();
    }
    report.candidates.push_back(std::move(r));
  }

  if (best) {
    if (!dry_run) {
      const Found& f = found[best_index];
      auto kind = formats::Sniff(f.envelope);
      VOUCH_RETURN_IF_ERROR(device.Apply(*best, f.envelope, formats::Extension(*kind)));
    }
    report.candidates[best_index].applied = true;
    report.outcome = EnrollReport::Outcome::kEnrolled;
    // Older acceptable candidates lost to a newer one: say so rather than leave them "ok".
    for (size_t i = 0; i < report.candidates.size(); ++i) {
      auto& r = report.candidates[i];
      if (i != best_index && r.status.ok() && !r.current) {
        r.status = Error(Code::kRollback, "a newer acceptable voucher was found");
      }
    }
  } else if (saw_current) {
    report.outcome = EnrollReport::Outcome::kAlreadyCurrent;
  } else {
    report.outcome = found.empty() ? EnrollReport::Outcome::kNoVoucher : EnrollReport::Outcome::kAllRefused;
  }
  report.generation = device.generation();
  if (device.current()) report.combined_key = device.current()->combined_key.Fingerprint();
  if (best && dry_run) report.combined_key = best->combined_key.Fingerprint();
  return report;
}

}  // namespace vouch::cache
