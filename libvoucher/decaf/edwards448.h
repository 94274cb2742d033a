// The prime-order subgroup of edwards448 (RFC 8032's Ed448 encoding) through libdecaf's
// decaf_448_* API: the one folder that calls libdecaf. libvoucher/group.h dispatches here
// for Group::kEd448 and documents the encodings.
//
// libdecaf computes in the Decaf quotient group and converts at the edges: decoding an
// RFC 8032 point P gives the Decaf element N(P), and encoding a Decaf element q gives the
// RFC 8032 encoding of 4*N^-1(q) (DECAF_448_EDDSA_ENCODE_RATIO; the ratios multiply to the
// cofactor, which is how torsion is cleared). So every result here is encoded from q/4,
// and a point is accepted only if it comes back as the same bytes: that refuses points
// with a torsion component, which decoding alone silently drops.
#pragma once

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::edwards448 {

inline constexpr size_t kScalarSize = 56;
inline constexpr size_t kPointSize = 57;

Status CheckPoint(ByteView p);
Status CheckScalar(ByteView k);
Result<Bytes> Add(ByteView a, ByteView b);
Result<Bytes> MulBase(ByteView k);
Result<SecretBytes> AddScalars(ByteView a, ByteView b);
Result<SecretBytes> NegateScalar(ByteView k);
Result<SecretBytes> InvertScalar(ByteView k);
Result<SecretBytes> ReduceWide(ByteView wide);
Result<SecretBytes> MulAddScalars(ByteView a, ByteView b, ByteView c);
Result<Bytes> ToMontgomery(ByteView p);

}  // namespace vouch::edwards448
