// Key co-generation on P-256 (DESIGN.md sections 1 and 3).
//
// The device holds {x, X}; the owner draws {y, Y}. Anyone can compute Z = X + Y; only a
// holder of both x and y can compute z = (x + y) mod n, and z*G = Z. The owner never holds z
// and the device never shares x, so Z's private key exists only inside the device.
#pragma once

#include "libvoucher/key.h"
#include "libvoucher/status.h"

namespace vouch::cogen {

// Z = X + Y. kInvalidKey when the sum is the point at infinity (Y = -X).
Result<PublicKey> CombinePublic(const PublicKey& x, const PublicKey& y);

// z = (x + y) mod n. kInvalidKey when the sum is 0 mod n. Intermediate values are wiped.
Result<PrivateKey> CombinePrivate(const PrivateKey& x, const PrivateKey& y);

// The owner's side: a fresh y, uniform in [1, n-1], for the device key X, and Z = X + Y.
// y is drawn again in the (2^-256) case that x + y = 0 mod n, seen as Z = infinity.
struct Contribution {
  PrivateKey y;
  PublicKey combined;
};
Result<Contribution> Contribute(const PublicKey& device_key);

}  // namespace vouch::cogen
