// ES256: ECDSA on P-256 with SHA-256 (RFC 7518 section 3.4).
//
// JWS carries the signature as the 64-byte concatenation r || s, each left-padded to 32
// bytes; CMS and X.509 carry it as a DER ECDSA-Sig-Value. Sign/Verify speak the JWS form;
// DerToRaw/RawToDer convert between the two.
#pragma once

#include "libvoucher/bytes.h"
#include "libvoucher/key.h"
#include "libvoucher/status.h"

namespace vouch::es256 {

inline constexpr size_t kRawSignatureSize = 64;

Result<Bytes> Sign(const PrivateKey& key, ByteView message);
// kBadSignature when the signature is malformed or does not verify.
Status Verify(const PublicKey& key, ByteView message, ByteView raw_signature);
// The same, for any EVP_PKEY (a certificate's key may be on another curve: it then fails).
Status VerifyWith(EVP_PKEY* key, ByteView message, ByteView raw_signature);

Result<Bytes> DerToRaw(ByteView der);
Result<Bytes> RawToDer(ByteView raw);

}  // namespace vouch::es256
