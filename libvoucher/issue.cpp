#include "libvoucher/issue.h"

#include <algorithm>

#include "libvoucher/authority.h"
#include "libvoucher/cogen.h"
#include "libvoucher/enroll.h"
#include "libvoucher/suite.h"

namespace vouch {

Result<Draft> DraftVoucher(const DraftRequest& r) {
  if (r.serial_number.empty()) return Error(Code::kUsage, "serial number is empty");
  if (r.expires_on && *r.expires_on <= r.created_on) return Error(Code::kUsage, "voucher would expire before it is created");
  if (r.domain_ca_key) {
    auto ca_key = r.domain_ca.Key();
    if (!ca_key.ok() || !(*ca_key == r.domain_ca_key->Public())) {
      return Error(Code::kUsage, "domain CA key does not match the domain CA certificate");
    }
  }
  if (r.contributions.size() + 1 > cogen::kMaxContributions) {
    return Error(Code::kUsage, "at most " + std::to_string(cogen::kMaxContributions - 1) + " contributions besides the owner's own");
  }
  VOUCH_ASSIGN_OR_RETURN(cogen::Contribution c, cogen::Contribute(r.device_key));

  Enrollment e;
  e.device_key = r.device_key.Fingerprint();
  e.suite = std::string(SuiteName(SuiteOfGroup(r.device_key.group())));
  // DESIGN.md 3: each y_i sealed to X; info fixed; aad = the device-key leaf. The owner's y
  // is wiped when c dies; its only copy out is the ciphertext.
  VOUCH_ASSIGN_OR_RETURN(SealedContribution own, cogen::Seal(r.device_key, e.device_key, c.y));
  e.contributions.push_back(std::move(own));
  for (const SealedContribution& other : r.contributions) e.contributions.push_back(other);
  // Every other Y_i must be in X's group; Z is then X + all of them.
  std::vector<PublicKey> ys = {c.y.Public()};
  for (const SealedContribution& other : r.contributions) {
    if (!other.key) return Error(Code::kUsage, "a contribution names no key");
    auto y = PublicKey::FromSpkiDer(*other.key);
    if (!y.ok()) return y.status().Context("contribution");
    if (y->group() != r.device_key.group()) {
      return Error(Code::kUsage, "a contribution is a " + std::string(GroupName(y->group())) + " key, the device key " +
                                     std::string(GroupName(r.device_key.group())));
    }
    if (!other.proof) return Error(Code::kUsage, "a contribution comes without its proof of possession");
    VOUCH_RETURN_IF_ERROR(cogen::VerifyPossession(*y, r.device_key, *other.proof).Context("contribution"));
    ys.push_back(*y);
  }
  VOUCH_ASSIGN_OR_RETURN(PublicKey combined, cogen::CombinePublic(r.device_key, ys));
  e.combined_key = combined.SpkiDer();
  if (r.domain_ca_key) {
    CertSpec spec;
    spec.common_name = r.serial_number;
    spec.serial_number = r.serial_number;
    spec.not_before = r.created_on.Plus(-300);
    spec.days = r.certificate_days;
    // DESIGN.md 3a: a certificate for Z names a purpose, and it is not signing vouchers; were it
    // able to, one device of a fleet could re-key its siblings.
    spec.extended_key_usage = {std::string(kClientAuthEku)};
    // DESIGN.md 3b: how Z was made, so that anyone can check Z = X + sum Y_i.
    std::vector<Bytes> proofs;
    for (const SealedContribution& sealed : e.contributions) proofs.push_back(*sealed.proof);
    spec.construction = Construction{r.device_key, ys, std::move(proofs)};
    VOUCH_ASSIGN_OR_RETURN(Bytes cert, IssueCertificateDer(r.domain_ca, *r.domain_ca_key, combined, spec));
    e.certificate = std::move(cert);
  }

  Draft d{Voucher{}, c.y.Public()};
  Voucher& v = d.voucher;
  v.created_on = r.created_on;
  v.expires_on = r.expires_on;
  v.assertion = r.assertion;
  v.serial_number = r.serial_number;
  v.pinned_domain_cert = r.domain_ca.Der();
  v.enrollment = std::move(e);
  return d;
}

Status CheckCreatedOnForSigning(const Voucher& v, Instant now) {
  // A voucher drafted in memory has no text yet; Unix seconds still name the instant.
  std::string when = v.created_on_text.empty() ? std::to_string(v.created_on.seconds()) + " (Unix time)" : v.created_on_text;
  if (v.created_on > now.Plus(kSignAheadSeconds)) {
    return Error(Code::kNotYetValid, "voucher created-on " + when + " is more than 5 minutes in the future");
  }
  if (v.created_on < now.Plus(-kSignBehindSeconds)) {
    return Error(Code::kExpired, "voucher created-on " + when + " is more than 30 days in the past");
  }
  return Status::Ok();
}

Status CheckDraft(const Voucher& v, const PublicKey& device_key, const PublicKey& contribution) {
  if (!v.enrollment) return Error(Code::kUnsupported, "voucher has no vouch-enroll:enrollment");
  const Enrollment& e = *v.enrollment;
  if (!ParseSuite(e.suite)) return Error(Code::kUnsupported, "voucher suite '" + e.suite + "' is not supported");
  if (e.device_key != device_key.Fingerprint()) {
    return Error(Code::kWrongDevice, "voucher is for device key " + e.device_key + ", not " + device_key.Fingerprint());
  }
  VOUCH_ASSIGN_OR_RETURN(cogen::PublicParts parts, cogen::CheckEnrollment(e, device_key));
  if (parts.contributions.empty()) {
    // The older form names no Y: the request's own Y must then be all of Z.
    auto sum = cogen::CombinePublic(device_key, contribution);
    if (!sum.ok() || !(parts.combined == *sum)) return Error(Code::kCombinedKeyMismatch, "combined key is not X + Y");
  } else if (std::find(parts.contributions.begin(), parts.contributions.end(), contribution) == parts.contributions.end()) {
    return Error(Code::kCombinedKeyMismatch, "the request's contribution key is not among the voucher's contributions");
  }
  auto domain = Certificate::FromDer(v.pinned_domain_cert);
  if (!domain.ok()) return domain.status().Context("pinned-domain-cert");
  if (e.certificate) return CheckCertificateForZ(*e.certificate, parts.combined, *domain).status();
  return Status::Ok();
}

}  // namespace vouch
