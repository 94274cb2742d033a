#include "libvoucher/issue.h"

#include <algorithm>

#include "libvoucher/authority.h"
#include "libvoucher/cogen.h"
#include "libvoucher/enroll.h"
#include "libvoucher/suite.h"

namespace vouch {

namespace {

// What every voucher a domain CA's holder drafts must satisfy, a fresh one or a renewal.
Status CheckDraftBasics(const std::string& serial, Instant created_on, const std::optional<Instant>& expires_on,
                        const Certificate& domain_ca, const PrivateKey* domain_ca_key) {
  if (serial.empty()) return Error(Code::kUsage, "serial number is empty");
  if (expires_on && *expires_on <= created_on) return Error(Code::kUsage, "voucher would expire before it is created");
  if (domain_ca_key) {
    auto ca_key = domain_ca.Key();
    if (!ca_key.ok() || !(*ca_key == domain_ca_key->Public())) {
      return Error(Code::kUsage, "domain CA key does not match the domain CA certificate");
    }
  }
  return Status::Ok();
}

// The certificate for Z: CA:FALSE, digitalSignature, and a purpose that is not signing
// vouchers (DESIGN.md 3a: were it able to, one device of a fleet could re-key its siblings),
// with how Z was made (3b).
Result<Bytes> CertifyZ(const Certificate& ca, const PrivateKey& ca_key, const PublicKey& z, const std::string& serial,
                       Instant created_on, int64_t days, std::optional<Construction> construction) {
  CertSpec spec;
  spec.common_name = serial;
  spec.serial_number = serial;
  spec.not_before = created_on.Plus(-300);
  spec.days = days;
  spec.extended_key_usage = {std::string(kClientAuthEku)};
  spec.construction = std::move(construction);
  return IssueCertificateDer(ca, ca_key, z, spec);
}

// The instants a voucher is drafted with, truncated to whole seconds (DESIGN.md 5): the
// encoder writes whole seconds only, and the model must hold what the bytes say. Expiry is
// truncated too, so a voucher never lives longer than asked.
struct Times {
  Instant created_on;
  std::optional<Instant> expires_on;
};
Times WholeSeconds(Instant created_on, const std::optional<Instant>& expires_on) {
  return {created_on.WholeSeconds(), expires_on ? std::optional<Instant>(expires_on->WholeSeconds()) : std::nullopt};
}

Voucher Fill(const Times& t, const std::string& assertion, const std::string& serial, const Certificate& domain_ca,
             std::optional<Enrollment> e) {
  Voucher v;
  v.created_on = t.created_on;
  v.expires_on = t.expires_on;
  v.assertion = assertion;
  v.serial_number = serial;
  v.pinned_domain_cert = domain_ca.Der();
  v.enrollment = std::move(e);
  return v;
}

}  // namespace

Result<Voucher> DraftRenewal(const RenewalRequest& r) {
  const Times t = WholeSeconds(r.created_on, r.expires_on);
  VOUCH_RETURN_IF_ERROR(CheckDraftBasics(r.serial_number, t.created_on, t.expires_on, r.domain_ca, &r.domain_ca_key));
  if (r.combined_key.group() != r.device_key.group()) {
    return Error(Code::kUsage, "the combined key is a " + std::string(GroupName(r.combined_key.group())) +
                                   " key, the device key " + std::string(GroupName(r.device_key.group())));
  }
  if (r.construction) {
    if (r.construction->proofs.size() != r.construction->contributions.size()) {
      return Error(Code::kUsage, "the construction to renew has a proof missing");
    }
    if (!(r.construction->device_key == r.device_key)) {
      return Error(Code::kCombinedKeyMismatch, "the construction to renew starts from another device key");
    }
    auto sum = cogen::CombinePublic(r.device_key, r.construction->contributions);
    if (!sum.ok() || !(*sum == r.combined_key)) {
      return Error(Code::kCombinedKeyMismatch, "the construction to renew does not sum to the combined key");
    }
    for (size_t i = 0; i < r.construction->contributions.size(); ++i) {
      VOUCH_RETURN_IF_ERROR(
          cogen::VerifyPossession(r.construction->contributions[i], r.device_key, r.construction->proofs[i]));
    }
  }
  Enrollment e;
  e.device_key = r.device_key.Fingerprint();
  e.suite = std::string(SuiteName(SuiteOfGroup(r.device_key.group())));
  e.combined_key = r.combined_key.SpkiDer();
  // Without a construction to copy, the certificate says nothing about how Z was made; it
  // still certifies Z, which is what a renewal is for.
  VOUCH_ASSIGN_OR_RETURN(Bytes cert, CertifyZ(r.domain_ca, r.domain_ca_key, r.combined_key, r.serial_number, t.created_on,
                                              r.certificate_days, r.construction));
  e.certificate = std::move(cert);
  return Fill(t, r.assertion, r.serial_number, r.domain_ca, std::move(e));
}

Result<Draft> DraftVoucher(const DraftRequest& r) {
  const Times t = WholeSeconds(r.created_on, r.expires_on);
  VOUCH_RETURN_IF_ERROR(CheckDraftBasics(r.serial_number, t.created_on, t.expires_on, r.domain_ca,
                                         r.domain_ca_key ? &*r.domain_ca_key : nullptr));
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
  // Z = X + Y (Contribute's) + the other Y_i.
  PublicKey combined = c.combined;
  if (ys.size() > 1) {
    VOUCH_ASSIGN_OR_RETURN(combined, cogen::CombinePublic(c.combined, std::vector<PublicKey>(ys.begin() + 1, ys.end())));
  }
  e.combined_key = combined.SpkiDer();
  if (r.domain_ca_key) {
    // DESIGN.md 3b: how Z was made, so that anyone can check Z = X + sum Y_i.
    std::vector<Bytes> proofs;
    for (const SealedContribution& sealed : e.contributions) proofs.push_back(*sealed.proof);
    VOUCH_ASSIGN_OR_RETURN(Bytes cert, CertifyZ(r.domain_ca, *r.domain_ca_key, combined, r.serial_number, t.created_on,
                                                r.certificate_days, Construction{r.device_key, ys, std::move(proofs)}));
    e.certificate = std::move(cert);
  }
  return Draft{Fill(t, r.assertion, r.serial_number, r.domain_ca, std::move(e)), c.y.Public()};
}

Result<Voucher> DraftPlain(const PlainRequest& r) {
  const Times t = WholeSeconds(r.created_on, r.expires_on);
  VOUCH_RETURN_IF_ERROR(CheckDraftBasics(r.serial_number, t.created_on, t.expires_on, r.domain_ca, nullptr));
  return Fill(t, r.assertion, r.serial_number, r.domain_ca, std::nullopt);
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
  // A request is the owner's contribution on its way to a signer; a renewal has none (the
  // owner signs its renewals itself, or holds both keys: `vouch renew`).
  if (parts.renewal) return Error(Code::kMalformed, "the request's voucher is a renewal, which carries no contribution");
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
