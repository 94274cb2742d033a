// EdDSA (RFC 8032, pure Ed25519 and Ed448 without context) with a co-generated key.
//
// RFC 8032 derives the signing scalar s and the nonce prefix from a 32- or 57-byte seed, and
// OpenSSL signs only from such a seed. A co-generated z = x + sum y_i has no seed: it is the
// scalar itself. So the device signs with an expanded key (s, prefix) composed from group
// operations (group.h) and OpenSSL's SHA-512 and SHAKE256, exactly as RFC 8032 sections 5.1.6
// and 5.2.6 write it; only the prefix is vouch's own:
//   Ed25519: prefix = SHA-512("vouch eddsa prefix v1" || s)[0..32)
//   Ed448:   prefix = SHAKE256("vouch eddsa prefix v1" || s, 57)
// The prefix is secret and fixed per key, so nonces are deterministic as RFC 8032 intends.
// Signatures verify with any RFC 8032 verifier under Z; eddsa_test checks SignExpanded with
// the expanded keys of RFC 8032's own test vectors, byte for byte.
#pragma once

#include "libvoucher/bytes.h"
#include "libvoucher/key.h"
#include "libvoucher/status.h"

namespace vouch::eddsa {

struct ExpandedKey {
  SecretBytes scalar;  // s mod L, the group's scalar encoding
  SecretBytes prefix;  // 32 bytes (Ed25519) or 57 (Ed448)
};

// RFC 8032's expansion of a seed (5.1.5 steps 1-3, 5.2.5 steps 1-3), reduced mod L.
Result<ExpandedKey> ExpandSeed(Group g, ByteView seed);
// vouch's expansion of a co-generated Edwards key (above).
Result<ExpandedKey> Expand(const PrivateKey& key);

// RFC 8032 5.1.6 / 5.2.6 with an expanded key whose public key is `public_point`.
Result<Bytes> SignExpanded(Group g, const ExpandedKey& key, ByteView public_point, ByteView message);
// Signs with a co-generated Ed25519 or Ed448 key: 64 or 114 bytes.
Result<Bytes> Sign(const PrivateKey& key, ByteView message);
// Through OpenSSL's RFC 8032 verifier. kBadSignature when it does not verify.
Status Verify(const PublicKey& key, ByteView message, ByteView signature);

}  // namespace vouch::eddsa
