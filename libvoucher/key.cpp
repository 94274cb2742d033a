#include "libvoucher/key.h"

#include <algorithm>
#include <mutex>
#include <optional>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "libvoucher/encoding.h"
#include "libvoucher/montgomery.h"
#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/handles.h"
#include "libvoucher/ossl/p256.h"
#include "libvoucher/udf.h"

namespace vouch {
namespace {

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* p) { return {p, EVP_PKEY_free}; }

// Builds an EVP_PKEY from the canonical parts, so that every key vouch holds was made the
// same way: named group, uncompressed point, and the scalar when there is one.
Result<std::shared_ptr<EVP_PKEY>> Build(ByteView point, const BIGNUM* scalar) {
  ossl::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, p256::kGroupName, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) ||
      (scalar && !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, scalar))) {
    return ossl::Fail(Code::kCrypto, "p256 key parameters");
  }
  ossl::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, scalar ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1) {
    return ossl::Fail(Code::kInvalidKey, "p256 key");
  }
  return Share(raw);
}

Status CheckP256(EVP_PKEY* pkey) {
  char group[64] = {0};
  size_t len = 0;
  if (!EVP_PKEY_is_a(pkey, "EC")) return Error(Code::kInvalidKey, "key is not an elliptic-curve key");
  if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &len) != 1 ||
      std::string_view(group) != p256::kGroupName) {
    ossl::ClearErrors();
    return Error(Code::kUnsupported, "key is not on curve P-256 (prime256v1)");
  }
  return Status::Ok();
}

Result<Bytes> PointOf(EVP_PKEY* pkey) {
  Bytes point(p256::kPointSize + 1);
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(), &len) != 1) {
    return ossl::Fail(Code::kInvalidKey, "p256 public point");
  }
  point.resize(len);
  return point;
}

// The canonical SubjectPublicKeyInfo of a P-256 key (RFC 5480 section 2): this fixed DER
// prefix (SEQUENCE, AlgorithmIdentifier id-ecPublicKey with namedCurve prime256v1, BIT STRING
// header) followed by the 65-byte uncompressed point. OpenSSL 3's generic encoders and
// decoders cost tens of microseconds per key; this is the same bytes (tested against
// i2d_PUBKEY in key_test.cpp) at the cost of a copy.
constexpr uint8_t kSpkiPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
                                   0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
static_assert(sizeof kSpkiPrefix + p256::kPointSize == kSpkiDerSize);

// RFC 8410 SubjectPublicKeyInfo prefixes: SEQUENCE, AlgorithmIdentifier with id-Ed25519
// (1.3.101.112) or id-Ed448 (1.3.101.113) and absent parameters, BIT STRING header.
constexpr uint8_t kEd25519SpkiPrefix[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
constexpr uint8_t kEd448SpkiPrefix[] = {0x30, 0x43, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x71, 0x03, 0x3a, 0x00};

ByteView SpkiPrefix(Group g) {
  switch (g) {
    case Group::kP256: return kSpkiPrefix;
    case Group::kEd25519: return kEd25519SpkiPrefix;
    case Group::kEd448: return kEd448SpkiPrefix;
  }
  return {};
}

bool HasPrefix(ByteView der, ByteView prefix) {
  return der.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), der.begin());
}

int EdwardsType(Group g) { return g == Group::kEd25519 ? EVP_PKEY_ED25519 : EVP_PKEY_ED448; }
int MontgomeryType(Group g) { return g == Group::kEd25519 ? EVP_PKEY_X25519 : EVP_PKEY_X448; }

bool StartsWith(ByteView b, std::string_view prefix) {
  return b.size() >= prefix.size() && AsChars(b.first(prefix.size())) == prefix;
}

// The label of the first PEM block ("CERTIFICATE", "PUBLIC KEY"), so that a refusal can say
// what a file holds; empty when there is none, or it is not an upper-case RFC 7468 label.
std::string PemLabel(ByteView b) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  std::string_view t = AsChars(b);
  size_t at = t.find(kBegin);
  if (at == std::string_view::npos) return {};
  t.remove_prefix(at + kBegin.size());
  size_t end = t.find("-----");
  if (end == std::string_view::npos || end == 0 || end > 64) return {};
  std::string_view label = t.substr(0, end);
  bool printable = std::all_of(label.begin(), label.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == ' ' || (c >= '0' && c <= '9'); });
  return printable ? std::string(label) : std::string();
}

