#include "libvoucher/montgomery.h"

namespace vouch::montgomery {
namespace {

struct Params {
  size_t size;       // key bytes
  unsigned h_bits;   // the cofactor clamping clears: 3 (8) for X25519, 2 (4) for X448
  unsigned top_bit;  // the bit clamping sets
  uint8_t k_mask;    // bits of k's top byte that must be 0 for k < 2^(top_bit - h_bits)
};

Result<Params> ParamsFor(Group g) {
  if (g == Group::kEd25519) return Params{32, 3, 254, 0xf8};
  if (g == Group::kEd448) return Params{56, 2, 447, 0xe0};
  return Error(Code::kUnsupported, "RFC 7748 keys exist for the Edwards groups only");
}

SecretBytes PowerOfTwo(size_t size, unsigned bit) {
  SecretBytes b(size);
  b[bit / 8] = static_cast<uint8_t>(1u << (bit % 8));
  return b;
}

// RFC 7748 section 5's decodeScalar25519 / decodeScalar448.
SecretBytes Clamp(const Params& p, ByteView c) {
  SecretBytes out(c);
  out[0] &= static_cast<uint8_t>(0xff << p.h_bits);
  if (p.size == 32) {
    out[31] &= 127;
    out[31] |= 64;
  } else {
    out[55] |= 128;
  }
  return out;
}

}  // namespace

namespace {

// 1/h and -2^top/h mod L: public constants of the group, computed once (an inversion costs
// as much as the rest of PrivateKeyFor).
struct Constants {
  Bytes h_inv, offset;
};

Result<Constants> ComputeConstants(Group g, const Params& p) {
  const SecretBytes zero(p.size);
  SecretBytes h = PowerOfTwo(p.size, p.h_bits);
  VOUCH_ASSIGN_OR_RETURN(SecretBytes h_inv, group::InvertScalar(g, h.view()));
  SecretBytes base = PowerOfTwo(p.size, p.top_bit);
  VOUCH_ASSIGN_OR_RETURN(SecretBytes base_red, group::ReduceWide(g, base.view()));
  VOUCH_ASSIGN_OR_RETURN(SecretBytes base_over_h, group::MulAddScalars(g, h_inv.view(), base_red.view(), zero.view()));
  VOUCH_ASSIGN_OR_RETURN(SecretBytes offset, group::NegateScalar(g, base_over_h.view()));
  return Constants{Bytes(h_inv.data(), h_inv.data() + h_inv.size()), Bytes(offset.data(), offset.data() + offset.size())};
}

Result<Constants> ConstantsFor(Group g, const Params& p) {
  static const Result<Constants> ed25519 = ComputeConstants(Group::kEd25519, Params{32, 3, 254, 0xf8});
  static const Result<Constants> ed448 = ComputeConstants(Group::kEd448, Params{56, 2, 447, 0xe0});
  const Result<Constants>& c = g == Group::kEd25519 ? ed25519 : ed448;
  if (c.ok()) return *c;
  return ComputeConstants(g, p);  // never expected; report the failure afresh
}

}  // namespace

Result<SecretBytes> PrivateKeyFor(Group g, ByteView k) {
  VOUCH_ASSIGN_OR_RETURN(Params p, ParamsFor(g));
  VOUCH_RETURN_IF_ERROR(group::CheckScalar(g, k));
  VOUCH_ASSIGN_OR_RETURN(Constants constants, ConstantsFor(g, p));
  const Bytes& h_inv = constants.h_inv;
  const Bytes& offset = constants.offset;
  VOUCH_ASSIGN_OR_RETURN(SecretBytes minus_k, group::NegateScalar(g, k));
  // k_s = (s - 2^top) / h mod L for s = +k and s = -k.
  VOUCH_ASSIGN_OR_RETURN(SecretBytes k_plus, group::MulAddScalars(g, h_inv, k, offset));
  VOUCH_ASSIGN_OR_RETURN(SecretBytes k_minus, group::MulAddScalars(g, h_inv, minus_k.view(), offset));
  const uint8_t plus_ok = static_cast<uint8_t>((k_plus[p.size - 1] & p.k_mask) == 0);
  const uint8_t minus_ok = static_cast<uint8_t>((k_minus[p.size - 1] & p.k_mask) == 0);
  if (!(plus_ok | minus_ok)) {
    return Error(Code::kInvalidKey, std::string(g == Group::kEd25519 ? "X25519" : "X448") +
                                        " has no private key for this scalar (probability about 2^-126)");
  }
  // Select without a branch on which sign works: mask is 0xff when +k is usable.
  const uint8_t mask = static_cast<uint8_t>(-plus_ok);
  SecretBytes c(p.size);
  unsigned carry = 0;
  for (size_t i = 0; i < p.size; ++i) {
    const unsigned byte = (k_plus[i] & mask) | (k_minus[i] & static_cast<uint8_t>(~mask));
    c[i] = static_cast<uint8_t>((byte << p.h_bits) | carry);  // c = h * k ...
    carry = byte >> (8 - p.h_bits);
  }
  c[p.top_bit / 8] |= static_cast<uint8_t>(1u << (p.top_bit % 8));  // ... + 2^top (h*k < 2^top)
  return c;
}

Result<SecretBytes> ScalarOf(Group g, ByteView c) {
  VOUCH_ASSIGN_OR_RETURN(Params p, ParamsFor(g));
  if (c.size() != p.size) return Error(Code::kInvalidKey, "RFC 7748 private key is not " + std::to_string(p.size) + " bytes");
  SecretBytes clamped = Clamp(p, c);
  return group::ReduceWide(g, clamped.view());
}

}  // namespace vouch::montgomery
