#include "libvoucher/key_signature.h"

#include <openssl/bn.h>

#include "libvoucher/eddsa.h"
#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/handles.h"
#include "libvoucher/ossl/p256.h"
#include "libvoucher/signing_key.h"

namespace vouch {
namespace {

// s of a 64-byte r || s, and n / 2, as BIGNUMs; null when OpenSSL fails.
struct SAndHalf {
  ossl::BnPtr s, half;
};
SAndHalf SplitS(ByteView rs) {
  SAndHalf out{ossl::BnPtr(BN_bin2bn(rs.data() + 32, 32, nullptr)), ossl::BnPtr(BN_dup(p256::Order()))};
  if (out.half && BN_rshift1(out.half.get(), out.half.get()) != 1) out.half.reset();
  return out;
}

}  // namespace

std::string_view KeyJwsAlg(Group g) { return g == Group::kP256 ? "ES256" : "EdDSA"; }

Result<Bytes> SignWithKey(const PrivateKey& key, ByteView message) {
  // A P-256 key is an ordinary ECDSA key pair; an Edwards scalar has no RFC 8032 seed, so it
  // signs with an expanded key (eddsa.h).
  if (key.group() != Group::kP256) return eddsa::Sign(key, message);
  VOUCH_ASSIGN_OR_RETURN(Bytes sig, SigningKey(key).Sign(message));
  // (r, s) and (r, n - s) both verify: always the smaller s, so that a signature is one string
  // and nobody but the signer can turn it into another valid one (HasLowS).
  SAndHalf v = SplitS(sig);
  if (!v.s || !v.half) return ossl::Fail(Code::kCrypto, "ecdsa low-s");
  if (BN_cmp(v.s.get(), v.half.get()) > 0) {
    if (BN_sub(v.s.get(), p256::Order(), v.s.get()) != 1 || BN_bn2binpad(v.s.get(), sig.data() + 32, 32) != 32) {
      return ossl::Fail(Code::kCrypto, "ecdsa low-s");
    }
  }
  return sig;
}

bool HasLowS(Group g, ByteView signature) {
  // RFC 8032 verification already refuses S >= L; an Edwards signature has one spelling.
  if (g != Group::kP256) return true;
  if (signature.size() != 64) return false;
  SAndHalf v = SplitS(signature);
  return v.s && v.half && BN_cmp(v.s.get(), v.half.get()) <= 0;
}

Status VerifyWithKey(const PublicKey& key, ByteView message, ByteView signature) {
  if (key.group() == Group::kP256) return VerifyJwsSignature(key.pkey(), "ES256", message, signature);
  return eddsa::Verify(key, message, signature);
}

}  // namespace vouch