bool IsPrivateKeyLabel(const std::string& label) { return label == "PRIVATE KEY" || label == "EC PRIVATE KEY"; }

constexpr std::string_view kPublicKeyForms = "a PEM PUBLIC KEY, a DER or base64 DER SubjectPublicKeyInfo, or a PEM private key";

// A DER X.509 certificate, which is what a public key's file often turns out to hold.
bool IsDerCertificate(ByteView der) {
  const unsigned char* p = der.data();
  ossl::X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  return x && p == der.data() + der.size();
}

}  // namespace

// The EVP_PKEY behind a PublicKey, made once by whichever thread asks first.
struct PublicKey::Lazy {
  std::once_flag once, kem_once;
  std::shared_ptr<EVP_PKEY> pkey, kem;
};

EVP_PKEY* PublicKey::pkey() const {
  if (!lazy_) return nullptr;
  std::call_once(lazy_->once, [this] {
    if (lazy_->pkey) return;
    // The point was validated when the key was made.
    if (group_ == Group::kP256) {
      auto built = Build(point_, nullptr);
      if (built.ok()) lazy_->pkey = *built;
    } else {
      EVP_PKEY* raw = EVP_PKEY_new_raw_public_key(EdwardsType(group_), nullptr, point_.data(), point_.size());
      if (raw) lazy_->pkey = Share(raw);
    }
  });
  return lazy_->pkey.get();
}

EVP_PKEY* PublicKey::KemKey() const {
  if (group_ == Group::kP256) return pkey();
  if (!lazy_) return nullptr;
  std::call_once(lazy_->kem_once, [this] {
    if (lazy_->kem) return;
    auto u = group::ToMontgomery(group_, point_);
    if (!u.ok()) return;
    EVP_PKEY* raw = EVP_PKEY_new_raw_public_key(MontgomeryType(group_), nullptr, u->data(), u->size());
    if (raw) lazy_->kem = Share(raw);
  });
  return lazy_->kem.get();
}

Result<PublicKey> PublicKey::FromPoint(ByteView sec1) { return FromPoint(Group::kP256, sec1); }

Result<PublicKey> PublicKey::FromPoint(Group g, ByteView point) {
  PublicKey k;
  k.group_ = g;
  if (g == Group::kP256) {
    VOUCH_ASSIGN_OR_RETURN(ossl::EcPointPtr p, p256::DecodePoint(point));
    // An uncompressed point that decodes (coordinates below p, on the curve) is already the
    // canonical form; only a compressed one is encoded again (which costs a field inversion).
    if (point.size() == p256::kPointSize && point[0] == 0x04) {
      k.point_.assign(point.begin(), point.end());
    } else {
      VOUCH_ASSIGN_OR_RETURN(k.point_, p256::EncodePoint(p.get()));
    }
  } else {
    VOUCH_RETURN_IF_ERROR(group::CheckPoint(g, point));
    k.point_.assign(point.begin(), point.end());
  }
  k.lazy_ = std::make_shared<Lazy>();
  return k;
}

Result<PublicKey> PublicKey::FromSpkiDer(ByteView der) {
  for (Group g : {Group::kP256, Group::kEd25519, Group::kEd448}) {
    ByteView prefix = SpkiPrefix(g);
    if (der.size() == prefix.size() + PointSize(g) && HasPrefix(der, prefix)) {
      return FromPoint(g, der.subspan(prefix.size()));
    }
  }
  // Any other DER form of a P-256 key (explicit parameters, a compressed point).
  const unsigned char* p = der.data();
  ossl::PkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey) return ossl::Fail(Code::kMalformed, "public key is not a DER SubjectPublicKeyInfo");
  if (p != der.data() + der.size()) return Error(Code::kMalformed, "public key DER has trailing bytes");
  if (EVP_PKEY_is_a(pkey.get(), "X25519") || EVP_PKEY_is_a(pkey.get(), "X448")) {
    return Error(Code::kUnsupported, "public key is an X25519/X448 key; device keys are published in Edwards form "
                                     "(Ed25519/Ed448 SubjectPublicKeyInfo) so that Z = X + Y can be computed");
  }
  VOUCH_RETURN_IF_ERROR(CheckP256(pkey.get()));
  VOUCH_ASSIGN_OR_RETURN(Bytes point, PointOf(pkey.get()));
  return FromPoint(point);
}

