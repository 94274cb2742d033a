// The owner's half of issuing (DESIGN.md sections 1 and 3): draw y for the device key X,
// encrypt y to X with HPKE, add the contributions other parties sealed to X (`vouch
// contribute`), compute Z = X + sum Y_i, optionally certify Z under the owner's domain CA
// with the construction extension (cert.h), and fill in the voucher. Signing is the envelope's job (formats/envelope.h): the
// signer, perhaps the manufacturer, never needs y.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "libvoucher/cert.h"
#include "libvoucher/key.h"
#include "libvoucher/status.h"
#include "libvoucher/voucher.h"

namespace vouch {

struct DraftRequest {
  PublicKey device_key;                    // X, in the group of the voucher's suite
  // Contributions other parties drew and sealed to X (formats/contribution.h), added after
  // the owner's own, in this order. Each names its Y_i; all are in X's group.
  std::vector<SealedContribution> contributions = {};
  std::string serial_number;
  Certificate domain_ca;                   // becomes pinned-domain-cert
  std::optional<PrivateKey> domain_ca_key;  // with it, Z is certified under domain_ca
  Instant created_on = Instant::Now();
  std::optional<Instant> expires_on;
  std::string assertion = "verified";
  int64_t certificate_days = 3650;         // validity of the certificate for Z
};

struct Draft {
  Voucher voucher;
  PublicKey contribution;  // the owner's own Y (also in the voucher's contribution list)
};

// DESIGN.md 5, "What a signer signs": created-on within [now - 30 days, now + 5 minutes].
// Ahead of now, a voucher would outrank on every device without a clock each genuine voucher
// made until then (ordering is by created-on); older than 30 days, it is a request that sat
// in a queue for longer than any legitimate one does, or one back-dated on purpose.
inline constexpr int64_t kSignAheadSeconds = 5 * 60;
inline constexpr int64_t kSignBehindSeconds = 30 * 86400;

// Errors: kNotYetValid (created-on past now + 5 minutes), kExpired (before now - 30 days).
Status CheckCreatedOnForSigning(const Voucher& voucher, Instant now);

// created_on and expires_on are truncated to whole seconds (DESIGN.md 5: a device takes at
// most one voucher per second of created-on). y is wiped before this returns; nothing but the
// HPKE ciphertext of it leaves.
// Errors: kUsage (domain CA key does not match its certificate, expires before created),
// kInvalidKey, kCrypto.
Result<Draft> DraftVoucher(const DraftRequest& request);

// A renewal (DESIGN.md 5): a fresh certificate for the device's current Z, no contribution,
// so no key change. The domain CA key is required: the certificate is what is renewed. A
// construction (DESIGN.md 3b) is copied into it when given, after it is checked to start
// from X and sum to Z (the certificate being renewed carries it: cert.h ReadConstruction).
// Times are truncated to whole seconds, as in DraftVoucher.
struct RenewalRequest {
  PublicKey device_key;                    // X
  PublicKey combined_key;                  // Z, in X's group
  std::string serial_number;
  Certificate domain_ca;                   // becomes pinned-domain-cert: the device's owner
  PrivateKey domain_ca_key;
  std::optional<Construction> construction = std::nullopt;
  Instant created_on = Instant::Now();
  std::optional<Instant> expires_on;
  std::string assertion = "verified";
  int64_t certificate_days = 3650;
};
// Errors: kUsage (key and certificate do not match, expiry before creation, Z in another
// group than X), kCombinedKeyMismatch (a construction that is not X and does not sum to Z).
Result<Voucher> DraftRenewal(const RenewalRequest& request);

// A plain RFC 8366 voucher (formats/voucher.md, "Plain vouchers"): the pinned domain for a
// serial number, no vouch-enroll:enrollment, so no device key and no contribution. For BRSKI
// pledges; vouch-device refuses it (unsupported). Times are truncated to whole seconds.
struct PlainRequest {
  std::string serial_number;
  Certificate domain_ca;                   // becomes pinned-domain-cert
  Instant created_on = Instant::Now();
  std::optional<Instant> expires_on;
  std::string assertion = "verified";
};
// Errors: kUsage (empty serial, expiry not after creation).
Result<Voucher> DraftPlain(const PlainRequest& request);

// What a signer that never sees any y_i can still check of an owner's draft: the voucher is
// for `device_key`, names the owner's `contribution` Y among its contributions, Z = X + sum
// Y_i, and a certificate for Z (when present) carries Z and is issued by the pinned domain
// certificate. Errors: kUnsupported, kWrongDevice, kCombinedKeyMismatch, kCertificateMismatch,
// kMalformed.
Status CheckDraft(const Voucher& voucher, const PublicKey& device_key, const PublicKey& contribution);

}  // namespace vouch
