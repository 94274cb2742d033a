#include "libvoucher/signing_key.h"

#include <algorithm>
#include <cctype>
#include <string>

#include <openssl/pem.h>

#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/handles.h"

namespace vouch {
namespace {

struct AlgInfo {
  SignatureAlg alg;
  std::string_view jws;
  std::string_view key_type;
  const char* digest;   // for EVP_DigestSignInit_ex; null for EdDSA, which hashes internally
  const char* keygen;   // EVP_EC_gen curve, or EVP_PKEY_Q_keygen type
  size_t signature_size;
};

constexpr AlgInfo kAlgs[] = {
    {SignatureAlg::kEs256, "ES256", "P-256", "SHA256", "P-256", 64},
    {SignatureAlg::kEs384, "ES384", "P-384", "SHA384", "P-384", 96},
    {SignatureAlg::kEd25519, "EdDSA", "Ed25519", nullptr, "ED25519", 64},   // RFC 8032 5.1.6
    {SignatureAlg::kEd448, "EdDSA", "Ed448", nullptr, "ED448", 114},        // RFC 8032 5.2.6
};

static_assert(kAlgs[0].alg == SignatureAlg::kEs256 && kAlgs[1].alg == SignatureAlg::kEs384 &&
              kAlgs[2].alg == SignatureAlg::kEd25519 && kAlgs[3].alg == SignatureAlg::kEd448);  // indexed by alg

const AlgInfo& Info(SignatureAlg alg) { return kAlgs[static_cast<size_t>(alg)]; }
bool IsEcdsa(SignatureAlg alg) { return Info(alg).digest != nullptr; }

// "P-256", "p256" and "p_256" are one name.
std::string Folded(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '-' && c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string TypeName(EVP_PKEY* key) {
  const char* name = EVP_PKEY_get0_type_name(key);
  return name ? name : "unknown";
}

// The first PEM label in `pem` ("PRIVATE KEY", "CERTIFICATE"), empty when there is none.
std::string_view FirstPemLabel(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  size_t at = pem.find(kBegin);
  if (at == std::string_view::npos) return {};
  pem.remove_prefix(at + kBegin.size());
  size_t end = pem.find("-----");
  return end == std::string_view::npos || end > 64 ? std::string_view() : pem.substr(0, end);
}

// Never asks for a passphrase: an encrypted key is refused, not prompted for on a terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* p) { return {p, EVP_PKEY_free}; }

}  // namespace

std::string_view JwsAlgName(SignatureAlg alg) { return Info(alg).jws; }
std::string_view KeyTypeName(SignatureAlg alg) { return Info(alg).key_type; }
size_t SignatureSize(SignatureAlg alg) { return Info(alg).signature_size; }

Result<SignatureAlg> SignatureAlgFromName(std::string_view name) {
  for (const auto& a : kAlgs) {
    if (Folded(a.key_type) == Folded(name)) return a.alg;
  }
  return Error(Code::kUsage, "signing key type '" + std::string(name) + "' is none of p256, p384, ed25519, ed448");
}

Result<SignatureAlg> SignatureAlgOf(EVP_PKEY* key) {
  if (!key) return Error(Code::kInvalidKey, "no key");
  if (EVP_PKEY_is_a(key, "ED25519")) return SignatureAlg::kEd25519;
  if (EVP_PKEY_is_a(key, "ED448")) return SignatureAlg::kEd448;
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) {
      ossl::ClearErrors();
      return Error(Code::kUnsupported, "EC key has no named curve: signing keys are P-256, P-384, Ed25519 or Ed448");
    }
    std::string_view g(group, len);
    if (g == "prime256v1") return SignatureAlg::kEs256;
    if (g == "secp384r1") return SignatureAlg::kEs384;
    return Error(Code::kUnsupported, "EC key on curve " + std::string(g) +
                                         " is not a signing key vouch supports (P-256, P-384, Ed25519, Ed448)");
  }
  return Error(Code::kUnsupported, TypeName(key) + " key is not a signing key vouch supports (P-256, P-384, Ed25519, Ed448)");
}

SigningKey::SigningKey(const PrivateKey& p256) : alg_(SignatureAlg::kEs256) {
  EVP_PKEY_up_ref(p256.pkey());  // cannot fail: a reference count
  pkey_ = Share(p256.pkey());
}

Result<SigningKey> SigningKey::Generate(SignatureAlg alg) {
  const AlgInfo& info = Info(alg);
  EVP_PKEY* raw = IsEcdsa(alg) ? EVP_EC_gen(info.keygen) : EVP_PKEY_Q_keygen(nullptr, nullptr, info.keygen);
  if (!raw) return ossl::Fail(Code::kCrypto, std::string(info.key_type) + " key generation");
  return SigningKey(Share(raw), alg);
}

Result<SigningKey> SigningKey::FromPem(ByteView pem) {
  std::string_view label = FirstPemLabel(AsChars(pem));
  if (label != "PRIVATE KEY" && label != "EC PRIVATE KEY") {
    std::string what = label.empty() ? std::string("not PEM")
                       : label == "ENCRYPTED PRIVATE KEY" ? std::string("an encrypted private key")
                                                          : "a PEM " + std::string(label) + ", not a private key";
    return Error(Code::kMalformed, "key text is " + what + ": expected an unencrypted PEM PRIVATE KEY (PKCS#8) or EC PRIVATE KEY");
  }
  ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ossl::PkeyPtr pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr);
  if (!pkey) return ossl::Fail(Code::kMalformed, "private key is not an unencrypted PEM private key");
  VOUCH_ASSIGN_OR_RETURN(SignatureAlg alg, SignatureAlgOf(pkey.get()));
  return SigningKey(Share(pkey.release()), alg);
}

