// How a combined key was made: the certificate extension that replaces proof of possession
// (DESIGN.md section 3b).
//
// A CA that certifies Z cannot ask the device for proof that it holds z: the device is not
// there. What it can give every relying party instead is the construction: X (the device's
// factory key) and every contribution Y_i, so that anyone can check Z = X + sum Y_i and,
// knowing X is a device's factory key, that only that device can hold z. Each Y_i comes with
// its contributor's proof of possession (cogen::ProvePossession): without it whoever names a
// Y_i could name W - X and hold z = w itself. The extension is
//
//   id-vouch-construction  2.25.170057167905927591038761113654168271464
//     (UUID 7fefd1b6-9e12-436a-99fc-d0c1b19e3a68, drawn once; not critical)
//   Construction ::= SEQUENCE {
//     deviceKey      SubjectPublicKeyInfo,                        -- X
//     contributions  SEQUENCE SIZE (1..16) OF Contribution }
//   Contribution ::= SEQUENCE {
//     key            SubjectPublicKeyInfo,                        -- Y_i
//     proof          OCTET STRING }                               -- signature by y_i
//
// encoded and parsed with OpenSSL's ASN.1 (SEQUENCE OF ANY), never by hand.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "libvoucher/key.h"
#include "libvoucher/status.h"

namespace vouch {

class Certificate;

inline constexpr std::string_view kConstructionOid = "2.25.170057167905927591038761113654168271464";

struct Construction {
  PublicKey device_key;                  // X
  std::vector<PublicKey> contributions;  // Y_1 .. Y_n, n in [1, 16]
  std::vector<Bytes> proofs;             // one per Y_i, in the same order
};

// The extension's DER value. kUsage for no contribution, more than 16, or a proof missing.
Result<Bytes> EncodeConstruction(const Construction& c);
// kMalformed unless exactly the structure above with valid keys, all in one group. Proofs
// are not checked here (VerifyConstruction does).
Result<Construction> DecodeConstruction(ByteView der);

// The construction a certificate carries; nullopt without the extension. kMalformed for an
// extension that does not decode, or appears twice.
Result<std::optional<Construction>> ReadConstruction(const Certificate& cert);

// Every proof verifies (kContributionMismatch), the certificate's key is X + sum Y_i of its
// construction (kCombinedKeyMismatch) and, when `device_key` is given, X is that key
// (kWrongDevice). kNotFound without the extension.
Result<Construction> VerifyConstruction(const Certificate& cert, const PublicKey* device_key);

}  // namespace vouch
