// CMS SignedData (RFC 5652) for `application/voucher-cms+json` (RFC 8366 section 5.3):
// DER, signedAttrs present, eContentType id-ct-animaJSONVoucher (1.2.840.113549.1.9.16.1.40)
// on output, id-data accepted on input, signer certificates included. ECDSA only: ES256
// (SHA-256) with P-256 keys, ES384 (SHA-384) with P-384 keys; EdDSA keys are kUnsupported
// (libvoucher/ossl/signed_data.h says why).
#pragma once

#include "formats/envelope.h"

namespace vouch::formats {

inline constexpr const char* kAnimaJsonVoucherOid = "1.2.840.113549.1.9.16.1.40";

Result<Bytes> SignCms(ByteView payload, const Signer& signer);
Result<Verified> VerifyCms(ByteView envelope, const std::vector<Certificate>& anchors, const TimePolicy& time);
Result<Unverified> OpenCmsUnverified(ByteView envelope);

}  // namespace vouch::formats
