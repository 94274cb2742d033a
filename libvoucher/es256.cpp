#include "libvoucher/es256.h"

#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/handles.h"

namespace vouch::es256 {

Result<Bytes> DerToRaw(ByteView der) {
  const unsigned char* p = der.data();
  ossl::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Error(Code::kBadSignature, "ecdsa signature is not DER");
  }
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  Bytes raw(kRawSignatureSize);
  if (BN_bn2binpad(r, raw.data(), 32) != 32 || BN_bn2binpad(s, raw.data() + 32, 32) != 32) {
    return Error(Code::kBadSignature, "ecdsa signature values are longer than 32 bytes");
  }
  return raw;
}

Result<Bytes> RawToDer(ByteView raw) {
  if (raw.size() != kRawSignatureSize) return Error(Code::kBadSignature, "es256 signature is not 64 bytes");
  ossl::EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), 32, nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return ossl::Fail(Code::kCrypto, "ecdsa signature");
  }
  unsigned char* der = nullptr;
  int n = i2d_ECDSA_SIG(sig.get(), &der);
  if (n <= 0) return ossl::Fail(Code::kCrypto, "ecdsa signature encoding");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

Result<Bytes> Sign(const PrivateKey& key, ByteView message) {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t n = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.pkey()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &n, message.data(), message.size()) != 1) {
    return ossl::Fail(Code::kCrypto, "es256 sign");
  }
  Bytes der(n);
  if (EVP_DigestSign(ctx.get(), der.data(), &n, message.data(), message.size()) != 1) {
    return ossl::Fail(Code::kCrypto, "es256 sign");
  }
  der.resize(n);
  return DerToRaw(der);
}

Status VerifyWith(EVP_PKEY* key, ByteView message, ByteView raw_signature) {
  VOUCH_ASSIGN_OR_RETURN(Bytes der, RawToDer(raw_signature));
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return ossl::Fail(Code::kBadSignature, "es256 verify");
  }
  if (EVP_DigestVerify(ctx.get(), der.data(), der.size(), message.data(), message.size()) != 1) {
    ossl::ClearErrors();
    return Error(Code::kBadSignature, "es256 signature does not verify");
  }
  return Status::Ok();
}

Status Verify(const PublicKey& key, ByteView message, ByteView raw_signature) {
  return VerifyWith(key.pkey(), message, raw_signature);
}

}  // namespace vouch::es256
