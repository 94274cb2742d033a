// Private keys for X25519 and X448 (RFC 7748) that act as a given Edwards scalar.
//
// A co-generated scalar z = x + y mod L is not an RFC 7748 private key: X25519 and X448
// clamp what they are given (X25519 clears the low 3 bits and sets bit 254; X448 clears the
// low 2 bits and sets bit 447), so writing z's bytes as an X25519 key computes with some
// other scalar; that is the naive approach, and cogen_test shows it failing. A clamped value
// c acts on the prime-order subgroup as c mod L, and X25519 sees only u-coordinates, on which
// c and -c act alike. So the key for z is a clamped c with c = +z or c = -z (mod L):
//   c = 2^254 + 8k, k = (+-z - 2^254) / 8 mod L, usable when k < 2^251      (X25519)
//   c = 2^447 + 4k, k = (+-z - 2^447) / 4 mod L, usable when k < 2^445      (X448)
// One of the two signs is usable except for a fraction of about 2^-126.6 (X25519) and 2^-223
// (X448) of scalars (cogen.md derives it); for those this is kInvalidKey and the scalar is
// drawn again where it can be (key generation), refused where it cannot (an enrollment).
// The Edwards public key keeps the sign; which of +-z a c stands for is settled against it.
#pragma once

#include "libvoucher/bytes.h"
#include "libvoucher/group.h"
#include "libvoucher/status.h"

namespace vouch::montgomery {

// The RFC 7748 private key (little-endian, 32 or 56 bytes, already clamped) for the scalar k
// of Group::kEd25519 or kEd448. Chooses without branching on k which sign is used.
Result<SecretBytes> PrivateKeyFor(Group g, ByteView k);

// clamp(c) mod L: the scalar an RFC 7748 private key acts as, up to sign.
Result<SecretBytes> ScalarOf(Group g, ByteView c);

}  // namespace vouch::montgomery
