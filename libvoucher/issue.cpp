#include "libvoucher/issue.h"

#include "libvoucher/authority.h"
#include "libvoucher/cogen.h"
#include "libvoucher/enroll.h"
#include "libvoucher/hpke.h"
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
  VOUCH_ASSIGN_OR_RETURN(cogen::Contribution c, cogen::Contribute(r.device_key));

  Enrollment e;
  e.device_key = r.device_key.Fingerprint();
  e.suite = std::string(kSuiteP256);
  {
    // DESIGN.md 3: plaintext = y, 32 bytes big-endian; info fixed; aad = the device-key leaf.
    SecretBytes y = c.y.Scalar();
    VOUCH_ASSIGN_OR_RETURN(hpke::Sealed sealed,
                           hpke::Seal(r.device_key, AsBytes(kHpkeInfo), AsBytes(e.device_key), y.view()));
    e.enc = std::move(sealed.enc);
    e.ct = std::move(sealed.ct);
  }  // y's bytes are wiped here; c.y's own copy dies with c (OpenSSL clears freed EC keys)
  e.combined_key = c.combined.SpkiDer();
  if (r.domain_ca_key) {
    CertSpec spec;
    spec.common_name = r.serial_number;
    spec.serial_number = r.serial_number;
    spec.not_before = r.created_on.Plus(-300);
    spec.days = r.certificate_days;
    // DESIGN.md 3a: a certificate for Z names a purpose, and it is not signing vouchers; were it
    // able to, one device of a fleet could re-key its siblings.
    spec.extended_key_usage = {std::string(kClientAuthEku)};
    VOUCH_ASSIGN_OR_RETURN(Bytes cert, IssueCertificateDer(r.domain_ca, *r.domain_ca_key, c.combined, spec));
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
  auto claimed = PublicKey::FromSpkiDer(e.combined_key);
  auto sum = cogen::CombinePublic(device_key, contribution);
  if (!claimed.ok() || !sum.ok() || !(*claimed == *sum)) {
    return Error(Code::kCombinedKeyMismatch, "combined key is not X + Y");
  }
  auto domain = Certificate::FromDer(v.pinned_domain_cert);
  if (!domain.ok()) return domain.status().Context("pinned-domain-cert");
  if (e.certificate) return CheckCertificateForZ(*e.certificate, *claimed, *domain).status();
  return Status::Ok();
}

}  // namespace vouch
