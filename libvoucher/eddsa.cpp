#include "libvoucher/eddsa.h"

#include <openssl/evp.h>

#include <algorithm>

#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/handles.h"

namespace vouch::eddsa {
namespace {

constexpr std::string_view kPrefixLabel = "vouch eddsa prefix v1";
// dom4(0, ""), RFC 8032 section 5.2: pure Ed448 with an empty context.
constexpr uint8_t kDom4[] = {'S', 'i', 'g', 'E', 'd', '4', '4', '8', 0x00, 0x00};

Status RequireEdwards(Group g) {
  if (g == Group::kP256) return Error(Code::kUnsupported, "EdDSA needs an Ed25519 or Ed448 key, not P-256");
  return Status::Ok();
}

// H of RFC 8032 over the concatenation of `parts`: SHA-512 (Ed25519) or SHAKE256 with dom4
// and 114 bytes of output (Ed448), or `out_len` bytes of SHAKE256 when given.
Result<SecretBytes> Hash(Group g, std::initializer_list<ByteView> parts, bool dom4 = true, size_t out_len = 114) {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ed448 = g == Group::kEd448;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), ed448 ? EVP_shake256() : EVP_sha512(), nullptr) != 1) {
    return ossl::Fail(Code::kCrypto, "eddsa hash");
  }
  if (ed448 && dom4 && EVP_DigestUpdate(ctx.get(), kDom4, sizeof kDom4) != 1) return ossl::Fail(Code::kCrypto, "eddsa hash");
  for (ByteView p : parts) {
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return ossl::Fail(Code::kCrypto, "eddsa hash");
  }
  SecretBytes out(ed448 ? out_len : 64);
  unsigned n = 0;
  int ok = ed448 ? EVP_DigestFinalXOF(ctx.get(), out.data(), out.size()) : EVP_DigestFinal_ex(ctx.get(), out.data(), &n);
  if (ok != 1) return ossl::Fail(Code::kCrypto, "eddsa hash");
  return out;
}

size_t PrefixSize(Group g) { return g == Group::kEd25519 ? 32 : 57; }

}  // namespace

Result<ExpandedKey> ExpandSeed(Group g, ByteView seed) {
  VOUCH_RETURN_IF_ERROR(RequireEdwards(g));
  const size_t half = PrefixSize(g);  // 32 or 57: the seed's size and each half of H(seed)
  if (seed.size() != half) return Error(Code::kInvalidKey, "EdDSA seed is not " + std::to_string(half) + " bytes");
  // Ed448 expands the seed with plain SHAKE256 (5.2.5), no dom4.
  VOUCH_ASSIGN_OR_RETURN(SecretBytes h, Hash(g, {seed}, /*dom4=*/false));
  SecretBytes s(half);
  std::copy(h.data(), h.data() + half, s.data());
  if (g == Group::kEd25519) {
    s[0] &= 248;
    s[31] &= 127;
    s[31] |= 64;
  } else {
    s[0] &= 252;
    s[56] = 0;
    s[55] |= 128;
  }
  ExpandedKey out;
  VOUCH_ASSIGN_OR_RETURN(out.scalar, group::ReduceWide(g, s.view()));
  out.prefix = SecretBytes(ByteView(h.data() + half, half));
  return out;
}

Result<ExpandedKey> Expand(const PrivateKey& key) {
  VOUCH_RETURN_IF_ERROR(RequireEdwards(key.group()));
  ExpandedKey out;
  out.scalar = key.Scalar();
  VOUCH_ASSIGN_OR_RETURN(SecretBytes h, Hash(key.group(), {AsBytes(kPrefixLabel), out.scalar.view()}, false,
                                            PrefixSize(key.group())));
  out.prefix = SecretBytes(ByteView(h.data(), PrefixSize(key.group())));
  return out;
}

Result<Bytes> SignExpanded(Group g, const ExpandedKey& key, ByteView public_point, ByteView message) {
  VOUCH_RETURN_IF_ERROR(RequireEdwards(g));
  // r = H(prefix || M) mod L; R = [r]B.
  VOUCH_ASSIGN_OR_RETURN(SecretBytes rh, Hash(g, {key.prefix.view(), message}));
  VOUCH_ASSIGN_OR_RETURN(SecretBytes r, group::ReduceWide(g, rh.view()));
  // r = 0 has probability 2^-252 or less; [0]B is the identity, which MulBase refuses.
  VOUCH_ASSIGN_OR_RETURN(Bytes big_r, group::MulBase(g, r.view()));
  // k = H(R || A || M) mod L; S = (r + k * s) mod L.
  VOUCH_ASSIGN_OR_RETURN(SecretBytes kh, Hash(g, {big_r, public_point, message}));
  VOUCH_ASSIGN_OR_RETURN(SecretBytes k, group::ReduceWide(g, kh.view()));
  VOUCH_ASSIGN_OR_RETURN(SecretBytes big_s, group::MulAddScalars(g, k.view(), key.scalar.view(), r.view()));
  Bytes sig = big_r;
  sig.insert(sig.end(), big_s.data(), big_s.data() + big_s.size());
  if (g == Group::kEd448) sig.push_back(0);  // S is encoded in 57 bytes; L < 2^446
  return sig;
}

Result<Bytes> Sign(const PrivateKey& key, ByteView message) {
  VOUCH_ASSIGN_OR_RETURN(ExpandedKey expanded, Expand(key));
  return SignExpanded(key.group(), expanded, key.Public().point(), message);
}

Status Verify(const PublicKey& key, ByteView message, ByteView signature) {
  VOUCH_RETURN_IF_ERROR(RequireEdwards(key.group()));
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || !key.pkey() || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key.pkey(), nullptr) != 1) {
    return ossl::Fail(Code::kCrypto, "eddsa verify");
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size()) != 1) {
    ossl::ClearErrors();
    return Error(Code::kBadSignature, "EdDSA signature does not verify");
  }
  return Status::Ok();
}

}  // namespace vouch::eddsa