namespace {

// The DER inside a PEM PUBLIC KEY block as vouch writes it (RFC 7468: the label lines and
// strict base64 between them, in lines), or nullopt for anything else, which then goes to
// OpenSSL's PEM reader. OpenSSL 3.0's reader goes through its generic decoders, whose first
// use costs a device more than the rest of a fetch's key and state loading.
std::optional<Bytes> PemPublicKeyDer(ByteView bytes) {
  constexpr std::string_view kBegin = "-----BEGIN PUBLIC KEY-----", kEnd = "-----END PUBLIC KEY-----";
  std::string_view text = AsChars(bytes);
  if (text.substr(0, kBegin.size()) != kBegin) return std::nullopt;
  size_t end = text.find(kEnd, kBegin.size());
  if (end == std::string_view::npos) return std::nullopt;
  std::string body;
  for (char c : text.substr(kBegin.size(), end - kBegin.size())) {
    if (c != '\n' && c != '\r') body.push_back(c);
  }
  auto der = Base64Decode(body);
  if (!der.ok()) return std::nullopt;
  return std::move(*der);
}

}  // namespace

Result<PublicKey> PublicKey::Parse(ByteView bytes) {
  if (auto der = PemPublicKeyDer(bytes)) {
    if (auto key = FromSpkiDer(*der); key.ok()) return key;
  }
  if (StartsWith(bytes, "-----BEGIN PUBLIC KEY-----")) {
    ossl::BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    ossl::PkeyPtr pkey(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!pkey) return ossl::Fail(Code::kMalformed, "public key PEM does not parse");
    unsigned char* der = nullptr;
    int n = i2d_PUBKEY(pkey.get(), &der);
    if (n <= 0) return ossl::Fail(Code::kMalformed, "public key PEM does not parse");
    Bytes d(der, der + n);
    OPENSSL_free(der);
    return FromSpkiDer(d);
  }
  if (StartsWith(bytes, "-----BEGIN")) {
    std::string label = PemLabel(bytes);
    if (!IsPrivateKeyLabel(label)) {
      return Error(Code::kMalformed, "key text is a PEM " + (label.empty() ? std::string("block") : label) +
                                         ", not a public key: expected " + std::string(kPublicKeyForms));
    }
    VOUCH_ASSIGN_OR_RETURN(PrivateKey priv, PrivateKey::FromPem(bytes));
    return priv.Public();
  }
  if (!bytes.empty() && bytes[0] == 0x30) {
    auto key = FromSpkiDer(bytes);
    if (!key.ok() && IsDerCertificate(bytes)) {
      return Error(Code::kMalformed, "key text is a DER certificate, not a public key: expected " + std::string(kPublicKeyForms));
    }
    return key;
  }
  std::string_view text = AsChars(bytes);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  auto der = Base64Decode(text);
  if (!der.ok()) return Error(Code::kMalformed, "public key is neither PEM, DER nor base64 DER");
  return FromSpkiDer(*der);
}

Bytes PublicKey::SpkiDer() const {
  ByteView prefix = SpkiPrefix(group_);
  Bytes out(prefix.begin(), prefix.end());
  out.insert(out.end(), point_.begin(), point_.end());
  return out;
}

