#include "libvoucher/ed25519.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "libvoucher/key.h"
#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/handles.h"

namespace vouch::ed25519 {

Result<PrivateKey> PrivateKey::Adopt(EVP_PKEY* raw) {
  ossl::PkeyPtr pkey(raw);
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) return Error(Code::kInvalidKey, "not an Ed25519 key");
  PrivateKey key;
  key.public_.resize(kPublicKeySize);
  size_t n = kPublicKeySize;
  if (EVP_PKEY_get_raw_public_key(pkey.get(), key.public_.data(), &n) != 1 || n != kPublicKeySize) {
    return ossl::Fail(Code::kCrypto, "ed25519 public key");
  }
  key.pkey_ = std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free);
  return key;
}

Result<PrivateKey> PrivateKey::Generate() {
  ossl::PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!pkey) return ossl::Fail(Code::kCrypto, "ed25519 key generation");
  return Adopt(pkey.release());
}

Result<PrivateKey> PrivateKey::FromSeed(ByteView seed) {
  if (seed.size() != kSeedSize) {
    return Error(Code::kInvalidKey, "ed25519 private key of " + std::to_string(seed.size()) + " bytes (32 expected)");
  }
  ossl::PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!pkey) return ossl::Fail(Code::kInvalidKey, "ed25519 private key");
  return Adopt(pkey.release());
}

Result<PrivateKey> PrivateKey::FromPem(ByteView pem) {
  ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ossl::PkeyPtr pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!pkey) return ossl::Fail(Code::kMalformed, "ed25519 key is not an unencrypted PEM private key");
  return Adopt(pkey.release());
}

SecretBytes PrivateKey::Seed() const {
  SecretBytes out(kSeedSize);
  size_t n = kSeedSize;
  if (EVP_PKEY_get_raw_private_key(pkey_.get(), out.data(), &n) != 1 || n != kSeedSize) {
    ossl::ClearErrors();
    return {};
  }
  return out;
}

SecretBytes PrivateKey::Pkcs8Pem() const {
  return PrivateKeyPem(pkey_.get());
}

Result<Bytes> PrivateKey::Sign(ByteView message) const {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  Bytes sig(kSignatureSize);
  size_t n = sig.size();
  // Ed25519 hashes internally: one-shot EVP_DigestSign with no digest is the only way in.
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, pkey_.get(), nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &n, message.data(), message.size()) != 1 || n != kSignatureSize) {
    return ossl::Fail(Code::kCrypto, "ed25519 signing");
  }
  return sig;
}

Status Verify(ByteView public_key, ByteView message, ByteView signature) {
  if (public_key.size() != kPublicKeySize) {
    return Error(Code::kInvalidKey, "ed25519 public key of " + std::to_string(public_key.size()) + " bytes");
  }
  if (signature.size() != kSignatureSize) {
    return Error(Code::kBadSignature, "ed25519 signature of " + std::to_string(signature.size()) + " bytes");
  }
  ossl::PkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  if (!pkey) return ossl::Fail(Code::kInvalidKey, "ed25519 public key");
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, pkey.get(), nullptr) != 1) {
    return ossl::Fail(Code::kCrypto, "ed25519 verification");
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size()) != 1) {
    ossl::ClearErrors();
    return Error(Code::kBadSignature, "ed25519 signature does not verify");
  }
  return Status::Ok();
}

Status SavePrivateKey(const std::filesystem::path& path, const PrivateKey& key, Overwrite overwrite) {
  return SavePrivatePem(path, key.Pkcs8Pem(), overwrite);
}

Result<PrivateKey> LoadPrivateKey(const std::filesystem::path& path) {
  return LoadPrivateKeyFile<PrivateKey>(path, PrivateKey::FromPem);
}

}  // namespace vouch::ed25519
