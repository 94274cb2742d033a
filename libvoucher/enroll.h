// The device's enrollment rules (DESIGN.md sections 5 and 9): given a voucher whose envelope
// already verified to some anchor, decide whether this device applies it, and if so compute
// z = x + y. Pure: no files, no clocks but the one passed in. Every refusal is a Status with
// a stable code, because a fetcher judges many candidates and reports each.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "libvoucher/cert.h"
#include "libvoucher/key.h"
#include "libvoucher/status.h"
#include "libvoucher/voucher.h"

namespace vouch {

inline constexpr int64_t kMaxClockSkewSeconds = 300;  // created-on may be this far in the future

// DESIGN.md 9, "Time without a clock": a device that cannot trust its clock still refuses a
// created-on more than five years (1826 days) past the latest instant it knows has passed:
// its clock, the created-on of the voucher it applied, and kReleaseEpochSeconds. Ordering is
// by created-on, so one voucher dated far ahead would outrank every genuine one until then.
inline constexpr int64_t kCreatedOnHorizonSeconds = 1826 * 86400;
// No build of this vouch runs before this instant: 2026-11-01T00:00:00Z. Raise it at each
// release (it is a floor under a device clock that resets to 1970).
inline constexpr int64_t kReleaseEpochSeconds = 1793491200;

struct DeviceIdentity {
  PrivateKey key;                         // x
  std::string udf;                        // UDF of X, 140 bits
  std::string serial_number;
  std::vector<Certificate> factory_anchors;
  bool trusted_clock = false;
  // After a factory reset that kept the key: the created-on of the last voucher applied before
  // it. Vouchers not newer are refused as before the reset (kRollback), so a reset forgets the
  // owner but not the ordering, and a captured old voucher cannot re-enroll the device.
  std::optional<Instant> reset_floor = std::nullopt;
};

// Owners a device remembers having left (DESIGN.md 9, "Transfer"), newest last; the oldest
// is forgotten past this many. A forgotten one is still refused, only as untrusted-signer.
inline constexpr size_t kMaxFormerOwners = 16;

// What the device applied last (its current generation).
struct Applied {
  std::string voucher_id;
  Instant created_on;
  Certificate domain_ca;  // the pinned domain certificate: the owner
  PublicKey combined_key;
  Instant applied_on;     // when it was applied, by the device's clock (its receipt's time)
  // Domain certificates that owned the device before and moved it on (a transfer, or the
  // manufacturer pinning a new owner): their vouchers are refused as kNotOwner.
  std::vector<Certificate> former_owners = {};
  // The certificate for Z the device holds, when it has one: a renewal keeps its construction.
  std::optional<Certificate> certificate = std::nullopt;
};

// Anchors an envelope may chain to: the factory anchors and, once enrolled, the owner's
// pinned domain certificate (so the owner can re-key, renew and transfer without the
// manufacturer), and the owners it had before, so that their vouchers verify far enough to
// be refused by name (kNotOwner) rather than as strangers' (Evaluate never applies them).
std::vector<Certificate> AcceptedAnchors(const DeviceIdentity& device, const std::optional<Applied>& current);

struct Candidate {
  const Voucher* voucher;
  std::string id;
  Certificate anchor;  // the anchor the envelope verified to
  // The certificate that made the signature (formats::Verified::signer). Required when the
  // anchor is the owner's pinned domain certificate: only with it can the device tell the
  // owner from the owner's devices (DESIGN.md 3a), so without it such a voucher is refused.
  std::optional<Certificate> signer = std::nullopt;
  // The whole verified path, signer to anchor (formats::Verified::path); when empty, the
  // signer and the anchor stand for it. A former owner's key anywhere on it is kNotOwner.
  std::vector<Certificate> path = {};
};

// What applying a voucher changes (DESIGN.md 9): the first owner, a new key under the same
// owner, a fresh certificate for the same key, or a new owner and a new key.
enum class Change { kEnrolled, kRekeyed, kRenewed, kTransferred };
std::string_view ChangeName(Change c);  // "enrolled", "re-keyed", "renewed", "transferred"

struct Enrolled {
  // z = x + sum y_i, or none for a renewal: the device keeps the z it holds (DeviceState::Apply
  // carries it into the new generation).
  std::optional<PrivateKey> z;
  PublicKey combined_key;
  std::optional<Certificate> certificate;
  Certificate domain_ca;
  Instant created_on;
  std::string voucher_id;
  Change change = Change::kEnrolled;
  std::vector<Certificate> former_owners = {};  // Applied::former_owners after this voucher
};

// The certificate for Z must carry Z, be issued directly by the pinned domain certificate
// (DESIGN.md 5), and carry no voucher-signing authority (DESIGN.md 3a).
// kCertificateMismatch otherwise. No time checks.
Result<Certificate> CheckCertificateForZ(ByteView certificate_der, const PublicKey& combined_key,
                                         const Certificate& domain_ca);

struct Decision {
  bool already_current = false;     // the same voucher again: a no-op, not a refusal
  std::optional<Enrolled> enrolled;  // set when the voucher is to be applied
};

// Checks, in this order: enrollment present and suite supported (kUnsupported), device key
// (kWrongDevice), serial (kWrongSerial), signer authority (kSignerNotAuthorized: any signer,
// and under the owner only the pinned domain certificate or a voucher signer), owner
// authority (kNotOwner under a former owner, kUntrustedSigner; kDomainMismatch for a renewal
// that pins another owner: a transfer must re-key), same voucher (already current), ordering
// (kRollback), time (kNotYetValid past the horizon without a clock or past now + skew with
// one, kExpired); then for a renewal its Z is the device's current one (kCombinedKeyMismatch);
// otherwise decrypt y (kDecryptFailed), z*G == combined key (kCombinedKeyMismatch); the
// certificate for Z (kCertificateMismatch, kExpired). y and z never leave except as
// `Enrolled::z`.
Result<Decision> Evaluate(const DeviceIdentity& device, const std::optional<Applied>& current,
                          const Candidate& candidate, Instant now);

}  // namespace vouch
