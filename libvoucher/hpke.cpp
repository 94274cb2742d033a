#include "libvoucher/hpke.h"

#include <openssl/core_names.h>

#include <string>
#include <string_view>

#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/handles.h"
#include "libvoucher/ossl/p256.h"

namespace vouch::hpke {

void KeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

namespace {

// The hash under an HKDF: the KEM's own (RFC 9180 section 7.1) or the suite's KDF (7.2).
struct Hash {
  const char* digest;  // OpenSSL's name
  size_t nh;
};
constexpr Hash kSha256 = {"SHA256", 32};
constexpr Hash kSha512 = {"SHA512", 64};
constexpr size_t kMaxNh = 64;

// Callers have passed CheckSuite, so the ids are one of the three suites'.
Hash KemHash(const CipherSuite& s) { return s.kem_id == kKemX448 ? kSha512 : kSha256; }
Hash KdfHash(const CipherSuite& s) { return s.kdf_id == kKdfHkdfSha512 ? kSha512 : kSha256; }
bool IsP256(const CipherSuite& s) { return s.kem_id == kKemP256; }
// OpenSSL's key type name, which is also how refusals name the KEM's curve.
const char* KeyType(const CipherSuite& s) {
  return IsP256(s) ? "EC" : s.kem_id == kKemX25519 ? "X25519" : "X448";
}
const char* CurveName(const CipherSuite& s) { return IsP256(s) ? "P-256" : KeyType(s); }
// Ndh: the x-coordinate of a P-256 point, or an X25519 / X448 u-coordinate (= Npk).
size_t Ndh(const CipherSuite& s) { return IsP256(s) ? p256::kScalarSize : s.n_enc; }

Status CheckSuite(const CipherSuite& s) {
  for (const CipherSuite* known : kSuites) {
    if (s == *known) return Status::Ok();
  }
  return Error(Code::kUsage, "hpke suite '" + std::string(s.name) + "' is not one vouch implements");
}

// A key is used only with the suite it was made for: an X25519 key handed to the X448 suite
// (or a P-384 key to the P-256 one) would otherwise fail somewhere deep in OpenSSL, or not at all.
Status CheckKey(const CipherSuite& s, EVP_PKEY* key, const char* role) {
  if (!key) return Error(Code::kUsage, std::string("hpke ") + role + " key is missing");
  bool right = EVP_PKEY_is_a(key, KeyType(s)) == 1;
  if (right && IsP256(s)) {
    char group[64] = {0};
    size_t len = 0;
    right = EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1 &&
            std::string_view(group) == p256::kGroupName;
    ossl::ClearErrors();
  }
  if (!right) {
    const char* article = IsP256(s) ? " key is not a " : " key is not an ";
    return Error(Code::kInvalidKey, std::string("hpke ") + role + article + CurveName(s) + " key, as suite " +
                                        std::string(s.name) + " needs");
  }
  return Status::Ok();
}

// Algorithm fetches are costly in OpenSSL 3 (a provider lookup per call); fetched objects are
// immutable and reference-counted, so each is fetched once, on first use, and shared by all
// threads.
EVP_MAC* HmacAlg() {
  static const ossl::MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  return mac.get();
}
EVP_KDF* HkdfAlg() {
  static const ossl::KdfPtr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  return kdf.get();
}
using CipherPtr = std::unique_ptr<EVP_CIPHER, ossl::Deleter<EVP_CIPHER_free>>;
const EVP_CIPHER* Aead(const CipherSuite& s) {
  switch (s.aead_id) {
    case kAeadAes128Gcm: {
      static const CipherPtr cipher(EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr));
      return cipher.get();
    }
    case kAeadAes256Gcm: {
      static const CipherPtr cipher(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
      return cipher.get();
    }
    default: {
      static const CipherPtr cipher(EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr));
      return cipher.get();
    }
  }
}

Bytes Concat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (ByteView p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes I2osp2(uint16_t v) { return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}; }

// suite_id, RFC 9180 sections 4.1 and 5.1: "KEM" || I2OSP(kem_id, 2) for the KEM's own
// derivations, "HPKE" || kem_id || kdf_id || aead_id for the key schedule.
Bytes KemSuiteId(const CipherSuite& s) { return Concat({AsBytes("KEM"), I2osp2(s.kem_id)}); }
Bytes HpkeSuiteId(const CipherSuite& s) {
  return Concat({AsBytes("HPKE"), I2osp2(s.kem_id), I2osp2(s.kdf_id), I2osp2(s.aead_id)});
}

// Extract(salt, ikm) = HMAC-Hash(salt, ikm), RFC 5869 section 2.2. An empty salt is the
// same as HashLen zero bytes there, and that is how it is passed: OpenSSL's HMAC wants a key.
Result<SecretBytes> Extract(Hash hash, ByteView salt, ByteView ikm) {
  static const uint8_t kZeros[kMaxNh] = {0};
  if (salt.empty()) salt = ByteView(kZeros, hash.nh);
  ossl::MacCtxPtr ctx(HmacAlg() ? EVP_MAC_CTX_new(HmacAlg()) : nullptr);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(hash.digest), 0),
      OSSL_PARAM_construct_end()};
  SecretBytes prk(hash.nh);
  size_t n = 0;
  if (!ctx || EVP_MAC_init(ctx.get(), salt.data(), salt.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), ikm.data(), ikm.size()) != 1 ||
      EVP_MAC_final(ctx.get(), prk.data(), &n, prk.size()) != 1 || n != hash.nh) {
    return ossl::Fail(Code::kCrypto, "hkdf extract");
  }
  return prk;
}