std::string PublicKey::Pem() const {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !pkey() || PEM_write_bio_PUBKEY(bio.get(), pkey()) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string PublicKey::Fingerprint(int bits) const { return udf::KeyFingerprint(SpkiDer(), bits); }

Result<PrivateKey> PrivateKey::FromScalar(Group g, ByteView scalar) {
  if (g == Group::kP256) return FromScalar(scalar);
  VOUCH_RETURN_IF_ERROR(group::CheckScalar(g, scalar));
  PrivateKey key;
  // The point is the group's own multiple of a checked scalar: it needs no validation.
  VOUCH_ASSIGN_OR_RETURN(key.public_.point_, group::MulBase(g, scalar));
  key.public_.group_ = g;
  key.public_.lazy_ = std::make_shared<PublicKey::Lazy>();
  // The RFC 7748 key that stands for the scalar (montgomery.h): HPKE's key, and the file.
  VOUCH_ASSIGN_OR_RETURN(SecretBytes c, montgomery::PrivateKeyFor(g, scalar));
  EVP_PKEY* raw = EVP_PKEY_new_raw_private_key(MontgomeryType(g), nullptr, c.data(), c.size());
  if (!raw) return ossl::Fail(Code::kCrypto, "X25519/X448 private key");
  key.pkey_ = Share(raw);
  key.public_.lazy_->kem = key.pkey_;  // the RFC 7748 key pair is its own KEM public key
  key.scalar_ = std::make_shared<const SecretBytes>(scalar);
  return key;
}

Result<PrivateKey> PrivateKey::Generate(Group g) {
  if (g != Group::kP256) {
    // Drawn until the scalar has an RFC 7748 key of the + sign (about half do), so that the
    // file alone gives the scalar back (FromPem without `expected`).
    for (int attempt = 0; attempt < 256; ++attempt) {
      VOUCH_ASSIGN_OR_RETURN(SecretBytes k, group::RandomScalar(g));
      auto c = montgomery::PrivateKeyFor(g, k.view());
      if (!c.ok()) continue;
      VOUCH_ASSIGN_OR_RETURN(SecretBytes plus, montgomery::ScalarOf(g, c->view()));
      if (!group::CheckScalar(g, plus.view()).ok()) continue;
      return FromScalar(g, plus.view());
    }
    return Error(Code::kInternal, "could not draw a key: the random generator is broken");
  }
  ossl::PkeyPtr fresh(EVP_EC_gen("P-256"));
  if (!fresh) return ossl::Fail(Code::kCrypto, "p256 key generation");
  PrivateKey key;
  // OpenSSL reports a fresh key's point uncompressed; the length check makes that a fact.
  VOUCH_ASSIGN_OR_RETURN(key.public_.point_, PointOf(fresh.get()));
  if (key.public_.point_.size() != p256::kPointSize) return Error(Code::kInternal, "p256 point is not uncompressed");
  key.pkey_ = Share(fresh.release());
  key.public_.lazy_ = std::make_shared<PublicKey::Lazy>();
  key.public_.lazy_->pkey = key.pkey_;  // a key pair serves as its own public key
  return key;
}

Result<PrivateKey> PrivateKey::FromScalar(ByteView be32) {
  VOUCH_ASSIGN_OR_RETURN(ossl::SecretBnPtr k, p256::DecodeScalar(be32));
  VOUCH_ASSIGN_OR_RETURN(ossl::EcPointPtr p, p256::MulBase(k.get()));
  PrivateKey key;
  VOUCH_ASSIGN_OR_RETURN(key.public_.point_, p256::EncodePoint(p.get()));
  VOUCH_ASSIGN_OR_RETURN(key.pkey_, Build(key.public_.point_, k.get()));
  key.public_.lazy_ = std::make_shared<PublicKey::Lazy>();
  key.public_.lazy_->pkey = key.pkey_;
  return key;
}

namespace {

// What vouch writes, a PKCS#8 PEM EC key, through the one decoder for it: OpenSSL 3.0's
// generic PEM reader tries every decoder it has and takes 4x as long, which a device pays
// on every fetch. Null for anything else.
EVP_PKEY* DecodePkcs8Ec(ByteView pem) {
  EVP_PKEY* pkey = nullptr;
  OSSL_DECODER_CTX* ctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", "PrivateKeyInfo", "EC", EVP_PKEY_KEYPAIR, nullptr, nullptr);
  if (!ctx) return nullptr;
  const unsigned char* data = pem.data();
  size_t len = pem.size();
  bool ok = OSSL_DECODER_from_data(ctx, &data, &len) == 1;
  OSSL_DECODER_CTX_free(ctx);
  if (!ok) {
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return nullptr;
  }
  return pkey;
}

}  // namespace

namespace {

// An X25519/X448 key file as the Edwards scalar it stands for: +-clamp(c) mod L, the sign
// the one whose point is `expected` (+ without it).
Result<PrivateKey> FromMontgomery(Group g, EVP_PKEY* pkey, const PublicKey* expected) {
  SecretBytes c(ScalarSize(g));
  size_t len = c.size();
  if (EVP_PKEY_get_raw_private_key(pkey, c.data(), &len) != 1 || len != c.size()) {
    return ossl::Fail(Code::kInvalidKey, "X25519/X448 private key");
  }
  VOUCH_ASSIGN_OR_RETURN(SecretBytes k, montgomery::ScalarOf(g, c.view()));
  VOUCH_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::FromScalar(g, k.view()));
  if (!expected || key.Public() == *expected) return key;
  VOUCH_ASSIGN_OR_RETURN(SecretBytes minus, group::NegateScalar(g, k.view()));
  VOUCH_ASSIGN_OR_RETURN(PrivateKey other, PrivateKey::FromScalar(g, minus.view()));
  if (other.Public() == *expected) return other;
  return Error(Code::kInvalidKey, "private key does not match the public key " + expected->Fingerprint());
}

}  // namespace

