// The three prime-order groups vouch co-generates keys in (DESIGN.md section 3): NIST P-256,
// and the prime-order subgroups of edwards25519 and edwards448 in their RFC 8032 encodings.
//
// Every function here speaks each group's own wire encoding, so that callers never convert:
//   P-256    point: 65-byte uncompressed SEC1;  scalar: 32 bytes big-endian, in [1, n-1]
//   Ed25519  point: 32-byte RFC 8032 encoding;  scalar: 32 bytes little-endian, in [1, L-1]
//   Ed448    point: 57-byte RFC 8032 encoding;  scalar: 56 bytes little-endian, in [1, L-1]
// A point is accepted only in its canonical encoding, on the curve, in the prime-order
// subgroup and not the identity: anything else is kInvalidKey, so that a contribution with
// a small-order component cannot make two parties compute different sums. Arithmetic is
// delegated: P-256 to OpenSSL (ossl/p256), Ed25519 to libsodium (sodium/), Ed448 to
// libdecaf (decaf/). Nothing here branches on a secret beyond what those libraries do.
#pragma once

#include <string_view>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch {

enum class Group { kP256, kEd25519, kEd448 };

std::string_view GroupName(Group g);  // "P-256", "Ed25519", "Ed448"
size_t ScalarSize(Group g);           // 32, 32, 56
size_t PointSize(Group g);            // 65, 32, 57

namespace group {

Status CheckPoint(Group g, ByteView point);
Status CheckScalar(Group g, ByteView scalar);
// a + b; kInvalidKey when either is not a point or the sum is the identity.
Result<Bytes> Add(Group g, ByteView a, ByteView b);
// k*G for a scalar in [1, order-1].
Result<Bytes> MulBase(Group g, ByteView scalar);
// (a + b) mod order; kInvalidKey when the sum is 0.
Result<SecretBytes> AddScalars(Group g, ByteView a, ByteView b);
// A uniform scalar in [1, order-1].
Result<SecretBytes> RandomScalar(Group g);

// The Edwards groups only (kUnsupported for P-256):
// -k mod L.
Result<SecretBytes> NegateScalar(Group g, ByteView k);
// An arbitrary-length little-endian integer (a hash output: 64 bytes for Ed25519, 114 for
// Ed448) reduced mod L. May be 0 (EdDSA's r and k may).
Result<SecretBytes> ReduceWide(Group g, ByteView wide);
// (a * b + c) mod L: EdDSA's S = r + k*s with a = k, b = s, c = r. May be 0.
Result<SecretBytes> MulAddScalars(Group g, ByteView a, ByteView b, ByteView c);
// k^-1 mod L; kInvalidKey for 0.
Result<SecretBytes> InvertScalar(Group g, ByteView k);
// The Montgomery u-coordinate (RFC 7748) of an Edwards point: the X25519 or X448 public key
// that goes with it. Sign-blind: P and -P have the same u.
Result<Bytes> ToMontgomery(Group g, ByteView point);

}  // namespace group
}  // namespace vouch