// Expand(prk, info, L), RFC 5869 section 2.3, through OpenSSL's HKDF in expand-only mode.
Result<SecretBytes> Expand(Hash hash, ByteView prk, ByteView info, size_t length) {
  ossl::KdfCtxPtr ctx(HkdfAlg() ? EVP_KDF_CTX_new(HkdfAlg()) : nullptr);
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(hash.digest), 0),
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
Result<SecretBytes> LabeledExtract(Hash hash, ByteView suite_id, ByteView salt, std::string_view label,
                                   ByteView ikm) {
  Bytes labeled = Concat({AsBytes("HPKE-v1"), suite_id, AsBytes(label), ikm});
  auto r = Extract(hash, salt, labeled);
  Wipe(labeled.data(), labeled.size());  // ikm may be the DH output
  return r;
}

Result<SecretBytes> LabeledExpand(Hash hash, ByteView suite_id, ByteView prk, std::string_view label, ByteView info,
                                  size_t length) {
  Bytes labeled = Concat({I2osp2(static_cast<uint16_t>(length)), AsBytes("HPKE-v1"), suite_id, AsBytes(label), info});
  return Expand(hash, prk, labeled, length);
}

// Keys returned share the EVP_PKEY of a PrivateKey / PublicKey: EVP_PKEYs are
// reference-counted and immutable once built.
KeyPtr Share(EVP_PKEY* key) {
  EVP_PKEY_up_ref(key);
  return KeyPtr(key);
}

// The clamping of RFC 7748 section 5 (decodeScalar25519 / decodeScalar448), which RFC 9180
// section 7.1.2 requires of SerializePrivateKey's output and DeserializePrivateKey's input.
// X25519 and X448 clamp inside the scalar multiplication anyway, so it changes no DH result;
// it makes one serialization per key.
void Clamp(const CipherSuite& s, SecretBytes& k) {
  if (s.kem_id == kKemX25519) {
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
  } else {
    k[0] &= 252;
    k[55] |= 128;
  }
}

