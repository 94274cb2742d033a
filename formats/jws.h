// JWS (RFC 7515) general JSON serialization with x5c, as DESIGN.md section 5 fixes it for
// `application/voucher-jws+json`; alg ES256, ES384 or EdDSA (Ed25519, Ed448), the signer key's
// (libvoucher/signing_key.h). Spec page: formats/voucher.md.
#pragma once

#include "formats/envelope.h"

namespace vouch::formats {

inline constexpr size_t kMaxJwsSignatures = 8;
inline constexpr size_t kMaxX5c = 8;

inline constexpr std::string_view kVoucherJwsTyp = "voucher-jws+json";

// `typ` names the kind of object signed; readers refuse another typ (a request is not a voucher).
Result<Bytes> SignJws(ByteView payload, const Signer& signer, std::string_view typ = kVoucherJwsTyp);
Result<Verified> VerifyJws(ByteView envelope, const std::vector<Certificate>& anchors, const TimePolicy& time,
                           std::string_view typ = kVoucherJwsTyp);
Result<Unverified> OpenJwsUnverified(ByteView envelope, std::string_view typ = kVoucherJwsTyp);
// The payload alone, certificates not even parsed: for filing vouchers by what they say.
Result<Bytes> JwsPayloadUnverified(ByteView envelope);

}  // namespace vouch::formats
