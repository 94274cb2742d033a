#include "libvoucher/sodium/edwards25519.h"

#include <sodium.h>

#include <algorithm>

namespace vouch::edwards25519 {
namespace {

static_assert(kScalarSize == crypto_core_ed25519_SCALARBYTES);
static_assert(kPointSize == crypto_core_ed25519_BYTES);

// sodium_init is idempotent and thread-safe; every entry point that draws randomness or
// relies on libsodium's CPU dispatch calls this first.
Status Init() {
  static const int rc = sodium_init();
  if (rc < 0) return Error(Code::kCrypto, "libsodium failed to initialise");
  return Status::Ok();
}

Status CheckSize(ByteView b, size_t n, const char* what) {
  if (b.size() != n) return Error(Code::kInvalidKey, std::string("ed25519 ") + what + " is not " + std::to_string(n) + " bytes");
  return Status::Ok();
}

// L = 2^252 + 27742317777372353535851937790883648493, little-endian.
constexpr uint8_t kOrder[kScalarSize] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                         0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                         0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};

// k < L, compared from the most significant byte down without branching on k.
bool Canonical(ByteView k) {
  unsigned lt = 0, eq = 1;
  for (size_t i = kScalarSize; i-- > 0;) {
    unsigned a = k[i], b = kOrder[i];
    lt |= eq & ((a - b) >> 8 & 1);
    eq &= ((a ^ b) - 1) >> 8 & 1;
  }
  return lt == 1;
}

}  // namespace

Status CheckPoint(ByteView p) {
  VOUCH_RETURN_IF_ERROR(CheckSize(p, kPointSize, "point"));
  VOUCH_RETURN_IF_ERROR(Init());
  // Canonical encoding, on the curve, not of small order, in the prime-order subgroup.
  if (crypto_core_ed25519_is_valid_point(p.data()) != 1) {
    return Error(Code::kInvalidKey, "ed25519 public key is not a canonical point of the prime-order subgroup");
  }
  return Status::Ok();
}

Status CheckScalar(ByteView k) {
  VOUCH_RETURN_IF_ERROR(CheckSize(k, kScalarSize, "scalar"));
  if (!Canonical(k) || sodium_is_zero(k.data(), k.size())) {
    return Error(Code::kInvalidKey, "ed25519 private scalar is not in [1, L-1]");
  }
  return Status::Ok();
}

Result<Bytes> Add(ByteView a, ByteView b) {
  VOUCH_RETURN_IF_ERROR(CheckPoint(a));
  VOUCH_RETURN_IF_ERROR(CheckPoint(b));
  Bytes sum(kPointSize);
  if (crypto_core_ed25519_add(sum.data(), a.data(), b.data()) != 0) return Error(Code::kCrypto, "ed25519 point addition");
  // The sum of two subgroup points is in the subgroup; only the identity can fail here.
  if (!CheckPoint(sum).ok()) return Error(Code::kInvalidKey, "ed25519 point sum is the identity");
  return sum;
}

Result<Bytes> MulBase(ByteView k) {
  VOUCH_RETURN_IF_ERROR(CheckScalar(k));
  Bytes p(kPointSize);
  if (crypto_scalarmult_ed25519_base_noclamp(p.data(), k.data()) != 0) {
    return Error(Code::kInvalidKey, "ed25519 scalar multiplication gave the identity");
  }
  return p;
}

Result<SecretBytes> AddScalars(ByteView a, ByteView b) {
  VOUCH_RETURN_IF_ERROR(CheckSize(a, kScalarSize, "scalar"));
  VOUCH_RETURN_IF_ERROR(CheckSize(b, kScalarSize, "scalar"));
  SecretBytes sum(kScalarSize);
  crypto_core_ed25519_scalar_add(sum.data(), a.data(), b.data());
  if (sodium_is_zero(sum.data(), sum.size())) return Error(Code::kInvalidKey, "ed25519 scalar sum is 0 mod L");
  return sum;
}

Result<SecretBytes> RandomScalar() {
  VOUCH_RETURN_IF_ERROR(Init());
  SecretBytes k(kScalarSize);
  // Uniform in [0, L-1]; 0 has probability 2^-252 and is drawn again.
  do {
    crypto_core_ed25519_scalar_random(k.data());
  } while (sodium_is_zero(k.data(), k.size()));
  return k;
}

Result<SecretBytes> NegateScalar(ByteView k) {
  VOUCH_RETURN_IF_ERROR(CheckSize(k, kScalarSize, "scalar"));
  SecretBytes out(kScalarSize);
  crypto_core_ed25519_scalar_negate(out.data(), k.data());
  return out;
}

Result<SecretBytes> InvertScalar(ByteView k) {
  VOUCH_RETURN_IF_ERROR(CheckScalar(k));
  SecretBytes out(kScalarSize);
  if (crypto_core_ed25519_scalar_invert(out.data(), k.data()) != 0) return Error(Code::kInvalidKey, "ed25519 scalar 0 has no inverse");
  return out;
}

Result<SecretBytes> ReduceWide(ByteView wide) {
  // crypto_core_ed25519_scalar_reduce takes exactly 64 bytes; shorter inputs are zero-extended.
  if (wide.size() > crypto_core_ed25519_NONREDUCEDSCALARBYTES) return Error(Code::kInternal, "ed25519 reduce input over 64 bytes");
  SecretBytes in(crypto_core_ed25519_NONREDUCEDSCALARBYTES);
  std::copy(wide.begin(), wide.end(), in.data());
  SecretBytes out(kScalarSize);
  crypto_core_ed25519_scalar_reduce(out.data(), in.data());
  return out;
}

Result<SecretBytes> MulAddScalars(ByteView a, ByteView b, ByteView c) {
  VOUCH_RETURN_IF_ERROR(CheckSize(a, kScalarSize, "scalar"));
  VOUCH_RETURN_IF_ERROR(CheckSize(b, kScalarSize, "scalar"));
  VOUCH_RETURN_IF_ERROR(CheckSize(c, kScalarSize, "scalar"));
  SecretBytes product(kScalarSize), out(kScalarSize);
  crypto_core_ed25519_scalar_mul(product.data(), a.data(), b.data());
  crypto_core_ed25519_scalar_add(out.data(), product.data(), c.data());
  return out;
}

Result<Bytes> ToMontgomery(ByteView p) {
  VOUCH_RETURN_IF_ERROR(CheckPoint(p));
  Bytes u(crypto_scalarmult_curve25519_BYTES);
  // u = (1 + y) / (1 - y), RFC 7748 section 4.1.
  if (crypto_sign_ed25519_pk_to_curve25519(u.data(), p.data()) != 0) return Error(Code::kInvalidKey, "ed25519 point has no X25519 form");
  return u;
}

LinkedLibrary LibraryVersion() { return {"libsodium", SODIUM_VERSION_STRING, sodium_version_string()}; }

}  // namespace vouch::edwards25519