// DeriveKeyPair for P-256, RFC 9180 section 7.1.3: the first candidate that is a scalar in
// [1, n-1].
Result<PrivateKey> DeriveP256(ByteView ikm) {
  const Bytes kem = KemSuiteId(kP256Sha256Aes128Gcm);
  VOUCH_ASSIGN_OR_RETURN(SecretBytes dkp_prk, LabeledExtract(kSha256, kem, {}, "dkp_prk", ikm));
  for (unsigned counter = 0; counter < 256; ++counter) {
    const uint8_t c = static_cast<uint8_t>(counter);
    VOUCH_ASSIGN_OR_RETURN(SecretBytes bytes, LabeledExpand(kSha256, kem, dkp_prk.view(), "candidate", ByteView(&c, 1), 32));
    bytes[0] &= 0xff;  // the P-256 bitmask (RFC 9180 7.1.3): a no-op, kept to mirror the RFC
    auto sk = PrivateKey::FromScalar(bytes.view());
    if (sk.ok()) return sk;
  }
  return Error(Code::kCrypto, "hpke DeriveKeyPair found no scalar in 256 candidates");
}

bool AllZero(ByteView b) {
  uint8_t acc = 0;
  for (uint8_t x : b) acc |= x;  // no early exit: b is a secret
  return acc == 0;
}

// DH(sk, pk), RFC 9180 section 7.1.1: the x-coordinate of sk*pk on P-256 (SEC1 ECDH), or the
// X25519 / X448 function of RFC 7748. `small_order` is the refusal for an all-zero X25519 /
// X448 output, which RFC 9180 section 7.1.4 (after RFC 7748 section 6) says MUST be refused:
// the peer's key has small order and the output is known to anyone.
Result<SecretBytes> Dh(const CipherSuite& s, EVP_PKEY* sk, EVP_PKEY* pk, Code small_order) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, sk, nullptr));
  if (!ctx) return ossl::Fail(Code::kCrypto, "dh context");
  if (EVP_PKEY_private_check(ctx.get()) != 1) {
    ossl::ClearErrors();
    return Error(Code::kInvalidKey, std::string("hpke ") + CurveName(s) + " key has no private key");
  }
  SecretBytes out(Ndh(s));
  size_t n = out.size();
  // The peer's key is checked on the curve and not at infinity (for P-256, whose cofactor is
  // 1, that is the whole check; X25519 and X448 keys have none to make), and not again by
  // EVP_PKEY_derive_set_peer, whose full check costs one more scalar multiplication.
  ossl::PkeyCtxPtr peer(EVP_PKEY_CTX_new_from_pkey(nullptr, pk, nullptr));
  if (!peer || EVP_PKEY_public_check_quick(peer.get()) != 1) {
    ossl::ClearErrors();
    return Error(Code::kInvalidKey, std::string("hpke ") + CurveName(s) + " public key is not on the curve");
  }
  if (EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer_ex(ctx.get(), pk, 0) != 1) {
    return ossl::Fail(Code::kCrypto, std::string(CurveName(s)) + " dh");
  }
  if (EVP_PKEY_derive(ctx.get(), out.data(), &n) != 1 || n != out.size()) {
    if (IsP256(s)) return ossl::Fail(Code::kCrypto, "ecdh");
    // OpenSSL 3's X25519 and X448 fail exactly here on an all-zero output (ossl_x25519,
    // ossl_x448 in providers/implementations/exchange/ecx_exch.c).
    ossl::ClearErrors();
    return Error(small_order, std::string("hpke ") + CurveName(s) + " shared secret is all zero (a small-order key)");
  }
  // The check RFC 9180 asks for, should OpenSSL ever stop making it for us.
  if (!IsP256(s) && AllZero(out.view())) {
    return Error(small_order, std::string("hpke ") + CurveName(s) + " shared secret is all zero (a small-order key)");
  }
  return out;
}

// ExtractAndExpand, RFC 9180 section 4.1.
Result<SecretBytes> ExtractAndExpand(const CipherSuite& s, ByteView dh, ByteView kem_context) {
  const Bytes kem = KemSuiteId(s);
  VOUCH_ASSIGN_OR_RETURN(SecretBytes eae_prk, LabeledExtract(KemHash(s), kem, {}, "eae_prk", dh));
  return LabeledExpand(KemHash(s), kem, eae_prk.view(), "shared_secret", kem_context, s.n_secret);
}