Result<PrivateKey> PrivateKey::FromPem(ByteView pem, const PublicKey* expected) {
  ossl::PkeyPtr pkey(DecodePkcs8Ec(pem));
  if (!pkey) {
    // Any other unencrypted PEM private key (SEC1 "EC PRIVATE KEY" from `openssl ecparam`,
    // a key on another curve to be refused by name below).
    ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    pkey.reset(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  }
  if (!pkey) {
    std::string label = PemLabel(pem);
    if (!label.empty() && !IsPrivateKeyLabel(label)) {
      ossl::ClearErrors();
      std::string what = label == "ENCRYPTED PRIVATE KEY" ? "an encrypted private key" : "a PEM " + label + ", not a private key";
      return Error(Code::kMalformed, "key text is " + what + ": expected an unencrypted PEM PRIVATE KEY (PKCS#8) or EC PRIVATE KEY");
    }
    return ossl::Fail(Code::kMalformed, "private key is not an unencrypted PEM private key");
  }
  if (EVP_PKEY_is_a(pkey.get(), "X25519")) return FromMontgomery(Group::kEd25519, pkey.get(), expected);
  if (EVP_PKEY_is_a(pkey.get(), "X448")) return FromMontgomery(Group::kEd448, pkey.get(), expected);
  if (EVP_PKEY_is_a(pkey.get(), "ED25519") || EVP_PKEY_is_a(pkey.get(), "ED448")) {
    return Error(Code::kUnsupported, "key is an EdDSA signing key; a device key of the x25519 or x448 suite is an "
                                     "X25519 or X448 key (vouch key new --suite x25519)");
  }
  VOUCH_RETURN_IF_ERROR(CheckP256(pkey.get()));
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) {
    return ossl::Fail(Code::kInvalidKey, "private key has no scalar");
  }
  ossl::SecretBnPtr k(raw);
  VOUCH_ASSIGN_OR_RETURN(PrivateKey key, FromScalar(p256::EncodeScalar(k.get()).view()));
  if (expected && !(key.Public() == *expected)) {
    return Error(Code::kInvalidKey, "private key does not match the public key " + expected->Fingerprint());
  }
  return key;
}

SecretBytes PrivateKey::Scalar() const {
  if (scalar_) return SecretBytes(scalar_->view());
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey_.get(), OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) return {};
  ossl::SecretBnPtr k(raw);
  return p256::EncodeScalar(k.get());
}

SecretBytes PrivateKeyPem(EVP_PKEY* pkey) {
  // A secure-heap memory BIO is wiped when freed, so the PEM text leaves no copy behind.
  ossl::BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return SecretBytes(ByteView(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(n)));
}

SecretBytes PrivateKey::Pkcs8Pem() const {
  return PrivateKeyPem(pkey_.get());
}

Status SavePrivatePem(const std::filesystem::path& path, const SecretBytes& pem, Overwrite overwrite) {
  if (pem.empty()) return ossl::Fail(Code::kCrypto, "private key encoding");
  return WriteFileAtomic(path, pem.view(), 0600, overwrite);
}

Status SavePrivateKey(const std::filesystem::path& path, const PrivateKey& key, Overwrite overwrite) {
  return SavePrivatePem(path, key.Pkcs8Pem(), overwrite);
}

Result<PrivateKey> LoadPrivateKey(const std::filesystem::path& path, const PublicKey* expected) {
  return LoadPrivateKeyFile<PrivateKey>(path, [expected](ByteView pem) { return PrivateKey::FromPem(pem, expected); });
}

Status SavePublicKey(const std::filesystem::path& path, const PublicKey& key, Overwrite overwrite) {
  return WriteFileAtomic(path, AsBytes(key.Pem()), 0644, overwrite);
}

Result<PublicKey> LoadPublicKey(const std::filesystem::path& path) {
  VOUCH_ASSIGN_OR_RETURN(Bytes raw, ReadFile(path, kMaxKeyFileSize));
  auto key = PublicKey::Parse(raw);
  if (!key.ok()) return key.status().Context(path.string());
  return key;
}

}  // namespace vouch
