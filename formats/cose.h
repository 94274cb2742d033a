// COSE_Sign1 (RFC 9052) for `application/voucher+cose` (`.vch`), the constrained-voucher
// draft's (cBRSKI) envelope: the voucher in YANG-CBOR (formats/voucher_cbor.h) as payload,
// signer certificates in x5chain (RFC 9360, label 33). Spec page: formats/voucher.md,
// "COSE envelope".
//
// Written: tag 18, protected header {1: alg, 33: x5chain} (the chain protected, so that no one
// strips or reorders it into a new voucher id), unprotected header {}, deterministic CBOR.
// Read: one spelling, as written: tagged, every parameter protected (an unprotected header
// that is not empty is refused: it would re-spell a signed voucher into new ids); `crit`, an
// algorithm other than the three, or a detached payload refused.
#pragma once

#include "formats/envelope.h"

namespace vouch::formats {

// RFC 9053 2.1 and 2.2, the algorithms a signer key makes (libvoucher/signing_key.h).
inline constexpr int64_t kCoseEs256 = -7;
inline constexpr int64_t kCoseEs384 = -35;
inline constexpr int64_t kCoseEdDsa = -8;

inline constexpr uint64_t kCoseSign1Tag = 18;

Result<Bytes> SignCose(ByteView payload, const Signer& signer);
// Errors as VerifyJws's: kMalformed, kTooLarge, kUnsupported (an algorithm none of the three,
// crit), kBadSignature, kUntrustedSigner, kSignerNotAuthorized, kExpired, kNotYetValid.
Result<Verified> VerifyCose(ByteView envelope, const std::vector<Certificate>& anchors, const TimePolicy& time);
Result<Unverified> OpenCoseUnverified(ByteView envelope);
Result<Bytes> CosePayloadUnverified(ByteView envelope);

}  // namespace vouch::formats