// Encap on P-256 through OpenSSL's point arithmetic (ossl/p256.h): pkE = skE*G and the DH
// x-coordinate of skE*pkR, exactly what an EVP_PKEY key pair and ECDH would compute, without
// making an EVP_PKEY (each of which builds its own curve group) for either key. `pkRm` is
// SerializePublicKey's form, checked here on the curve.
Result<Encapsulation> EncapP256(ByteView pkRm, const BIGNUM* skE) {
  if (pkRm.size() != p256::kPointSize || pkRm[0] != 0x04) return Error(Code::kInvalidKey, "hpke P-256 public key is not an uncompressed point");
  VOUCH_ASSIGN_OR_RETURN(ossl::EcPointPtr pkR, p256::DecodePoint(pkRm));
  VOUCH_ASSIGN_OR_RETURN(ossl::EcPointPtr pkE, p256::MulBase(skE));
  Encapsulation out;
  VOUCH_ASSIGN_OR_RETURN(out.enc, p256::EncodePoint(pkE.get()));
  VOUCH_ASSIGN_OR_RETURN(SecretBytes dh, p256::SharedX(skE, pkR.get()));
  Bytes kem_context = Concat({out.enc, pkRm});
  VOUCH_ASSIGN_OR_RETURN(out.shared_secret, ExtractAndExpand(kP256Sha256Aes128Gcm, dh.view(), kem_context));
  return out;
}

Status CheckSize(ByteView b, const char* what) {
  if (b.size() > kMaxInputSize) return Error(Code::kTooLarge, std::string("hpke ") + what + " is over 1 MiB");
  return Status::Ok();
}

}  // namespace

const CipherSuite* FindSuite(std::string_view name) {
  for (const CipherSuite* s : kSuites) {
    if (s->name == name) return s;
  }
  return nullptr;
}

Result<KeyPtr> GenerateKeyPair(const CipherSuite& s) {
  VOUCH_RETURN_IF_ERROR(CheckSuite(s));
  KeyPtr key(IsP256(s) ? EVP_EC_gen("P-256") : EVP_PKEY_Q_keygen(nullptr, nullptr, KeyType(s)));
  if (!key) return ossl::Fail(Code::kCrypto, std::string(CurveName(s)) + " key generation");
  return key;
}

Result<KeyPtr> DeriveKeyPair(const CipherSuite& s, ByteView ikm) {
  VOUCH_RETURN_IF_ERROR(CheckSuite(s));
  if (IsP256(s)) {
    VOUCH_ASSIGN_OR_RETURN(PrivateKey sk, DeriveP256(ikm));
    return Share(sk.pkey());
  }
  // X25519 and X448: sk = LabeledExpand(dkp_prk, "sk", "", Nsk), RFC 9180 section 7.1.3.
  const Bytes kem = KemSuiteId(s);
  VOUCH_ASSIGN_OR_RETURN(SecretBytes dkp_prk, LabeledExtract(KemHash(s), kem, {}, "dkp_prk", ikm));
  VOUCH_ASSIGN_OR_RETURN(SecretBytes sk, LabeledExpand(KemHash(s), kem, dkp_prk.view(), "sk", {}, s.n_sk));
  return DeserializePrivateKey(s, sk.view());
}

Result<PrivateKey> DeriveKeyPair(ByteView ikm) { return DeriveP256(ikm); }

Result<Bytes> SerializePublicKey(const CipherSuite& s, EVP_PKEY* pk) {
  VOUCH_RETURN_IF_ERROR(CheckSuite(s));
  VOUCH_RETURN_IF_ERROR(CheckKey(s, pk, "public"));
  if (!IsP256(s)) {
    Bytes out(s.n_enc);
    size_t len = out.size();
    if (EVP_PKEY_get_raw_public_key(pk, out.data(), &len) != 1 || len != out.size()) {
      return ossl::Fail(Code::kInvalidKey, std::string(CurveName(s)) + " public key");
    }
    return out;
  }
  Bytes point(p256::kPointSize + 1);
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(), &len) != 1) {
    return ossl::Fail(Code::kInvalidKey, "p256 public point");
  }
  point.resize(len);
  if (len == p256::kPointSize && point[0] == 0x04) return point;
  // OpenSSL reports a point in the form the key was read from (compressed, say);
  // SerializePublicKey is the uncompressed one (RFC 9180 section 7.1.1).
  VOUCH_ASSIGN_OR_RETURN(ossl::EcPointPtr p, p256::DecodePoint(point));
  return p256::EncodePoint(p.get());
}

