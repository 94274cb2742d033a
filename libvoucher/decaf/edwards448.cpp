#include "libvoucher/decaf/edwards448.h"

#include <decaf/ed448.h>
#include <decaf/point_448.h>

#include <algorithm>

namespace vouch::edwards448 {
namespace {

static_assert(kScalarSize == DECAF_448_SCALAR_BYTES);
static_assert(kPointSize == DECAF_EDDSA_448_PUBLIC_BYTES);
static_assert(DECAF_448_EDDSA_ENCODE_RATIO == 4 && DECAF_448_EDDSA_DECODE_RATIO == 1);

// Owners of libdecaf values that wipe them when they go out of scope.
struct Scalar {
  decaf_448_scalar_t s;
  Scalar() { decaf_448_scalar_copy(s, decaf_448_scalar_zero); }
  ~Scalar() { decaf_448_scalar_destroy(s); }
  Scalar(const Scalar&) = delete;
  Scalar& operator=(const Scalar&) = delete;
};
struct Point {
  decaf_448_point_t p;
  Point() { decaf_448_point_copy(p, decaf_448_point_identity); }
  ~Point() { decaf_448_point_destroy(p); }
  Point(const Point&) = delete;
  Point& operator=(const Point&) = delete;
};

Status CheckSize(ByteView b, size_t n, const char* what) {
  if (b.size() != n) return Error(Code::kInvalidKey, std::string("ed448 ") + what + " is not " + std::to_string(n) + " bytes");
  return Status::Ok();
}

// Decodes any 56 bytes as a scalar mod L (callers check canonical form where it matters).
void Load(Scalar& out, ByteView k) { decaf_448_scalar_decode_long(out.s, k.data(), k.size()); }

SecretBytes Store(const Scalar& k) {
  SecretBytes out(kScalarSize);
  decaf_448_scalar_encode(out.data(), k.s);
  return out;
}

bool IsZero(const Scalar& k) { return decaf_448_scalar_eq(k.s, decaf_448_scalar_zero) == DECAF_TRUE; }

// The RFC 8032 encoding of the point q stands for, 4*N^-1(q) (see the header): q is
// scaled by 1/4 first, so that the encoding is of N^-1(q) itself.
Bytes Encode(const Point& q) {
  Scalar quarter;
  decaf_448_scalar_halve(quarter.s, decaf_448_scalar_one);
  decaf_448_scalar_halve(quarter.s, quarter.s);
  Point scaled;
  decaf_448_point_scalarmul(scaled.p, q.p, quarter.s);
  Bytes out(kPointSize);
  decaf_448_point_mul_by_ratio_and_encode_like_eddsa(out.data(), scaled.p);
  return out;
}

// The Decaf element of a canonical, torsion-free, non-identity RFC 8032 point.
Status Decode(Point& out, ByteView p) {
  VOUCH_RETURN_IF_ERROR(CheckSize(p, kPointSize, "point"));
  if (decaf_448_point_decode_like_eddsa_and_mul_by_ratio(out.p, p.data()) != DECAF_SUCCESS) {
    return Error(Code::kInvalidKey, "ed448 public key is not a point on the curve");
  }
  if (decaf_448_point_eq(out.p, decaf_448_point_identity) == DECAF_TRUE) {
    return Error(Code::kInvalidKey, "ed448 public key is the identity or of small order");
  }
  Bytes again = Encode(out);
  if (!std::equal(again.begin(), again.end(), p.begin(), p.end())) {
    return Error(Code::kInvalidKey, "ed448 public key is not a canonical point of the prime-order subgroup");
  }
  return Status::Ok();
}

}  // namespace

Status CheckPoint(ByteView p) {
  Point q;
  return Decode(q, p);
}

Status CheckScalar(ByteView k) {
  VOUCH_RETURN_IF_ERROR(CheckSize(k, kScalarSize, "scalar"));
  Scalar s;
  if (decaf_448_scalar_decode(s.s, k.data()) != DECAF_SUCCESS || IsZero(s)) {
    return Error(Code::kInvalidKey, "ed448 private scalar is not in [1, L-1]");
  }
  return Status::Ok();
}

Result<Bytes> Add(ByteView a, ByteView b) {
  Point pa, pb, sum;
  VOUCH_RETURN_IF_ERROR(Decode(pa, a));
  VOUCH_RETURN_IF_ERROR(Decode(pb, b));
  decaf_448_point_add(sum.p, pa.p, pb.p);
  if (decaf_448_point_eq(sum.p, decaf_448_point_identity) == DECAF_TRUE) {
    return Error(Code::kInvalidKey, "ed448 point sum is the identity");
  }
  return Encode(sum);
}

Result<Bytes> MulBase(ByteView k) {
  VOUCH_RETURN_IF_ERROR(CheckScalar(k));
  Scalar s;
  Load(s, k);
  Point q;
  // N(B) is Decaf's base point (RFC 8032's B = N^-1(decaf base)), so k*B encodes from k*base.
  decaf_448_precomputed_scalarmul(q.p, decaf_448_precomputed_base, s.s);
  return Encode(q);
}

Result<SecretBytes> AddScalars(ByteView a, ByteView b) {
  VOUCH_RETURN_IF_ERROR(CheckSize(a, kScalarSize, "scalar"));
  VOUCH_RETURN_IF_ERROR(CheckSize(b, kScalarSize, "scalar"));
  Scalar sa, sb, sum;
  Load(sa, a);
  Load(sb, b);
  decaf_448_scalar_add(sum.s, sa.s, sb.s);
  if (IsZero(sum)) return Error(Code::kInvalidKey, "ed448 scalar sum is 0 mod L");
  return Store(sum);
}

Result<SecretBytes> NegateScalar(ByteView k) {
  VOUCH_RETURN_IF_ERROR(CheckSize(k, kScalarSize, "scalar"));
  Scalar s, neg;
  Load(s, k);
  decaf_448_scalar_sub(neg.s, decaf_448_scalar_zero, s.s);
  return Store(neg);
}

Result<SecretBytes> InvertScalar(ByteView k) {
  VOUCH_RETURN_IF_ERROR(CheckScalar(k));
  Scalar s, inv;
  Load(s, k);
  if (decaf_448_scalar_invert(inv.s, s.s) != DECAF_SUCCESS) return Error(Code::kInvalidKey, "ed448 scalar 0 has no inverse");
  return Store(inv);
}

Result<SecretBytes> ReduceWide(ByteView wide) {
  if (wide.size() > 256) return Error(Code::kInternal, "ed448 reduce input over 256 bytes");
  Scalar s;
  Load(s, wide);
  return Store(s);
}

Result<SecretBytes> MulAddScalars(ByteView a, ByteView b, ByteView c) {
  VOUCH_RETURN_IF_ERROR(CheckSize(a, kScalarSize, "scalar"));
  VOUCH_RETURN_IF_ERROR(CheckSize(b, kScalarSize, "scalar"));
  VOUCH_RETURN_IF_ERROR(CheckSize(c, kScalarSize, "scalar"));
  Scalar sa, sb, sc, product, out;
  Load(sa, a);
  Load(sb, b);
  Load(sc, c);
  decaf_448_scalar_mul(product.s, sa.s, sb.s);
  decaf_448_scalar_add(out.s, product.s, sc.s);
  return Store(out);
}

Result<Bytes> ToMontgomery(ByteView p) {
  VOUCH_RETURN_IF_ERROR(CheckPoint(p));
  Bytes u(DECAF_X448_PUBLIC_BYTES);
  // RFC 7748 section 4.2's 4-isogeny, u = y^2 / x^2: libdecaf's conversion, which does not
  // check its input (CheckPoint did).
  decaf_ed448_convert_public_key_to_x448(u.data(), p.data());
  return u;
}

}  // namespace vouch::edwards448
