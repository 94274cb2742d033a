#include "libvoucher/hpke.h"

#include <openssl/core_names.h>

#include <string_view>

#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/handles.h"
#include "libvoucher/ossl/p256.h"

namespace vouch::hpke {
namespace {

constexpr size_t kNh = 32;      // HKDF-SHA256 output
constexpr size_t kNsecret = 32;  // DHKEM(P-256) shared secret
constexpr size_t kNk = 16;      // AES-128-GCM key
constexpr size_t kNn = 12;      // AES-128-GCM nonce

// suite_id values, RFC 9180 sections 4.1 and 5.1.
const Bytes kKemSuite = {'K', 'E', 'M', 0x00, 0x10};
const Bytes kHpkeSuite = {'H', 'P', 'K', 'E', 0x00, 0x10, 0x00, 0x01, 0x00, 0x01};

// Algorithm fetches are costly in OpenSSL 3 (a provider lookup per call); fetched objects are
// immutable and reference-counted, so each is fetched once and shared by all threads.
EVP_MAC* HmacAlg() {
  static const ossl::MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  return mac.get();
}
EVP_KDF* HkdfAlg() {
  static const ossl::KdfPtr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  return kdf.get();
}
const EVP_CIPHER* Aes128Gcm() {
  static const std::unique_ptr<EVP_CIPHER, ossl::Deleter<EVP_CIPHER_free>> cipher(
      EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr));
  return cipher.get();
}

Bytes Concat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (ByteView p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Extract(salt, ikm) = HMAC-SHA256(salt, ikm), RFC 5869 section 2.2. An empty salt is the
// same as HashLen zero bytes there, and that is how it is passed: OpenSSL's HMAC wants a key.
Result<SecretBytes> Extract(ByteView salt, ByteView ikm) {
  static const uint8_t kZeros[kNh] = {0};
  if (salt.empty()) salt = ByteView(kZeros, kNh);
  ossl::MacCtxPtr ctx(HmacAlg() ? EVP_MAC_CTX_new(HmacAlg()) : nullptr);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  SecretBytes prk(kNh);
  size_t n = 0;
  if (!ctx || EVP_MAC_init(ctx.get(), salt.data(), salt.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), ikm.data(), ikm.size()) != 1 ||
      EVP_MAC_final(ctx.get(), prk.data(), &n, prk.size()) != 1 || n != kNh) {
    return ossl::Fail(Code::kCrypto, "hkdf extract");
  }
  return prk;
}

// Expand(prk, info, L), RFC 5869 section 2.3, through OpenSSL's HKDF in expand-only mode.
Result<SecretBytes> Expand(ByteView prk, ByteView info, size_t length) {
  ossl::KdfCtxPtr ctx(HkdfAlg() ? EVP_KDF_CTX_new(HkdfAlg()) : nullptr);
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(prk.data()), prk.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  SecretBytes out(length);
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return ossl::Fail(Code::kCrypto, "hkdf expand");
  }
  return out;
}

// LabeledExtract and LabeledExpand, RFC 9180 section 4.
Result<SecretBytes> LabeledExtract(ByteView suite, ByteView salt, std::string_view label, ByteView ikm) {
  Bytes labeled = Concat({AsBytes("HPKE-v1"), suite, AsBytes(label), ikm});
  auto r = Extract(salt, labeled);
  Wipe(labeled.data(), labeled.size());  // ikm may be the DH output
  return r;
}

Result<SecretBytes> LabeledExpand(ByteView suite, ByteView prk, std::string_view label, ByteView info,
                                  size_t length) {
  const uint8_t l[2] = {static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
  Bytes labeled = Concat({ByteView(l, 2), AsBytes("HPKE-v1"), suite, AsBytes(label), info});
  return Expand(prk, labeled, length);
}

// DH(sk, pk): the x-coordinate of sk*pk, RFC 9180 section 7.1.1 (SEC1 ECDH, via EVP_PKEY_derive).
Result<SecretBytes> Dh(const PrivateKey& sk, const PublicKey& pk) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, sk.pkey(), nullptr));
  SecretBytes out(32);
  size_t n = out.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), pk.pkey()) != 1 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &n) != 1 || n != 32) {
    return ossl::Fail(Code::kCrypto, "ecdh");
  }
  return out;
}

