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

// What one verified voucher comes to against one state of the device.
struct Judged {
  CandidateReport report;
  bool log_refused = false;  // refused by the log check: another proof could change that
  std::optional<Enrolled> enrolled;  // acceptable: would be applied if newest
};

// Whether verifying against `b` is verifying against `a`: the same anchors (the factory's and
// the owner's, AcceptedAnchors), the same clock policy, the same device.
bool SameVerifier(const DeviceState& a, const DeviceState& b) {
  const DeviceIdentity &x = a.identity(), &y = b.identity();
  const auto &p = a.current(), &q = b.current();
  // The former owners too: a path through one of them is refused by name (enroll.h).
  bool same_owner = p.has_value() == q.has_value() &&
                    (!p || (p->domain_ca == q->domain_ca && p->former_owners == q->former_owners));
  return x.udf == y.udf && x.serial_number == y.serial_number && x.trusted_clock == y.trusted_clock &&
         x.factory_anchors == y.factory_anchors && same_owner;
}

// The time half of verification, again at `now`, from the window the path had (a trusted
// clock only): what verifying again would find about time, without parsing again.
Status PathStillValid(const formats::Verified& v, Instant now) {
  if (now > v.path_not_after) return Error(Code::kExpired, "a certificate on the signer's path has expired");
  if (now < v.path_not_before) return Error(Code::kNotYetValid, "a certificate on the signer's path is not yet valid");
  return Status::Ok();
}