Result<KeyPtr> DeserializePublicKey(const CipherSuite& s, ByteView pkm) {
  VOUCH_RETURN_IF_ERROR(CheckSuite(s));
  if (pkm.size() != s.n_enc) {
    return Error(Code::kInvalidKey, "hpke " + std::string(CurveName(s)) + " public key is not " +
                                        std::to_string(s.n_enc) + " bytes");
  }
  if (!IsP256(s)) {
    KeyPtr key(EVP_PKEY_new_raw_public_key_ex(nullptr, KeyType(s), nullptr, pkm.data(), pkm.size()));
    if (!key) return ossl::Fail(Code::kInvalidKey, std::string(CurveName(s)) + " public key");
    return key;
  }
  if (pkm[0] != 0x04) return Error(Code::kInvalidKey, "hpke P-256 public key is not an uncompressed point");
  VOUCH_ASSIGN_OR_RETURN(PublicKey pk, PublicKey::FromPoint(pkm));
  if (!pk.pkey()) return ossl::Fail(Code::kCrypto, "p256 public key");
  return Share(pk.pkey());
}

Result<SecretBytes> SerializePrivateKey(const CipherSuite& s, EVP_PKEY* sk) {
  VOUCH_RETURN_IF_ERROR(CheckSuite(s));
  VOUCH_RETURN_IF_ERROR(CheckKey(s, sk, "private"));
  if (IsP256(s)) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(sk, OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) {
      ossl::ClearErrors();
      return Error(Code::kInvalidKey, "hpke P-256 key has no private key");
    }
    ossl::SecretBnPtr k(raw);
    return p256::EncodeScalar(k.get());
  }
  SecretBytes out(s.n_sk);
  size_t len = out.size();
  if (EVP_PKEY_get_raw_private_key(sk, out.data(), &len) != 1 || len != out.size()) {
    ossl::ClearErrors();
    return Error(Code::kInvalidKey, std::string("hpke ") + CurveName(s) + " key has no private key");
  }
  Clamp(s, out);
  return out;
}

Result<KeyPtr> DeserializePrivateKey(const CipherSuite& s, ByteView skm) {
  VOUCH_RETURN_IF_ERROR(CheckSuite(s));
  if (skm.size() != s.n_sk) {
    return Error(Code::kInvalidKey, "hpke " + std::string(CurveName(s)) + " private key is not " +
                                        std::to_string(s.n_sk) + " bytes");
  }
  if (IsP256(s)) {
    VOUCH_ASSIGN_OR_RETURN(PrivateKey sk, PrivateKey::FromScalar(skm));
    return Share(sk.pkey());
  }
  SecretBytes k(skm);
  Clamp(s, k);
  KeyPtr key(EVP_PKEY_new_raw_private_key_ex(nullptr, KeyType(s), nullptr, k.data(), k.size()));
  if (!key) return ossl::Fail(Code::kInvalidKey, std::string(CurveName(s)) + " private key");
  return key;
}