// ExtractAndExpand, RFC 9180 section 4.1.
Result<SecretBytes> ExtractAndExpand(ByteView dh, ByteView kem_context) {
  VOUCH_ASSIGN_OR_RETURN(SecretBytes eae_prk, LabeledExtract(kKemSuite, {}, "eae_prk", dh));
  return LabeledExpand(kKemSuite, eae_prk.view(), "shared_secret", kem_context, kNsecret);
}

Status CheckSize(ByteView b, const char* what) {
  if (b.size() > kMaxInputSize) return Error(Code::kTooLarge, std::string("hpke ") + what + " is over 1 MiB");
  return Status::Ok();
}

}  // namespace

Result<PrivateKey> DeriveKeyPair(ByteView ikm) {
  VOUCH_ASSIGN_OR_RETURN(SecretBytes dkp_prk, LabeledExtract(kKemSuite, {}, "dkp_prk", ikm));
  for (unsigned counter = 0; counter < 256; ++counter) {
    const uint8_t c = static_cast<uint8_t>(counter);
    VOUCH_ASSIGN_OR_RETURN(SecretBytes bytes, LabeledExpand(kKemSuite, dkp_prk.view(), "candidate", ByteView(&c, 1), 32));
    bytes[0] &= 0xff;  // the P-256 bitmask (RFC 9180 7.1.3): a no-op, kept to mirror the RFC
    auto sk = PrivateKey::FromScalar(bytes.view());
    if (sk.ok()) return sk;
  }
  return Error(Code::kCrypto, "hpke DeriveKeyPair found no scalar in 256 candidates");
}

Result<Encapsulation> Encap(const PublicKey& pkR, const PrivateKey* ephemeral) {
  PrivateKey skE;
  if (ephemeral) {
    skE = *ephemeral;
  } else {
    VOUCH_ASSIGN_OR_RETURN(skE, PrivateKey::Generate());
  }
  VOUCH_ASSIGN_OR_RETURN(SecretBytes dh, Dh(skE, pkR));
  Encapsulation out;
  out.enc = skE.Public().point();
  Bytes kem_context = Concat({out.enc, pkR.point()});
  VOUCH_ASSIGN_OR_RETURN(out.shared_secret, ExtractAndExpand(dh.view(), kem_context));
  return out;
}

Result<SecretBytes> Decap(ByteView enc, const PrivateKey& skR) {
  if (enc.size() != kEncSize) return Error(Code::kDecryptFailed, "hpke enc is not a 65-byte P-256 point");
  auto pkE = PublicKey::FromPoint(enc);
  if (!pkE.ok()) return Error(Code::kDecryptFailed, "hpke enc is not a valid P-256 point");
  VOUCH_ASSIGN_OR_RETURN(SecretBytes dh, Dh(skR, *pkE));
  Bytes kem_context = Concat({enc, skR.Public().point()});
  return ExtractAndExpand(dh.view(), kem_context);
}

Result<Context> KeyScheduleBase(ByteView shared_secret, ByteView info) {
  VOUCH_RETURN_IF_ERROR(CheckSize(info, "info"));
  VOUCH_ASSIGN_OR_RETURN(SecretBytes psk_id_hash, LabeledExtract(kHpkeSuite, {}, "psk_id_hash", {}));
  VOUCH_ASSIGN_OR_RETURN(SecretBytes info_hash, LabeledExtract(kHpkeSuite, {}, "info_hash", info));
  const uint8_t mode_base = 0x00;
  Bytes ks_context = Concat({ByteView(&mode_base, 1), psk_id_hash.view(), info_hash.view()});
  VOUCH_ASSIGN_OR_RETURN(SecretBytes secret, LabeledExtract(kHpkeSuite, shared_secret, "secret", {}));
  Context c;
  VOUCH_ASSIGN_OR_RETURN(c.key_, LabeledExpand(kHpkeSuite, secret.view(), "key", ks_context, kNk));
  VOUCH_ASSIGN_OR_RETURN(c.base_nonce_, LabeledExpand(kHpkeSuite, secret.view(), "base_nonce", ks_context, kNn));
  VOUCH_ASSIGN_OR_RETURN(c.exporter_secret_, LabeledExpand(kHpkeSuite, secret.view(), "exp", ks_context, kNh));
  return c;
}

// ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn), RFC 9180 section 5.2.
Bytes Context::Nonce() const {
  Bytes nonce(base_nonce_.data(), base_nonce_.data() + kNn);
  for (size_t i = 0; i < 8; ++i) nonce[kNn - 1 - i] ^= static_cast<uint8_t>(seq_ >> (8 * i));
  return nonce;
}

Result<Bytes> Context::Seal(ByteView aad, ByteView pt) {
  VOUCH_RETURN_IF_ERROR(CheckSize(aad, "aad"));
  VOUCH_RETURN_IF_ERROR(CheckSize(pt, "plaintext"));
  if (seq_ == UINT64_MAX) return Error(Code::kCrypto, "hpke message limit reached");
  Bytes nonce = Nonce();
  ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes ct(pt.size() + kTagSize);
  int n = 0, m = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), Aes128Gcm(), nullptr, key_.data(), nonce.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ct.data(), &n, pt.data(), static_cast<int>(pt.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct.data() + n, &m) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, ct.data() + pt.size()) != 1) {
    return ossl::Fail(Code::kCrypto, "aes-128-gcm seal");
  }
  ++seq_;
  return ct;
}

Result<SecretBytes> Context::Open(ByteView aad, ByteView ct) {
  VOUCH_RETURN_IF_ERROR(CheckSize(aad, "aad"));
  VOUCH_RETURN_IF_ERROR(CheckSize(ct, "ciphertext"));
  if (ct.size() < kTagSize) return Error(Code::kDecryptFailed, "hpke ciphertext is shorter than its tag");
  if (seq_ == UINT64_MAX) return Error(Code::kCrypto, "hpke message limit reached");
  Bytes nonce = Nonce();
  size_t body = ct.size() - kTagSize;
  ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  SecretBytes pt(body);
  int n = 0, m = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), Aes128Gcm(), nullptr, key_.data(), nonce.data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), pt.data(), &n, ct.data(), static_cast<int>(body)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize,
                          const_cast<uint8_t*>(ct.data() + body)) != 1) {
    return ossl::Fail(Code::kCrypto, "aes-128-gcm open");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), pt.data() + n, &m) != 1) {
    ossl::ClearErrors();
    return Error(Code::kDecryptFailed, "hpke ciphertext does not open: wrong key or tampered enc, ct, aad or info");
  }
  ++seq_;
  return pt;
}

Result<SecretBytes> Context::Export(ByteView exporter_context, size_t length) const {
  VOUCH_RETURN_IF_ERROR(CheckSize(exporter_context, "exporter context"));
  if (length > 255 * kNh) return Error(Code::kUsage, "hpke export is longer than 255*Nh bytes");
  return LabeledExpand(kHpkeSuite, exporter_secret_.view(), "sec", exporter_context, length);
}

Result<Sender> SetupBaseS(const PublicKey& pkR, ByteView info, const PrivateKey* ephemeral) {
  VOUCH_ASSIGN_OR_RETURN(Encapsulation e, Encap(pkR, ephemeral));
  VOUCH_ASSIGN_OR_RETURN(Context c, KeyScheduleBase(e.shared_secret.view(), info));
  return Sender{std::move(e.enc), std::move(c)};
}

Result<Context> SetupBaseR(ByteView enc, const PrivateKey& skR, ByteView info) {
  VOUCH_ASSIGN_OR_RETURN(SecretBytes shared_secret, Decap(enc, skR));
  return KeyScheduleBase(shared_secret.view(), info);
}

Result<Sealed> Seal(const PublicKey& pkR, ByteView info, ByteView aad, ByteView pt) {
  VOUCH_ASSIGN_OR_RETURN(Sender s, SetupBaseS(pkR, info));
  VOUCH_ASSIGN_OR_RETURN(Bytes ct, s.context.Seal(aad, pt));
  return Sealed{std::move(s.enc), std::move(ct)};
}

Result<SecretBytes> Open(const PrivateKey& skR, ByteView enc, ByteView info, ByteView aad, ByteView ct) {
  VOUCH_ASSIGN_OR_RETURN(Context c, SetupBaseR(enc, skR, info));
  return c.Open(aad, ct);
}

}  // namespace vouch::hpke
