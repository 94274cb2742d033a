#include "libvoucher/ossl/p256.h"

#include <openssl/obj_mac.h>

#include "libvoucher/ossl/error.h"

namespace vouch::p256 {

const EC_GROUP* Group() {
  static const EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  return group;
}

const BIGNUM* Order() { return EC_GROUP_get0_order(Group()); }

Result<ossl::EcPointPtr> DecodePoint(ByteView sec1) {
  ossl::EcPointPtr p(EC_POINT_new(Group()));
  if (!p) return ossl::Fail(Code::kCrypto, "p256 point");
  // EC_POINT_oct2point checks that the point is on the curve (OpenSSL 3 ec_oct.c) but
  // decodes the single byte 0x00 as infinity, which we must refuse ourselves.
  if (sec1.empty() || EC_POINT_oct2point(Group(), p.get(), sec1.data(), sec1.size(), nullptr) != 1) {
    return ossl::Fail(Code::kInvalidKey, "p256 public key is not a point on the curve");
  }
  if (EC_POINT_is_at_infinity(Group(), p.get())) {
    return Error(Code::kInvalidKey, "p256 public key is the point at infinity");
  }
  return p;
}

Result<Bytes> EncodePoint(const EC_POINT* point) {
  if (EC_POINT_is_at_infinity(Group(), point)) {
    return Error(Code::kInvalidKey, "p256 public key is the point at infinity");
  }
  Bytes out(kPointSize);
  size_t n = EC_POINT_point2oct(Group(), point, POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(), nullptr);
  if (n != kPointSize) return ossl::Fail(Code::kCrypto, "p256 point encoding");
  return out;
}

Result<ossl::EcPointPtr> MulBase(const BIGNUM* k) {
  ossl::EcPointPtr p(EC_POINT_new(Group()));
  if (!p || EC_POINT_mul(Group(), p.get(), k, nullptr, nullptr, nullptr) != 1) {
    return ossl::Fail(Code::kCrypto, "p256 scalar multiplication");
  }
  return p;
}

Result<SecretBytes> SharedX(const BIGNUM* k, const EC_POINT* peer) {
  ossl::EcPointPtr p(EC_POINT_new(Group()));
  ossl::BnPtr x(BN_new());
  if (!p || !x || EC_POINT_mul(Group(), p.get(), nullptr, peer, k, nullptr) != 1) return ossl::Fail(Code::kCrypto, "ecdh");
  if (EC_POINT_is_at_infinity(Group(), p.get())) return Error(Code::kInvalidKey, "ecdh result is the point at infinity");
  SecretBytes out(kScalarSize);
  if (EC_POINT_get_affine_coordinates(Group(), p.get(), x.get(), nullptr, nullptr) != 1 ||
      BN_bn2binpad(x.get(), out.data(), static_cast<int>(out.size())) != static_cast<int>(out.size())) {
    BN_clear(x.get());
    return ossl::Fail(Code::kCrypto, "ecdh");
  }
  BN_clear(x.get());
  return out;
}

Result<ossl::SecretBnPtr> RandomScalar() {
  ossl::SecretBnPtr k(BN_secure_new());
  if (!k || BN_priv_rand_range(k.get(), Order()) != 1) return ossl::Fail(Code::kCrypto, "p256 random scalar");
  // [0, n-1]; 0 has probability 2^-256 and is drawn again.
  while (BN_is_zero(k.get())) {
    if (BN_priv_rand_range(k.get(), Order()) != 1) return ossl::Fail(Code::kCrypto, "p256 random scalar");
  }
  BN_set_flags(k.get(), BN_FLG_CONSTTIME);
  return k;
}

Result<ossl::SecretBnPtr> DecodeScalar(ByteView be32) {
  if (be32.size() != kScalarSize) return Error(Code::kInvalidKey, "p256 private scalar is not 32 bytes");
  ossl::SecretBnPtr k(BN_secure_new());
  if (!k || !BN_bin2bn(be32.data(), static_cast<int>(be32.size()), k.get())) {
    return ossl::Fail(Code::kCrypto, "p256 scalar");
  }
  if (BN_is_zero(k.get()) || BN_cmp(k.get(), Order()) >= 0) {
    return Error(Code::kInvalidKey, "p256 private scalar is not in [1, n-1]");
  }
  return k;
}

SecretBytes EncodeScalar(const BIGNUM* k) {
  SecretBytes out(kScalarSize);
  BN_bn2binpad(k, out.data(), static_cast<int>(out.size()));
  return out;
}

}  // namespace vouch::p256