Result<Encapsulation> Encap(const CipherSuite& s, EVP_PKEY* pkR, EVP_PKEY* ephemeral) {
  VOUCH_RETURN_IF_ERROR(CheckSuite(s));
  VOUCH_RETURN_IF_ERROR(CheckKey(s, pkR, "recipient"));
  if (IsP256(s)) {
    VOUCH_ASSIGN_OR_RETURN(Bytes pkRm, SerializePublicKey(s, pkR));
    if (!ephemeral) {
      VOUCH_ASSIGN_OR_RETURN(ossl::SecretBnPtr skE, p256::RandomScalar());
      return EncapP256(pkRm, skE.get());
    }
    VOUCH_RETURN_IF_ERROR(CheckKey(s, ephemeral, "ephemeral"));
    VOUCH_ASSIGN_OR_RETURN(SecretBytes skEm, SerializePrivateKey(s, ephemeral));
    VOUCH_ASSIGN_OR_RETURN(ossl::SecretBnPtr skE, p256::DecodeScalar(skEm.view()));
    BN_set_flags(skE.get(), BN_FLG_CONSTTIME);
    return EncapP256(pkRm, skE.get());
  }
  KeyPtr fresh;
  if (ephemeral) {
    VOUCH_RETURN_IF_ERROR(CheckKey(s, ephemeral, "ephemeral"));
  } else {
    VOUCH_ASSIGN_OR_RETURN(fresh, GenerateKeyPair(s));
    ephemeral = fresh.get();
  }
  VOUCH_ASSIGN_OR_RETURN(SecretBytes dh, Dh(s, ephemeral, pkR, Code::kInvalidKey));
  Encapsulation out;
  VOUCH_ASSIGN_OR_RETURN(out.enc, SerializePublicKey(s, ephemeral));
  VOUCH_ASSIGN_OR_RETURN(Bytes pkRm, SerializePublicKey(s, pkR));
  Bytes kem_context = Concat({out.enc, pkRm});
  VOUCH_ASSIGN_OR_RETURN(out.shared_secret, ExtractAndExpand(s, dh.view(), kem_context));
  return out;
}

Result<SecretBytes> Decap(const CipherSuite& s, ByteView enc, EVP_PKEY* skR) {
  VOUCH_RETURN_IF_ERROR(CheckSuite(s));
  VOUCH_RETURN_IF_ERROR(CheckKey(s, skR, "recipient"));
  if (enc.size() != s.n_enc) {
    return Error(Code::kDecryptFailed, "hpke enc is not a " + std::to_string(s.n_enc) + "-byte " + CurveName(s) +
                                           " public key");
  }
  auto pkE = DeserializePublicKey(s, enc);
  if (!pkE.ok()) return Error(Code::kDecryptFailed, std::string("hpke enc is not a valid ") + CurveName(s) + " public key");
  VOUCH_ASSIGN_OR_RETURN(SecretBytes dh, Dh(s, skR, pkE->get(), Code::kDecryptFailed));
  VOUCH_ASSIGN_OR_RETURN(Bytes pkRm, SerializePublicKey(s, skR));
  Bytes kem_context = Concat({enc, pkRm});
  return ExtractAndExpand(s, dh.view(), kem_context);
}

Result<Encapsulation> Encap(const PublicKey& pkR, const PrivateKey* ephemeral) {
  return Encap(kP256Sha256Aes128Gcm, pkR.pkey(), ephemeral ? ephemeral->pkey() : nullptr);
}

Result<SecretBytes> Decap(ByteView enc, const PrivateKey& skR) { return Decap(kP256Sha256Aes128Gcm, enc, skR.pkey()); }

Result<Context> KeyScheduleBase(const CipherSuite& s, ByteView shared_secret, ByteView info) {
  VOUCH_RETURN_IF_ERROR(CheckSuite(s));
  VOUCH_RETURN_IF_ERROR(CheckSize(info, "info"));
  const Bytes suite_id = HpkeSuiteId(s);
  const Hash h = KdfHash(s);
  VOUCH_ASSIGN_OR_RETURN(SecretBytes psk_id_hash, LabeledExtract(h, suite_id, {}, "psk_id_hash", {}));
  VOUCH_ASSIGN_OR_RETURN(SecretBytes info_hash, LabeledExtract(h, suite_id, {}, "info_hash", info));
  const uint8_t mode_base = 0x00;
  Bytes ks_context = Concat({ByteView(&mode_base, 1), psk_id_hash.view(), info_hash.view()});
  VOUCH_ASSIGN_OR_RETURN(SecretBytes secret, LabeledExtract(h, suite_id, shared_secret, "secret", {}));
  Context c;
  c.suite_ = s;
  VOUCH_ASSIGN_OR_RETURN(c.key_, LabeledExpand(h, suite_id, secret.view(), "key", ks_context, s.n_k));
  VOUCH_ASSIGN_OR_RETURN(c.base_nonce_, LabeledExpand(h, suite_id, secret.view(), "base_nonce", ks_context, s.n_n));
  VOUCH_ASSIGN_OR_RETURN(c.exporter_secret_, LabeledExpand(h, suite_id, secret.view(), "exp", ks_context, s.n_h));
  return c;
}

