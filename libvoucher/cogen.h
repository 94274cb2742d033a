// Key co-generation (DESIGN.md sections 1 and 3), in any of the three groups (group.h).
//
// The device holds {x, X}; each contributor i draws {y_i, Y_i}. Anyone can compute
// Z = X + sum Y_i; only a holder of x and every y_i can compute z = x + sum y_i, and z*G = Z.
// No contributor ever holds z and the device never shares x, so Z's private key exists only
// inside the device unless the factory and every contributor collude.
#pragma once

#include <vector>

#include <string_view>

#include "libvoucher/key.h"
#include "libvoucher/status.h"
#include "libvoucher/suite.h"
#include "libvoucher/voucher.h"

namespace vouch::cogen {

// Most contributions one voucher may carry (formats/voucher.md): enough for any escrow
// scheme, few enough that a hostile voucher cannot make a device decrypt for long.
inline constexpr size_t kMaxContributions = 16;

// Z = X + Y. kInvalidKey when the sum is the identity (Y = -X) or the keys are in different
// groups.
Result<PublicKey> CombinePublic(const PublicKey& x, const PublicKey& y);
// Z = X + sum Y_i over one or more Y_i, all in X's group.
Result<PublicKey> CombinePublic(const PublicKey& x, const std::vector<PublicKey>& ys);

// z = x + y in the group's scalar field. kInvalidKey when the sum is 0 or the groups differ.
// Intermediate values are wiped.
Result<PrivateKey> CombinePrivate(const PrivateKey& x, const PrivateKey& y);

// One contributor's side: a fresh y, uniform in [1, order-1], in the group of the device key
// X, and Z = X + Y. y is drawn again in the (negligible) case that X + Y is the identity.
struct Contribution {
  PrivateKey y;
  PublicKey combined;
};
Result<Contribution> Contribute(const PublicKey& device_key);

// The public half of an enrollment, which anyone holding X can check (a signer, a verifier,
// the device before it decrypts anything): the suite is known and is X's; there are 1 to
// kMaxContributions contributions, or none and a certificate (a renewal); every Y_i and Z parse as keys of that same group (one
// suite per voucher: anything else is kMalformed); and, when every contribution names its
// Y_i, Z = X + sum Y_i (kCombinedKeyMismatch). Vouchers of the older form name no Y, and
// only the device can check their Z (z * G = Z).
struct PublicParts {
  Suite suite;
  PublicKey combined;                    // Z
  std::vector<PublicKey> contributions;  // every Y_i, or empty for the older form and renewals
  // No contribution at all: a renewal, a fresh certificate for a Z the device already holds
  // (DESIGN.md 5). Nobody but the device can check it (is Z its current key?).
  bool renewal = false;
};
Result<PublicParts> CheckEnrollment(const Enrollment& e, const PublicKey& device_key);

// Proof of possession of a contribution (DESIGN.md 3): a signature by y over
//   "vouch contribution proof v1" || SPKI(X) || SPKI(Y)
// ES256 (64 bytes r||s) in the P-256 suite, EdDSA with y as an expanded key (eddsa.h) in the
// Edwards suites. Without it a contributor could name Y = W - X for a W whose w it knows: Z
// would be W, and Z = X + sum Y_i would still hold. With it, every named Y_i is one whose
// discrete log its contributor knows, so z = x + sum y_i needs x.
Result<Bytes> ProvePossession(const PrivateKey& y, const PublicKey& device_key);
// kContributionMismatch when the proof does not verify under Y for X.
Status VerifyPossession(const PublicKey& y, const PublicKey& device_key, ByteView proof);

// y sealed to the device key X with the HPKE suite of X's group (DESIGN.md section 3):
// plaintext y in the group's scalar encoding, info kHpkeInfo, aad `device_udf` (the text of
// the voucher's device-key leaf). The result carries Y = y * G and its proof of possession.
Result<SealedContribution> Seal(const PublicKey& device_key, std::string_view device_udf, const PrivateKey& y);
// The device's side: y from one sealed contribution. kDecryptFailed when it does not open;
// kContributionMismatch when it opens to something that is not a scalar, or, when the
// contribution names its Y, to a y with y * G != Y. y never leaves except as the result.
Result<PrivateKey> Open(const PrivateKey& device_key, std::string_view device_udf, const SealedContribution& sealed);
// The same, y as a scalar in the group's encoding: a y_i is only ever added to x, so it need
// not have an RFC 7748 key of its own (montgomery.h; a contributor can choose one without).
Result<SecretBytes> OpenScalar(const PrivateKey& device_key, std::string_view device_udf, const SealedContribution& sealed);
// z = x + sum y_i over every contribution, each opened and checked as OpenScalar does; only z
// becomes a key. kCombinedKeyMismatch when the sum is 0 or has no RFC 7748 key (2^-125).
Result<PrivateKey> OpenAll(const PrivateKey& device_key, std::string_view device_udf,
                           const std::vector<SealedContribution>& contributions);

}  // namespace vouch::cogen
