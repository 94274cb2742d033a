#include "libvoucher/enroll.h"

#include <algorithm>

#include "libvoucher/authority.h"
#include "libvoucher/cogen.h"
#include "libvoucher/construction.h"
#include "libvoucher/suite.h"

namespace vouch {

std::vector<Certificate> AcceptedAnchors(const DeviceIdentity& device, const std::optional<Applied>& current) {
  std::vector<Certificate> anchors = device.factory_anchors;
  if (current) anchors.push_back(current->domain_ca);
  return anchors;
}

namespace {

bool IsFactoryAnchor(const DeviceIdentity& device, const Certificate& anchor) {
  for (const auto& a : device.factory_anchors) {
    if (a == anchor) return true;
  }
  return false;
}

}  // namespace

Result<Certificate> CheckCertificateForZ(ByteView der, const PublicKey& combined_key, const Certificate& domain_ca) {
  auto cert = Certificate::FromDer(der);
  if (!cert.ok()) return Error(Code::kCertificateMismatch, "certificate for Z does not parse");
  auto key = cert->Key();
  if (!key.ok() || !(*key == combined_key)) return Error(Code::kCertificateMismatch, "certificate's key is not Z");
  if (!cert->IssuedBy(domain_ca)) {
    return Error(Code::kCertificateMismatch, "certificate for Z is not issued by the pinned domain certificate");
  }
  VOUCH_RETURN_IF_ERROR(CheckNoSigningAuthority(*cert));
  return cert;
}

Result<Decision> Evaluate(const DeviceIdentity& device, const std::optional<Applied>& current,
                          const Candidate& candidate, Instant now) {
  const Voucher& v = *candidate.voucher;
  if (!v.enrollment) return Error(Code::kUnsupported, "voucher has no vouch-enroll:enrollment");
  const Enrollment& e = *v.enrollment;
  if (!ParseSuite(e.suite)) return Error(Code::kUnsupported, "voucher suite '" + e.suite + "' is not supported");
  if (e.device_key != device.udf) {
    return Error(Code::kWrongDevice, "voucher is for device key " + e.device_key + ", not " + device.udf);
  }
  if (v.serial_number != device.serial_number) {
    return Error(Code::kWrongSerial, "voucher is for serial '" + v.serial_number + "', not '" + device.serial_number + "'");
  }
  auto domain = Certificate::FromDer(v.pinned_domain_cert);
  if (!domain.ok()) return domain.status().Context("voucher pinned-domain-cert");

  // DESIGN.md 3a: the envelope's verifier already held every signer to this; checked again
  // here so that the device's rules do not depend on which verifier ran.
  if (candidate.signer) VOUCH_RETURN_IF_ERROR(CheckSignerAuthority(*candidate.signer));
  // DESIGN.md 9: only a voucher that chains to a factory anchor can pin a new owner; one
  // signed under the current owner's certificate must pin that same owner.
  if (!IsFactoryAnchor(device, candidate.anchor)) {
    if (!current || !(candidate.anchor == current->domain_ca)) {
      return Error(Code::kUntrustedSigner, "voucher is signed under neither a factory anchor nor the device's owner");
    }
    // DESIGN.md 3a: under the owner, only the domain certificate itself or a certificate that
    // carries the voucher-signing purpose may sign; the certificate of another device may not.
    if (!candidate.signer) {
      return Error(Code::kSignerNotAuthorized, "owner-signed voucher comes without the certificate that signed it");
    }
    VOUCH_RETURN_IF_ERROR(CheckOwnerSigner(*candidate.signer, current->domain_ca));
    if (!(*domain == current->domain_ca)) {
      return Error(Code::kDomainMismatch, "owner-signed voucher pins another domain certificate");
    }
  }

  if (current && current->voucher_id == candidate.id) return Decision{true, std::nullopt};
  if (current && v.created_on <= current->created_on) {
    return Error(Code::kRollback, "voucher is not newer than the one applied (created-on " + v.created_on_text + ")");
  }
  // DESIGN.md 9: without a clock the device still knows some instants have passed; a
  // created-on too far past all of them is refused, with a clock or without.
  Instant known = std::max(now, Instant::FromSeconds(kReleaseEpochSeconds));
  if (current) known = std::max(known, current->created_on);
  if (v.created_on > known.Plus(kCreatedOnHorizonSeconds)) {
    return Error(Code::kNotYetValid, "voucher created-on " + v.created_on_text +
                                         " is more than 5 years past the latest time this device knows");
  }
  if (device.trusted_clock) {
    if (v.created_on > now.Plus(kMaxClockSkewSeconds)) {
      return Error(Code::kNotYetValid, "voucher created-on " + v.created_on_text + " is in the future");
    }
    if (v.expires_on && *v.expires_on <= now) return Error(Code::kExpired, "voucher has expired");
  }

  // The public half first (DESIGN.md 3): one suite, this device's; every Y_i and Z in its
  // group; Z = X + sum Y_i. A voucher that fails here costs no decryption.
  VOUCH_ASSIGN_OR_RETURN(cogen::PublicParts parts, cogen::CheckEnrollment(e, device.key.Public()));
  // Then every y_i, each checked against its Y_i, and z = x + sum y_i, summed as wiped
  // scalars (cogen::OpenAll): only z becomes a key.
  VOUCH_ASSIGN_OR_RETURN(PrivateKey z, cogen::OpenAll(device.key, e.device_key, e.contributions));
  const PublicKey& claimed = parts.combined;
  // An owner that lies about Z (or a corrupted leaf) is caught here, before anything is kept.
  if (!(z.Public() == claimed)) return Error(Code::kCombinedKeyMismatch, "z*G does not equal the voucher's combined key");

  Enrolled out{z, claimed, std::nullopt, *domain, v.created_on, candidate.id};
  if (e.certificate) {
    VOUCH_ASSIGN_OR_RETURN(Certificate cert, CheckCertificateForZ(*e.certificate, claimed, *domain));
    // A certificate that says how Z was made must say it truly: this device's X and the
    // voucher's own contributions (DESIGN.md 3b).
    auto made = ReadConstruction(cert);
    if (!made.ok()) return Error(Code::kCertificateMismatch, "certificate for Z: " + made.status().message());
    if (*made) {
      auto checked = VerifyConstruction(cert, &device.key.Public());
      // A voucher of the older form names no Y_i to compare with, but it carries exactly one
      // contribution, and X + Y = Z then fixes that Y: a construction naming more keys names
      // contributors the voucher never had (any split of Z - X sums correctly).
      const size_t expected = parts.contributions.empty() ? e.contributions.size() : parts.contributions.size();
      if (!checked.ok() || (*made)->contributions.size() != expected ||
          (!parts.contributions.empty() && !((*made)->contributions == parts.contributions))) {
        return Error(Code::kCertificateMismatch, "certificate for Z names another construction than the voucher's");
      }
    }
    if (device.trusted_clock && (cert.NotAfter() <= now || cert.NotBefore() > now.Plus(kMaxClockSkewSeconds))) {
      return Error(Code::kExpired, "certificate for Z is outside its validity period");
    }
    out.certificate = std::move(cert);
  }
  return Decision{false, std::move(out)};
}

}  // namespace vouch