Result<Context> KeyScheduleBase(ByteView shared_secret, ByteView info) {
  return KeyScheduleBase(kP256Sha256Aes128Gcm, shared_secret, info);
}

// ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn), RFC 9180 section 5.2.
Bytes Context::Nonce() const {
  Bytes nonce(base_nonce_.data(), base_nonce_.data() + suite_.n_n);
  for (size_t i = 0; i < 8; ++i) nonce[suite_.n_n - 1 - i] ^= static_cast<uint8_t>(seq_ >> (8 * i));
  return nonce;
}

// An empty aad or pt is not passed to OpenSSL: an empty span's data() may be null, and an
// update without input means nothing to either AEAD (checked on OpenSSL 3.0 for both).
Result<Bytes> Context::Seal(ByteView aad, ByteView pt) {
  VOUCH_RETURN_IF_ERROR(CheckSize(aad, "aad"));
  VOUCH_RETURN_IF_ERROR(CheckSize(pt, "plaintext"));
  if (seq_ == UINT64_MAX) return Error(Code::kCrypto, "hpke message limit reached");
  Bytes nonce = Nonce();
  ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes ct(pt.size() + suite_.n_t);
  int aad_len = 0, body_len = 0, final_len = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), Aead(suite_), nullptr, key_.data(), nonce.data()) == 1;
  if (ok && !aad.empty()) {
    ok = EVP_EncryptUpdate(ctx.get(), nullptr, &aad_len, aad.data(), static_cast<int>(aad.size())) == 1;
  }
  if (ok && !pt.empty()) {
    ok = EVP_EncryptUpdate(ctx.get(), ct.data(), &body_len, pt.data(), static_cast<int>(pt.size())) == 1;
  }
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), ct.data() + body_len, &final_len) == 1 &&
       static_cast<size_t>(body_len + final_len) == pt.size() &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(suite_.n_t), ct.data() + pt.size()) == 1;
  if (!ok) return ossl::Fail(Code::kCrypto, "hpke aead seal");
  ++seq_;
  return ct;
}

Result<SecretBytes> Context::Open(ByteView aad, ByteView ct) {
  VOUCH_RETURN_IF_ERROR(CheckSize(aad, "aad"));
  VOUCH_RETURN_IF_ERROR(CheckSize(ct, "ciphertext"));
  if (ct.size() < suite_.n_t) return Error(Code::kDecryptFailed, "hpke ciphertext is shorter than its tag");
  if (seq_ == UINT64_MAX) return Error(Code::kCrypto, "hpke message limit reached");
  Bytes nonce = Nonce();
  size_t body = ct.size() - suite_.n_t;
  ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  SecretBytes pt(body);
  int aad_len = 0, body_len = 0, final_len = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), Aead(suite_), nullptr, key_.data(), nonce.data()) == 1;
  if (ok && !aad.empty()) {
    ok = EVP_DecryptUpdate(ctx.get(), nullptr, &aad_len, aad.data(), static_cast<int>(aad.size())) == 1;
  }
  if (ok && body != 0) {
    ok = EVP_DecryptUpdate(ctx.get(), pt.data(), &body_len, ct.data(), static_cast<int>(body)) == 1;
  }
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(suite_.n_t),
                                 const_cast<uint8_t*>(ct.data() + body)) == 1;
  if (!ok) return ossl::Fail(Code::kCrypto, "hpke aead open");
  if (EVP_DecryptFinal_ex(ctx.get(), pt.data() + body_len, &final_len) != 1) {
    ossl::ClearErrors();
    return Error(Code::kDecryptFailed, "hpke ciphertext does not open: wrong key or tampered enc, ct, aad or info");
  }
  ++seq_;
  return pt;
}

