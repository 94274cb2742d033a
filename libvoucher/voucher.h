// The voucher model: RFC 8366bis `ietf-voucher:voucher` plus the `vouch-enroll:enrollment`
// augmentation (DESIGN.md section 5). Plain data: the JSON codec is formats/voucher_json.h,
// the signature envelopes are formats/jws.h and formats/cms.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "libvoucher/bytes.h"
#include "libvoucher/instant.h"

namespace vouch {

// One contribution: y_i encrypted to the device key X, and Y_i = y_i * G.
struct SealedContribution {
  // DER SubjectPublicKeyInfo of Y_i. Absent only in vouchers written before contributions
  // were a list (one contribution, enc and ct directly in the enrollment): the device still
  // checks z * G = Z for those, and nobody else can check Z = X + Y.
  std::optional<Bytes> key;
  Bytes enc;  // HPKE encapsulated key
  Bytes ct;   // HPKE ciphertext of y_i (the scalar + tag)
  // Proof that whoever named Y_i knows y_i (cogen::ProvePossession): a signature by y_i over X
  // and Y_i. Present exactly when `key` is; without it anyone could name Y_i = W - X.
  std::optional<Bytes> proof = std::nullopt;
};

// The enrollment augmentation: every y_i encrypted to the device key X, and Z = X + sum Y_i.
struct Enrollment {
  std::string device_key;  // UDF of X, exactly as written (it is also the HPKE aad)
  std::string suite;       // libvoucher/suite.h
  std::vector<SealedContribution> contributions;  // 1 to cogen::kMaxContributions
  Bytes combined_key;      // DER SubjectPublicKeyInfo of Z
  std::optional<Bytes> certificate;  // DER X.509 for Z, issued by the pinned domain cert
};

struct Voucher {
  // RFC 8366bis leaves. created_on, assertion, serial_number and pinned_domain_cert are
  // mandatory for vouch; the others are kept so inspect can show them.
  Instant created_on;
  std::string created_on_text;  // as written, for display
  std::optional<Instant> expires_on;
  std::string assertion;  // verified | logged | proximity | agent-proximity
  std::string serial_number;
  Bytes pinned_domain_cert;  // DER
  std::optional<std::string> nonce;  // opaque: real vouchers use base64, hex or free text
  std::optional<std::string> idevid_issuer;  // base64 text as written
  std::optional<bool> domain_cert_revocation_checks;
  std::optional<Instant> last_renewal_date;

  std::optional<Enrollment> enrollment;  // absent in plain RFC 8366 vouchers
};

// RFC 8366bis assertion values.
inline bool IsKnownAssertion(const std::string& a) {
  return a == "verified" || a == "logged" || a == "proximity" || a == "agent-proximity";
}

}  // namespace vouch
