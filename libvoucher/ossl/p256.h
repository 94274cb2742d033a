// NIST P-256 group arithmetic on OpenSSL's EC_POINT / BIGNUM, for key.cpp, cogen.cpp and
// hpke.cpp. Everything here refuses the point at infinity and points off the curve.
#pragma once

#include "libvoucher/bytes.h"
#include "libvoucher/ossl/handles.h"
#include "libvoucher/status.h"

namespace vouch::p256 {

inline constexpr size_t kScalarSize = 32;
inline constexpr size_t kPointSize = 65;  // 0x04 || X || Y
inline constexpr const char* kGroupName = "prime256v1";

const EC_GROUP* Group();  // shared, immutable, thread-safe after first use
const BIGNUM* Order();

// SEC1 point bytes (compressed or uncompressed) -> point; kInvalidKey for infinity or off-curve.
Result<ossl::EcPointPtr> DecodePoint(ByteView sec1);
// point -> 65 uncompressed bytes; kInvalidKey for infinity.
Result<Bytes> EncodePoint(const EC_POINT* point);
// k*G for a scalar in [1, n-1].
Result<ossl::EcPointPtr> MulBase(const BIGNUM* k);
// The x-coordinate of k*peer (32 bytes): the ECDH shared secret of SEC1 3.3.1, computed as
// OpenSSL's ECDH computes it (EC_POINT_mul of the peer point), for a peer point that
// DecodePoint accepted (on the curve, not infinity: on P-256, whose cofactor is 1, that is
// the whole public key check).
Result<SecretBytes> SharedX(const BIGNUM* k, const EC_POINT* peer);
// A uniform scalar in [1, n-1] from the private random generator, constant-time flagged.
Result<ossl::SecretBnPtr> RandomScalar();
// 32 big-endian bytes -> scalar in [1, n-1], else kInvalidKey. The BIGNUM wipes on free.
Result<ossl::SecretBnPtr> DecodeScalar(ByteView be32);
SecretBytes EncodeScalar(const BIGNUM* k);

}  // namespace vouch::p256