SecretBytes SigningKey::Pkcs8Pem() const {
  return PrivateKeyPem(pkey_.get());
}

Result<Bytes> SigningKey::Sign(ByteView message) const {
  const AlgInfo& info = Info(alg_);
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t n = 0;
  // One-shot EVP_DigestSign: EdDSA in OpenSSL 3.0 has no streaming interface, and pure
  // EdDSA (RFC 8032, no prehash, no context: RFC 8037 3.1) is what the default instance is.
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, info.digest, nullptr, nullptr, pkey_.get(), nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &n, message.data(), message.size()) != 1) {
    return ossl::Fail(Code::kCrypto, std::string(info.jws) + " signing");
  }
  Bytes sig(n);
  if (EVP_DigestSign(ctx.get(), sig.data(), &n, message.data(), message.size()) != 1) {
    return ossl::Fail(Code::kCrypto, std::string(info.jws) + " signing");
  }
  sig.resize(n);
  if (IsEcdsa(alg_)) return EcdsaDerToRaw(sig, info.signature_size / 2);
  if (sig.size() != info.signature_size) return Error(Code::kInternal, std::string(info.key_type) + " signature of unexpected length");
  return sig;
}

bool SigningKey::IsKeyOf(EVP_PKEY* public_key) const {
  bool same = public_key && EVP_PKEY_eq(pkey_.get(), public_key) == 1;
  ossl::ClearErrors();  // keys of different types compare as an error, which is an answer
  return same;
}

Status VerifyJwsSignature(EVP_PKEY* key, std::string_view jws_alg, ByteView message, ByteView raw) {
  if (jws_alg != "ES256" && jws_alg != "ES384" && jws_alg != "EdDSA") {
    return Error(Code::kUnsupported, "jws algorithm '" + std::string(jws_alg) + "' is none of ES256, ES384, EdDSA");
  }
  auto alg = SignatureAlgOf(key);
  // RFC 8725 3.1: the algorithm is checked against the key, never chosen by the input.
  if (!alg.ok() || JwsAlgName(*alg) != jws_alg) {
    std::string key_type = alg.ok() ? std::string(KeyTypeName(*alg)) : key ? TypeName(key) : "no";
    return Error(Code::kBadSignature, "jws alg " + std::string(jws_alg) + " does not match the signer's " + key_type + " key");
  }
  const AlgInfo& info = Info(*alg);
  if (raw.size() != info.signature_size) {
    return Error(Code::kBadSignature, std::string(info.jws) + " signature of " + std::to_string(raw.size()) + " bytes with a " +
                                          std::string(info.key_type) + " key (" + std::to_string(info.signature_size) + " expected)");
  }
  Bytes der;
  if (IsEcdsa(*alg)) {
    VOUCH_ASSIGN_OR_RETURN(der, EcdsaRawToDer(raw, info.signature_size / 2));
    raw = der;
  }
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, info.digest, nullptr, nullptr, key, nullptr) != 1) {
    return ossl::Fail(Code::kBadSignature, std::string(info.jws) + " verification");
  }
  if (EVP_DigestVerify(ctx.get(), raw.data(), raw.size(), message.data(), message.size()) != 1) {
    ossl::ClearErrors();
    return Error(Code::kBadSignature, std::string(info.jws) + " signature does not verify");
  }
  return Status::Ok();
}

Result<Bytes> EcdsaDerToRaw(ByteView der, size_t half) {
  const unsigned char* p = der.data();
  ossl::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Error(Code::kBadSignature, "ecdsa signature is not DER");
  }
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  const int width = static_cast<int>(half);
  Bytes raw(2 * half);
  if (BN_bn2binpad(r, raw.data(), width) != width || BN_bn2binpad(s, raw.data() + half, width) != width) {
    return Error(Code::kBadSignature, "ecdsa signature values are longer than " + std::to_string(half) + " bytes");
  }
  return raw;
}

Result<Bytes> EcdsaRawToDer(ByteView raw, size_t half) {
  if (raw.size() != 2 * half) {
    return Error(Code::kBadSignature, "ecdsa signature is not " + std::to_string(2 * half) + " bytes");
  }
  const int width = static_cast<int>(half);
  ossl::EcdsaSigPtr sig(ECDSA_SIG_new());
  ossl::BnPtr r(BN_bin2bn(raw.data(), width, nullptr));
  ossl::BnPtr s(BN_bin2bn(raw.data() + half, width, nullptr));
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return ossl::Fail(Code::kCrypto, "ecdsa signature");
  (void)r.release();  // owned by sig from here
  (void)s.release();
  unsigned char* der = nullptr;
  int n = i2d_ECDSA_SIG(sig.get(), &der);
  if (n <= 0) return ossl::Fail(Code::kCrypto, "ecdsa signature encoding");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

Status SaveSigningKey(const std::filesystem::path& path, const SigningKey& key, Overwrite overwrite) {
  return SavePrivatePem(path, key.Pkcs8Pem(), overwrite);
}

Result<SigningKey> LoadSigningKey(const std::filesystem::path& path) {
  return LoadPrivateKeyFile<SigningKey>(path, SigningKey::FromPem);
}

}  // namespace vouch
