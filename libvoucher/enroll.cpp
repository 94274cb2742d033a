#include "libvoucher/enroll.h"

#include <algorithm>

#include "libvoucher/authority.h"
#include "libvoucher/cogen.h"
#include "libvoucher/construction.h"
#include "libvoucher/suite.h"

namespace vouch {

std::string_view ChangeName(Change c) {
  switch (c) {
    case Change::kEnrolled: return "enrolled";
    case Change::kRekeyed: return "re-keyed";
    case Change::kRenewed: return "renewed";
    case Change::kTransferred: return "transferred";
  }
  return "?";
}

std::vector<Certificate> AcceptedAnchors(const DeviceIdentity& device, const std::optional<Applied>& current) {
  std::vector<Certificate> anchors = device.factory_anchors;
  if (current) {
    anchors.push_back(current->domain_ca);
    anchors.insert(anchors.end(), current->former_owners.begin(), current->former_owners.end());
  }
  return anchors;
}

namespace {

bool Contains(const std::vector<Certificate>& certs, const Certificate& c) {
  return std::find(certs.begin(), certs.end(), c) != certs.end();
}

// The former owners after a voucher pinning `next` replaces the current owner: the one left
// joins them (newest last, kMaxFormerOwners at most), and one coming back leaves them.
std::vector<Certificate> FormerOwnersAfter(const std::optional<Applied>& current, const Certificate& next) {
  if (!current) return {};
  std::vector<Certificate> out;
  for (const Certificate& c : current->former_owners) {
    if (!(c == next) && !(c == current->domain_ca)) out.push_back(c);
  }
  if (!(current->domain_ca == next)) out.push_back(current->domain_ca);
  if (out.size() > kMaxFormerOwners) out.erase(out.begin(), out.end() - kMaxFormerOwners);
  return out;
}

// The former owner whose key signs or vouches anywhere on the path, if any: compared by key,
// so a former owner's CA renewed under its old key, or a delegate under it, is still that
// owner. A former owner whose key is also a factory anchor's is the manufacturer's own key,
// which a transfer never demotes.
const Certificate* FormerOwnerOnPath(const DeviceIdentity& device, const Applied& current, const Candidate& candidate) {
  std::vector<Certificate> path = candidate.path;
  if (path.empty()) {
    if (candidate.signer) path.push_back(*candidate.signer);
    path.push_back(candidate.anchor);
  }
  for (const Certificate& former : current.former_owners) {
    bool factory_key = std::any_of(device.factory_anchors.begin(), device.factory_anchors.end(),
                                   [&](const Certificate& a) { return a.SameKey(former); });
    if (factory_key || former.SameKey(current.domain_ca)) continue;
    for (const Certificate& c : path) {
      if (c.SameKey(former)) return &former;
    }
  }
  return nullptr;
}

// A renewal's certificate that says how Z was made says it as the certificate it renews did,
// when that one said it: Z has one construction, and relying parties comparing the two
// certificates must not find two stories. One that says nothing (`vouch renew --batch`, which
// has no previous certificate to copy from) claims nothing and is accepted.
Status CheckRenewedConstruction(const Applied& current, const Certificate& renewed) {
  auto after = ReadConstruction(renewed);
  if (!after.ok() || !*after || !current.certificate) return Status::Ok();  // (a bad one failed earlier)
  auto before = ReadConstruction(*current.certificate);
  if (!before.ok() || !*before) return Status::Ok();
  auto a = EncodeConstruction(**before);
  auto b = EncodeConstruction(**after);
  if (!a.ok() || !b.ok() || *a != *b) {
    return Error(Code::kCertificateMismatch, "a renewal's certificate names another construction than the certificate it renews");
  }
  return Status::Ok();
}

// The certificate for Z the voucher carries (required for a renewal): issued by the pinned
// domain certificate, no signing authority, a construction (when it has one) that starts from
// this device's X and, when the voucher names its contributions, names exactly those
// (DESIGN.md 3b), and with a trusted clock valid now.
Result<std::optional<Certificate>> CheckVoucherCertificate(const DeviceIdentity& device, const Enrollment& e,
                                                           const cogen::PublicParts& parts, const Certificate& domain,
                                                           Instant now) {
  if (!e.certificate) return std::optional<Certificate>();
  VOUCH_ASSIGN_OR_RETURN(Certificate cert, CheckCertificateForZ(*e.certificate, parts.combined, domain));
  auto made = ReadConstruction(cert);
  if (!made.ok()) return Error(Code::kCertificateMismatch, "certificate for Z: " + made.status().message());
  if (*made) {
    auto checked = VerifyConstruction(cert, &device.key.Public());
    // A voucher of the older form names no Y_i to compare with, but it carries exactly one
    // contribution, and X + Y = Z then fixes that Y: a construction naming more keys names
    // contributors the voucher never had (any split of Z - X sums correctly). A renewal
    // names none; its construction need only start from X and sum to Z, with every proof.
    bool names_others = false;
    if (!parts.renewal) {
      const size_t expected = parts.contributions.empty() ? e.contributions.size() : parts.contributions.size();
      names_others = (*made)->contributions.size() != expected ||
                     (!parts.contributions.empty() && !((*made)->contributions == parts.contributions));
    }
    if (!checked.ok() || names_others) {
      return Error(Code::kCertificateMismatch, "certificate for Z names another construction than the voucher's");
    }
  }
  if (device.trusted_clock && (cert.NotAfter() <= now || cert.NotBefore() > now.Plus(kMaxClockSkewSeconds))) {
    return Error(Code::kExpired, "certificate for Z is outside its validity period");
  }
  return std::optional<Certificate>(std::move(cert));
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
  const bool renewal = e.contributions.empty();

  // DESIGN.md 3a: the envelope's verifier already held every signer to this; checked again
  // here so that the device's rules do not depend on which verifier ran.
  if (candidate.signer) VOUCH_RETURN_IF_ERROR(CheckSignerAuthority(*candidate.signer));
  // DESIGN.md 9: a voucher chains to a factory anchor, or is signed under the current owner's
  // certificate; an owner the device has left (a transfer) signs nothing it applies.
  if (current) {
    if (const Certificate* former = FormerOwnerOnPath(device, *current, candidate)) {
      return Error(Code::kNotOwner, "voucher is signed under " + former->Subject() +
                                        ", which owned this device once and has since given it up");
    }
  }
  const bool factory = Contains(device.factory_anchors, candidate.anchor);
  const bool transfer = current && !(*domain == current->domain_ca);
  if (!factory) {
    const bool owner = current && candidate.anchor == current->domain_ca;
    if (!owner) return Error(Code::kUntrustedSigner, "voucher is signed under neither a factory anchor nor the device's owner");
    // DESIGN.md 3a: under the owner, only the domain certificate itself or a certificate that
    // carries the voucher-signing purpose may sign; the certificate of another device may not.
    if (!candidate.signer) {
      return Error(Code::kSignerNotAuthorized, "owner-signed voucher comes without the certificate that signed it");
    }
    VOUCH_RETURN_IF_ERROR(CheckOwnerSigner(*candidate.signer, current->domain_ca));
    // Giving the device away is the owner's own act: its domain certificate signs, not a
    // voucher signer it delegated re-keying to (as for voucher requests, DESIGN.md 3a).
    if (transfer && !renewal && !candidate.signer->SameKey(current->domain_ca)) {
      return Error(Code::kSignerNotAuthorized, "a transfer to another owner is signed by the owner's domain certificate itself, not a delegate");
    }
    // And the new owner proves it holds the key it pins: the certificate for Z' is issued by
    // it (CheckCertificateForZ). Without this a transfer could pin any certificate, the
    // manufacturer's own, and judge the manufacturer's next voucher as an owner's.
    if (transfer && !renewal && !e.certificate) {
      return Error(Code::kCertificateMismatch, "a transfer carries the new owner's certificate for Z'");
    }
  }
  // A renewal keeps the key, so it keeps the owner: whoever moves a device to a new owner must
  // give it a new z, or the new owner would run on a key made for the old one.
  if (renewal && current && !(*domain == current->domain_ca)) {
    return Error(Code::kDomainMismatch, "a renewal pins another domain certificate than the device's owner (a transfer must re-key)");
  }

  if (current && current->voucher_id == candidate.id) return Decision{true, std::nullopt};
  if (current && v.created_on <= current->created_on) {
    return Error(Code::kRollback, "voucher is not newer than the one applied (created-on " + v.created_on_text + ")");
  }
  if (!current && device.reset_floor && v.created_on <= *device.reset_floor) {
    return Error(Code::kRollback, "voucher is not newer than the last one this device applied before its factory reset (created-on " +
                                      v.created_on_text + ")");
  }
  // DESIGN.md 9: without a clock the device still knows some instants have passed; a
  // created-on too far past all of them is refused, with a clock or without.
  Instant known = std::max(now, Instant::FromSeconds(kReleaseEpochSeconds));
  if (current) known = std::max(known, current->created_on);
  if (device.reset_floor) known = std::max(known, *device.reset_floor);
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
  Enrolled out{std::nullopt, parts.combined, std::nullopt, *domain, v.created_on, candidate.id};
  out.former_owners = FormerOwnersAfter(current, *domain);
  if (parts.renewal) {
    // Only the device knows which Z it holds: a renewal for any other is refused, and it
    // decrypts nothing (it carries nothing to decrypt).
    if (!current) return Error(Code::kCombinedKeyMismatch, "a renewal for a device that holds no combined key yet");
    if (!(parts.combined == current->combined_key)) {
      return Error(Code::kCombinedKeyMismatch, "a renewal for combined key " + parts.combined.Fingerprint() +
                                                   ", not the device's " + current->combined_key.Fingerprint());
    }
    out.change = Change::kRenewed;
  } else {
    // Then every y_i, each checked against its Y_i, and z = x + sum y_i, summed as wiped
    // scalars (cogen::OpenAll): only z becomes a key.
    VOUCH_ASSIGN_OR_RETURN(PrivateKey z, cogen::OpenAll(device.key, e.device_key, e.contributions));
    // An owner that lies about Z (or a corrupted leaf) is caught here, before anything is kept.
    if (!(z.Public() == parts.combined)) {
      return Error(Code::kCombinedKeyMismatch, "z*G does not equal the voucher's combined key");
    }
    out.z = std::move(z);
    out.change = !current ? Change::kEnrolled : *domain == current->domain_ca ? Change::kRekeyed : Change::kTransferred;
  }
  VOUCH_ASSIGN_OR_RETURN(out.certificate, CheckVoucherCertificate(device, e, parts, *domain, now));
  if (parts.renewal) VOUCH_RETURN_IF_ERROR(CheckRenewedConstruction(*current, *out.certificate));
  return Decision{false, std::move(out)};
}

}  // namespace vouch
