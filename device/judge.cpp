#include "device/judge.h"

#include <algorithm>

#include "formats/envelope.h"
#include "libvoucher/enroll.h"

namespace vouch::device {

const char* OutcomeName(EnrollReport::Outcome o) {
  switch (o) {
    case EnrollReport::Outcome::kEnrolled: return "enrolled";
    case EnrollReport::Outcome::kAlreadyCurrent: return "already-current";
    case EnrollReport::Outcome::kNoVoucher: return "no-voucher";
    case EnrollReport::Outcome::kAllRefused: return "all-refused";
  }
  return "all-refused";
}

namespace {

// What one envelope comes to against one state of the device.
struct Judged {
  CandidateReport report;
  std::optional<Enrolled> enrolled;  // acceptable: would be applied if newest
};

Judged JudgeOne(const DeviceState& device, const Found& f, Instant now) {
  Judged j;
  j.report.source = f.source;
  const DeviceIdentity& id = device.identity();
  if (auto kind = formats::Sniff(f.envelope); kind.ok()) j.report.id = formats::VoucherId(*kind, f.envelope);
  // Without a trusted clock the device cannot judge validity periods (RFC 8995 2.6.1).
  TimePolicy time = id.trusted_clock ? TimePolicy::At(now) : TimePolicy::None();
  auto verified = formats::VerifyVoucher(f.envelope, AcceptedAnchors(id, device.current()), time);
  if (!verified.ok()) {
    j.report.status = verified.status();
    return j;
  }
  j.report.created_on = verified->voucher.created_on_text;
  Candidate c{&verified->voucher, verified->id, verified->envelope.anchor, verified->envelope.signer};
  auto decision = Evaluate(id, device.current(), c, now);
  if (!decision.ok()) {
    j.report.status = decision.status();
  } else if (decision->already_current) {
    j.report.current = true;
  } else {
    j.enrolled = std::move(decision->enrolled);
  }
  return j;
}

}  // namespace

Judge::Judge(const DeviceState& snapshot, JudgeLimits limits) : snapshot_(snapshot), limits_(limits) {}

void Judge::Report(CandidateReport r) {
  if (refusals_++ < limits_.max_reported) {
    report_.candidates.push_back(std::move(r));
  } else {
    report_.tally[CodeName(r.status.ok() ? Code::kInternal : r.status.code())]++;
  }
}

void Judge::Consider(std::string source, Bytes envelope) {
  // The same voucher twice (a hard link, a bundle and a directory) is judged once.
  if (auto kind = formats::Sniff(envelope); kind.ok()) {
    std::string id = formats::VoucherId(*kind, envelope);
    if (seen_ids_.count(id)) {
      ++duplicates_;
      return;
    }
    if (seen_ids_.size() < limits_.max_judged) seen_ids_.insert(id);
  }
  if (judged_ >= limits_.max_judged || judging_ > limits_.max_judging) {
    ++over_budget_;
    return;
  }
  ++judged_;
  Found f{std::move(source), std::move(envelope)};
  auto started = std::chrono::steady_clock::now();
  Judged j = JudgeOne(snapshot_, f, Instant::Now());
  judging_ += std::chrono::steady_clock::now() - started;
  if (!j.enrolled && !j.report.current) {
    Report(std::move(j.report));
    return;
  }
  int64_t created = j.enrolled ? j.enrolled->created_on.micros : snapshot_.current()->created_on.micros;
  kept_.push_back(Kept{std::move(f), std::move(j.report), created});
  if (kept_.size() > limits_.max_kept) {
    // Only the newest can win; the oldest kept one is dropped, and said so.
    auto oldest = std::min_element(kept_.begin(), kept_.end(),
                                   [](const Kept& a, const Kept& b) { return a.created_on_us < b.created_on_us; });
    CandidateReport r = std::move(oldest->report);
    r.status = Error(Code::kRollback, "a newer acceptable voucher was found");
    r.current = false;
    kept_.erase(oldest);
    Report(std::move(r));
  }
}

void Judge::Refuse(std::string source, Status why) {
  if (why.code() == Code::kNoMedium) ++not_found_;
  CandidateReport r;
  r.source = std::move(source);
  r.status = std::move(why);
  Report(std::move(r));
}

void Judge::Tally(Code code, uint64_t count) {
  report_.tally[CodeName(code)] += count;
  refusals_ += count;
}

void Judge::Note(std::string note) {
  if (report_.notes.size() < 64) report_.notes.push_back(std::move(note));
}

void Judge::Abandon(const Status& why) {
  for (Kept& k : kept_) {
    k.report.status = Error(Code::kReaderFailed, "not applied: " + why.message());
    k.report.current = false;
    Report(std::move(k.report));
  }
  kept_.clear();
  Refuse("medium reader", why);
}

Result<EnrollReport> Judge::Finish(DeviceState& fresh, bool dry_run) {
  EnrollReport report = std::move(report_);
  if (duplicates_) report.notes.push_back(std::to_string(duplicates_) + " more copies of vouchers already judged");
  if (over_budget_) {
    report.notes.push_back("judging stopped after " + std::to_string(judged_) + " candidates (caps: " +
                           std::to_string(limits_.max_judged) + ", " + std::to_string(limits_.max_judging.count() / 1000) +
                           " s); " + std::to_string(over_budget_) + " were not judged");
  }
  Instant now = Instant::Now();
  std::optional<Enrolled> best;
  size_t best_index = 0;
  bool saw_current = false;
  size_t first = report.candidates.size();
  for (Kept& k : kept_) {
    // Against the state as it is now, under the lock: another fetch may have applied since.
    Judged j = JudgeOne(fresh, k.found, now);
    if (j.report.current) saw_current = true;
    if (j.enrolled && (!best || j.enrolled->created_on > best->created_on)) {
      best = std::move(j.enrolled);
      best_index = report.candidates.size();
    }
    report.candidates.push_back(std::move(j.report));
  }
  if (best) {
    if (!dry_run) {
      const Found& f = kept_[best_index - first].found;
      auto kind = formats::Sniff(f.envelope);
      VOUCH_RETURN_IF_ERROR(fresh.Apply(*best, f.envelope, formats::Extension(*kind)));
    }
    report.candidates[best_index].applied = true;
    report.outcome = EnrollReport::Outcome::kEnrolled;
    // Older acceptable candidates lost to a newer one: say so rather than leave them "ok".
    for (size_t i = first; i < report.candidates.size(); ++i) {
      auto& r = report.candidates[i];
      if (i != best_index && r.status.ok() && !r.current) r.status = Error(Code::kRollback, "a newer acceptable voucher was found");
    }
  } else if (saw_current) {
    report.outcome = EnrollReport::Outcome::kAlreadyCurrent;
  } else {
    // Media that were not there are not vouchers refused.
    bool refused = refusals_ > not_found_ || !kept_.empty() || over_budget_ > 0;
    report.outcome = refused ? EnrollReport::Outcome::kAllRefused : EnrollReport::Outcome::kNoVoucher;
  }
  report.generation = fresh.generation();
  if (fresh.current()) report.combined_key = fresh.current()->combined_key.Fingerprint();
  if (best && dry_run) report.combined_key = best->combined_key.Fingerprint();
  return report;
}

Result<EnrollReport> Enroll(DeviceState& device, const std::vector<Found>& found, bool dry_run) {
  Judge judge(device);
  for (const Found& f : found) judge.Consider(f.source, f.envelope);
  return judge.Finish(device, dry_run);
}

}  // namespace vouch::device
