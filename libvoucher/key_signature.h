// Signatures by a co-generation key (X, a contribution Y_i, the combined key Z) in its own
// group's algorithm (DESIGN.md section 3): the one place that chooses between ES256 for a
// P-256 key and RFC 8032 EdDSA with an expanded key (libvoucher/eddsa.h) for an Edwards one.
// Contributions prove possession of y_i with it (cogen.h); enrollment receipts sign with z
// and x (formats/receipt.h).
//
//   group     JWS alg   signature (JWS form)                verifies under
//   P-256     ES256     64 bytes: r || s, SHA-256           the P-256 SPKI, any ECDSA verifier
//   Ed25519   EdDSA     64 bytes, pure Ed25519, no context  the Ed25519 SPKI (RFC 8410)
//   Ed448     EdDSA     114 bytes, pure Ed448, no context   the Ed448 SPKI
#pragma once

#include <string_view>

#include "libvoucher/bytes.h"
#include "libvoucher/group.h"
#include "libvoucher/key.h"
#include "libvoucher/status.h"

namespace vouch {

// "ES256" for P-256, "EdDSA" for Ed25519 and Ed448 (RFC 7518 3.4, RFC 8037 3.1).
std::string_view KeyJwsAlg(Group g);

// Signs `message` with `key` (table above); a P-256 signature always has s <= n/2. kCrypto only.
Result<Bytes> SignWithKey(const PrivateKey& key, ByteView message);

// False for a P-256 signature with s > n/2 (what SignWithKey never writes: (r, n - s) is the
// same signature spelled otherwise, which anyone can make from (r, s)); true for Edwards
// signatures, which have one spelling. For formats that must be one string per signing
// (receipts, filed by the hash of their bytes).
bool HasLowS(Group g, ByteView signature);

// kBadSignature when `signature` is not `key`'s signature over `message` (wrong length,
// encoding or value).
Status VerifyWithKey(const PublicKey& key, ByteView message, ByteView signature);

}  // namespace vouch
