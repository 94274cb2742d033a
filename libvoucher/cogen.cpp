#include "libvoucher/cogen.h"

#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/p256.h"

namespace vouch::cogen {

Result<PublicKey> CombinePublic(const PublicKey& x, const PublicKey& y) {
  VOUCH_ASSIGN_OR_RETURN(ossl::EcPointPtr px, p256::DecodePoint(x.point()));
  VOUCH_ASSIGN_OR_RETURN(ossl::EcPointPtr py, p256::DecodePoint(y.point()));
  ossl::EcPointPtr sum(EC_POINT_new(p256::Group()));
  if (!sum || EC_POINT_add(p256::Group(), sum.get(), px.get(), py.get(), nullptr) != 1) {
    return ossl::Fail(Code::kCrypto, "p256 point addition");
  }
  if (EC_POINT_is_at_infinity(p256::Group(), sum.get())) {
    return Error(Code::kInvalidKey, "combined key X + Y is the point at infinity");
  }
  VOUCH_ASSIGN_OR_RETURN(Bytes point, p256::EncodePoint(sum.get()));
  return PublicKey::FromPoint(point);
}

Result<PrivateKey> CombinePrivate(const PrivateKey& x, const PrivateKey& y) {
  SecretBytes xs = x.Scalar(), ys = y.Scalar();
  VOUCH_ASSIGN_OR_RETURN(ossl::SecretBnPtr bx, p256::DecodeScalar(xs.view()));
  VOUCH_ASSIGN_OR_RETURN(ossl::SecretBnPtr by, p256::DecodeScalar(ys.view()));
  ossl::SecretBnPtr z(BN_secure_new());
  ossl::BnCtxPtr ctx(BN_CTX_secure_new());
  if (!z || !ctx) return ossl::Fail(Code::kCrypto, "p256 scalar addition");
  // Constant-time flags: z is a private key, its bits must not steer branches or memory.
  BN_set_flags(z.get(), BN_FLG_CONSTTIME);
  if (BN_mod_add(z.get(), bx.get(), by.get(), p256::Order(), ctx.get()) != 1) {
    return ossl::Fail(Code::kCrypto, "p256 scalar addition");
  }
  if (BN_is_zero(z.get())) return Error(Code::kInvalidKey, "combined private key x + y is 0 mod n");
  SecretBytes zs = p256::EncodeScalar(z.get());
  return PrivateKey::FromScalar(zs.view());
}

Result<Contribution> Contribute(const PublicKey& device_key) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    VOUCH_ASSIGN_OR_RETURN(PrivateKey y, PrivateKey::Generate());
    auto z = CombinePublic(device_key, y.Public());
    if (z.ok()) return Contribution{std::move(y), std::move(*z)};
    if (z.status().code() != Code::kInvalidKey) return z.status();
  }
  // Eight draws that each cancel X have probability 2^-2048: a broken random generator.
  return Error(Code::kInternal, "could not draw a contribution y: the random generator is broken");
}

}  // namespace vouch::cogen