Result<SecretBytes> Context::Export(ByteView exporter_context, size_t length) const {
  VOUCH_RETURN_IF_ERROR(CheckSize(exporter_context, "exporter context"));
  if (length > 255 * suite_.n_h) return Error(Code::kUsage, "hpke export is longer than 255*Nh bytes");
  return LabeledExpand(KdfHash(suite_), HpkeSuiteId(suite_), exporter_secret_.view(), "sec", exporter_context, length);
}

Result<Sender> SetupBaseS(const CipherSuite& s, EVP_PKEY* pkR, ByteView info, EVP_PKEY* ephemeral) {
  VOUCH_ASSIGN_OR_RETURN(Encapsulation e, Encap(s, pkR, ephemeral));
  VOUCH_ASSIGN_OR_RETURN(Context c, KeyScheduleBase(s, e.shared_secret.view(), info));
  return Sender{std::move(e.enc), std::move(c)};
}

Result<Context> SetupBaseR(const CipherSuite& s, ByteView enc, EVP_PKEY* skR, ByteView info) {
  VOUCH_ASSIGN_OR_RETURN(SecretBytes shared_secret, Decap(s, enc, skR));
  return KeyScheduleBase(s, shared_secret.view(), info);
}

Result<Sender> SetupBaseS(const PublicKey& pkR, ByteView info, const PrivateKey* ephemeral) {
  return SetupBaseS(kP256Sha256Aes128Gcm, pkR.pkey(), info, ephemeral ? ephemeral->pkey() : nullptr);
}

Result<Context> SetupBaseR(ByteView enc, const PrivateKey& skR, ByteView info) {
  return SetupBaseR(kP256Sha256Aes128Gcm, enc, skR.pkey(), info);
}

Result<Sealed> Seal(const CipherSuite& s, EVP_PKEY* pkR, ByteView info, ByteView aad, ByteView pt) {
  VOUCH_ASSIGN_OR_RETURN(Sender sender, SetupBaseS(s, pkR, info));
  VOUCH_ASSIGN_OR_RETURN(Bytes ct, sender.context.Seal(aad, pt));
  return Sealed{std::move(sender.enc), std::move(ct)};
}

Result<SecretBytes> Open(const CipherSuite& s, EVP_PKEY* skR, ByteView enc, ByteView info, ByteView aad,
                         ByteView ct) {
  VOUCH_ASSIGN_OR_RETURN(Context c, SetupBaseR(s, enc, skR, info));
  return c.Open(aad, ct);
}

Result<Sealed> Seal(const PublicKey& pkR, ByteView info, ByteView aad, ByteView pt) {
  return Seal(kP256Sha256Aes128Gcm, pkR.pkey(), info, aad, pt);
}

Result<Sealed> SealToPoint(ByteView pkRm, ByteView info, ByteView aad, ByteView pt) {
  VOUCH_ASSIGN_OR_RETURN(ossl::SecretBnPtr skE, p256::RandomScalar());
  VOUCH_ASSIGN_OR_RETURN(Encapsulation e, EncapP256(pkRm, skE.get()));
  VOUCH_ASSIGN_OR_RETURN(Context c, KeyScheduleBase(kP256Sha256Aes128Gcm, e.shared_secret.view(), info));
  VOUCH_ASSIGN_OR_RETURN(Bytes ct, c.Seal(aad, pt));
  return Sealed{std::move(e.enc), std::move(ct)};
}

Result<SecretBytes> Open(const PrivateKey& skR, ByteView enc, ByteView info, ByteView aad, ByteView ct) {
  return Open(kP256Sha256Aes128Gcm, skR.pkey(), enc, info, aad, ct);
}

}  // namespace vouch::hpke