// `policy` is the device's log policy (or why it could not be read); `bytes` the envelope's
// exact bytes, the leaf its proof must prove.
Judged Decide(const DeviceState& device, const Result<std::optional<LogPolicy>>& policy, const std::string& source,
              const formats::VerifiedVoucher& v, ByteView bytes, const std::optional<Bytes>& proof, Instant now) {
  Judged j;
  j.report.source = source;
  j.report.id = v.id;
  j.report.created_on = v.voucher.created_on_text;
  if (!policy.ok()) {
    j.report.status = policy.status();
    return j;
  }
  // The log is checked before anything else is done with the voucher (y is not decrypted
  // for a voucher the device would refuse anyway). The voucher the device already runs is
  // not asked for a proof again: it was judged when it was applied, and seeing it again
  // changes nothing (already current); a policy added since covers what comes next.
  bool running = device.current() && device.current()->voucher_id == v.id;
  if (*policy && !running) {
    // Only a trusted clock can say a checkpoint is stale (as for validity periods).
    std::optional<uint64_t> now_unix;
    if (device.identity().trusted_clock && now.micros >= 0) now_unix = static_cast<uint64_t>(now.seconds());
    Status logged = CheckLogged(**policy, bytes, proof, now_unix);
    if (!logged.ok()) {
      j.report.status = logged;
      j.log_refused = true;
      return j;
    }
    j.report.logged = true;
  }
  Candidate c{&v.voucher, v.id, v.envelope.anchor, v.envelope.signer, v.envelope.path};
  auto decision = Evaluate(device.identity(), device.current(), c, now);
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

Judge::Judge(const DeviceState& snapshot, JudgeLimits limits)
    : snapshot_(snapshot), policy_(LogPolicyOf(snapshot)), limits_(limits) {}

void Judge::Report(CandidateReport r) {
  if (refusals_++ < limits_.max_reported) {
    report_.candidates.push_back(std::move(r));
  } else {
    report_.tally[CodeName(r.status.ok() ? Code::kInternal : r.status.code())]++;
  }
}

void Judge::Consider(std::string source, Bytes bytes, std::optional<Bytes> proof) {
  auto envelope = formats::Identify(std::move(bytes));
  // The same voucher twice (a hard link, a bundle and a directory) is judged once; but one
  // refused for its log proof (none, or a bad one) is judged again when it comes with
  // another proof: a stick may hold a plain copy and a bundle with the proof. Each such
  // judgement counts against the judging budget like any other.
  if (envelope.ok()) {
    if (seen_ids_.count(envelope->id)) {
      if (!proof || !log_refused_ids_.erase(envelope->id)) {
        ++duplicates_;
        return;
      }
    }
    if (seen_ids_.size() < limits_.max_judged) seen_ids_.insert(envelope->id);
  }
  if (judged_ >= limits_.max_judged || judging_ > limits_.max_judging) {
    ++over_budget_;
    return;
  }
  ++judged_;
  auto started = std::chrono::steady_clock::now();
  Instant now = Instant::Now();
  const DeviceIdentity& id = snapshot_.identity();
  // Without a trusted clock the device cannot judge validity periods (RFC 8995 2.6.1).
  TimePolicy time = id.trusted_clock ? TimePolicy::At(now) : TimePolicy::None();
  Result<formats::VerifiedVoucher> verified =
      envelope.ok() ? formats::VerifyVoucher(*envelope, AcceptedAnchors(id, snapshot_.current()), time)
                    : Result<formats::VerifiedVoucher>(envelope.status());
  Judged j;
  if (verified.ok()) {
    j = Decide(snapshot_, policy_, source, *verified, envelope->bytes, proof, now);
  } else {
    j.report.source = source;
    if (envelope.ok()) j.report.id = envelope->id;
    j.report.status = verified.status();
  }
  judging_ += std::chrono::steady_clock::now() - started;
  if (!j.enrolled && !j.report.current) {
    if (j.log_refused && seen_ids_.count(j.report.id)) log_refused_ids_.insert(j.report.id);
    Report(std::move(j.report));
    return;
  }
  kept_.push_back(Kept{std::move(source), std::move(*envelope), std::move(proof), std::move(*verified), std::move(j.report)});
  if (kept_.size() > limits_.max_kept) {
    // Only the newest can win; the oldest kept one is dropped, and said so.
    auto oldest = std::min_element(kept_.begin(), kept_.end(), [](const Kept& a, const Kept& b) {
      return a.verified.voucher.created_on < b.verified.voucher.created_on;
    });
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
  // Both readers walk the same media, so a note (a limit met on the way) may come twice.
  if (std::find(report_.notes.begin(), report_.notes.end(), note) != report_.notes.end()) return;
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
  // The policy as it is now: `vouch-device log-policy` may have tightened it meanwhile.
  Result<std::optional<LogPolicy>> policy = LogPolicyOf(fresh);
  if (!policy.ok()) return policy.status();
  std::optional<Enrolled> best;
  size_t best_index = 0;
  bool saw_current = false;
  size_t first = report.candidates.size();
  for (Kept& k : kept_) {
    // Against the state as it is now, under the lock: another fetch may have applied since.
    // When the state verifies as the snapshot did (same anchors, clock policy, device), the
    // verification made as the envelope came stands, its time checked again at `now`; when
    // not (a new owner, a re-initialised device), the envelope is verified again, so that
    // the anchor the device's rules judge is the one the fresh state's anchors give.
    Status still = Status::Ok();
    if (!SameVerifier(snapshot_, fresh)) {
      TimePolicy time = fresh.identity().trusted_clock ? TimePolicy::At(now) : TimePolicy::None();
      auto again = formats::VerifyVoucher(k.envelope, AcceptedAnchors(fresh.identity(), fresh.current()), time);
      if (again.ok()) k.verified = std::move(*again);
      else still = again.status();
    } else if (fresh.identity().trusted_clock) {
      still = PathStillValid(k.verified.envelope, now);
    }
    if (!still.ok()) {
      k.report.status = still;
      k.report.current = false;
      report.candidates.push_back(std::move(k.report));
      continue;
    }
    Judged j = Decide(fresh, policy, k.source, k.verified, k.envelope.bytes, k.proof, now);
    if (j.report.current) saw_current = true;
    if (j.enrolled && (!best || j.enrolled->created_on > best->created_on)) {
      best = std::move(j.enrolled);
      best_index = report.candidates.size();
    }
    report.candidates.push_back(std::move(j.report));
  }
  if (best) {
    if (!dry_run) {
      const formats::Envelope& e = kept_[best_index - first].envelope;
      VOUCH_RETURN_IF_ERROR(fresh.Apply(*best, e.bytes, formats::Extension(e.kind)));
    }
    report.candidates[best_index].applied = true;
    report.outcome = EnrollReport::Outcome::kEnrolled;
    report.change = std::string(ChangeName(best->change));
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
  for (const Found& f : found) judge.Consider(f.source, f.envelope, f.proof);
  return judge.Finish(device, dry_run);
}

}  // namespace vouch::device
