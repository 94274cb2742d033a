#include "libvoucher/group.h"

#include <openssl/rand.h>

#include "libvoucher/decaf/edwards448.h"
#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/p256.h"
#include "libvoucher/sodium/edwards25519.h"

namespace vouch {

std::string_view GroupName(Group g) {
  switch (g) {
    case Group::kP256: return "P-256";
    case Group::kEd25519: return "Ed25519";
    case Group::kEd448: return "Ed448";
  }
  return "?";
}

size_t ScalarSize(Group g) {
  switch (g) {
    case Group::kP256: return p256::kScalarSize;
    case Group::kEd25519: return edwards25519::kScalarSize;
    case Group::kEd448: return edwards448::kScalarSize;
  }
  return 0;
}

size_t PointSize(Group g) {
  switch (g) {
    case Group::kP256: return p256::kPointSize;
    case Group::kEd25519: return edwards25519::kPointSize;
    case Group::kEd448: return edwards448::kPointSize;
  }
  return 0;
}

namespace group {
namespace {

Status EdwardsOnly(const char* what) {
  return Error(Code::kUnsupported, std::string(what) + " is defined for the Edwards groups only, not P-256");
}

// P-256 through OpenSSL: its points are validated by decoding, its scalars by range.
namespace p256ops {

Result<Bytes> Add(ByteView a, ByteView b) {
  VOUCH_ASSIGN_OR_RETURN(ossl::EcPointPtr pa, p256::DecodePoint(a));
  VOUCH_ASSIGN_OR_RETURN(ossl::EcPointPtr pb, p256::DecodePoint(b));
  ossl::EcPointPtr sum(EC_POINT_new(p256::Group()));
  if (!sum || EC_POINT_add(p256::Group(), sum.get(), pa.get(), pb.get(), nullptr) != 1) {
    return ossl::Fail(Code::kCrypto, "p256 point addition");
  }
  if (EC_POINT_is_at_infinity(p256::Group(), sum.get())) {
    return Error(Code::kInvalidKey, "p256 point sum is the point at infinity");
  }
  return p256::EncodePoint(sum.get());
}

Result<Bytes> MulBase(ByteView k) {
  VOUCH_ASSIGN_OR_RETURN(ossl::SecretBnPtr bk, p256::DecodeScalar(k));
  VOUCH_ASSIGN_OR_RETURN(ossl::EcPointPtr p, p256::MulBase(bk.get()));
  return p256::EncodePoint(p.get());
}

Result<SecretBytes> AddScalars(ByteView a, ByteView b) {
  VOUCH_ASSIGN_OR_RETURN(ossl::SecretBnPtr ba, p256::DecodeScalar(a));
  VOUCH_ASSIGN_OR_RETURN(ossl::SecretBnPtr bb, p256::DecodeScalar(b));
  ossl::SecretBnPtr sum(BN_secure_new());
  ossl::BnCtxPtr ctx(BN_CTX_secure_new());
  if (!sum || !ctx) return ossl::Fail(Code::kCrypto, "p256 scalar addition");
  // Constant-time flags: the sum is a private key, its bits must not steer branches.
  BN_set_flags(sum.get(), BN_FLG_CONSTTIME);
  if (BN_mod_add(sum.get(), ba.get(), bb.get(), p256::Order(), ctx.get()) != 1) {
    return ossl::Fail(Code::kCrypto, "p256 scalar addition");
  }
  if (BN_is_zero(sum.get())) return Error(Code::kInvalidKey, "p256 scalar sum is 0 mod n");
  return p256::EncodeScalar(sum.get());
}

Result<SecretBytes> RandomScalar() {
  VOUCH_ASSIGN_OR_RETURN(ossl::SecretBnPtr k, p256::RandomScalar());
  return p256::EncodeScalar(k.get());
}

}  // namespace p256ops

// Ed448's uniform scalar: 64 bytes more than L's 446 bits reduced mod L (bias 2^-512).
Result<SecretBytes> RandomEd448Scalar() {
  SecretBytes wide(edwards448::kScalarSize + 64);
  for (;;) {
    if (RAND_priv_bytes(wide.data(), static_cast<int>(wide.size())) != 1) return ossl::Fail(Code::kCrypto, "random bytes");
    VOUCH_ASSIGN_OR_RETURN(SecretBytes k, edwards448::ReduceWide(wide.view()));
    if (edwards448::CheckScalar(k.view()).ok()) return k;  // not 0
  }
}

}  // namespace

Status CheckPoint(Group g, ByteView point) {
  switch (g) {
    case Group::kP256: return p256::DecodePoint(point).status();
    case Group::kEd25519: return edwards25519::CheckPoint(point);
    case Group::kEd448: return edwards448::CheckPoint(point);
  }
  return Error(Code::kInternal, "unknown group");
}

Status CheckScalar(Group g, ByteView scalar) {
  switch (g) {
    case Group::kP256: return p256::DecodeScalar(scalar).status();
    case Group::kEd25519: return edwards25519::CheckScalar(scalar);
    case Group::kEd448: return edwards448::CheckScalar(scalar);
  }
  return Error(Code::kInternal, "unknown group");
}

Result<Bytes> Add(Group g, ByteView a, ByteView b) {
  switch (g) {
    case Group::kP256: return p256ops::Add(a, b);
    case Group::kEd25519: return edwards25519::Add(a, b);
    case Group::kEd448: return edwards448::Add(a, b);
  }
  return Error(Code::kInternal, "unknown group");
}

Result<Bytes> MulBase(Group g, ByteView scalar) {
  switch (g) {
    case Group::kP256: return p256ops::MulBase(scalar);
    case Group::kEd25519: return edwards25519::MulBase(scalar);
    case Group::kEd448: return edwards448::MulBase(scalar);
  }
  return Error(Code::kInternal, "unknown group");
}

Result<SecretBytes> AddScalars(Group g, ByteView a, ByteView b) {
  switch (g) {
    case Group::kP256: return p256ops::AddScalars(a, b);
    case Group::kEd25519: return edwards25519::AddScalars(a, b);
    case Group::kEd448: return edwards448::AddScalars(a, b);
  }
  return Error(Code::kInternal, "unknown group");
}

Result<SecretBytes> RandomScalar(Group g) {
  switch (g) {
    case Group::kP256: return p256ops::RandomScalar();
    case Group::kEd25519: return edwards25519::RandomScalar();
    case Group::kEd448: return RandomEd448Scalar();
  }
  return Error(Code::kInternal, "unknown group");
}

Result<SecretBytes> NegateScalar(Group g, ByteView k) {
  if (g == Group::kEd25519) return edwards25519::NegateScalar(k);
  if (g == Group::kEd448) return edwards448::NegateScalar(k);
  return EdwardsOnly("scalar negation");
}

Result<SecretBytes> InvertScalar(Group g, ByteView k) {
  if (g == Group::kEd25519) return edwards25519::InvertScalar(k);
  if (g == Group::kEd448) return edwards448::InvertScalar(k);
  return EdwardsOnly("scalar inversion");
}

Result<SecretBytes> ReduceWide(Group g, ByteView wide) {
  if (g == Group::kEd25519) return edwards25519::ReduceWide(wide);
  if (g == Group::kEd448) return edwards448::ReduceWide(wide);
  return EdwardsOnly("wide reduction");
}

Result<SecretBytes> MulAddScalars(Group g, ByteView a, ByteView b, ByteView c) {
  if (g == Group::kEd25519) return edwards25519::MulAddScalars(a, b, c);
  if (g == Group::kEd448) return edwards448::MulAddScalars(a, b, c);
  return EdwardsOnly("scalar multiply-add");
}

Result<Bytes> ToMontgomery(Group g, ByteView point) {
  if (g == Group::kEd25519) return edwards25519::ToMontgomery(point);
  if (g == Group::kEd448) return edwards448::ToMontgomery(point);
  return EdwardsOnly("the Montgomery form");
}

}  // namespace group
}  // namespace vouch
