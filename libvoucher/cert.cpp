#include "libvoucher/cert.h"

#include <openssl/pem.h>
#include <openssl/rand.h>

#include <string>
#include <utility>

#include "libvoucher/file.h"
#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/handles.h"

namespace vouch {
namespace {

std::shared_ptr<X509> Own(X509* x) { return {x, X509_free}; }

std::string NameText(const X509_NAME* name) {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Instant ToInstant(const ASN1_TIME* t) {
  struct tm tm = {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return Instant::FromSeconds(static_cast<int64_t>(timegm(&tm)));
}

Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ossl::X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return ossl::Fail(Code::kCrypto, "certificate extension");
  return Status::Ok();
}

// The keyUsage value in OpenSSL's configuration syntax, always critical (RFC 5280 4.2.1.3).
std::string KeyUsageText(unsigned ku) {
  static constexpr std::pair<unsigned, const char*> kNames[] = {
      {key_usage::kDigitalSignature, "digitalSignature"}, {key_usage::kNonRepudiation, "nonRepudiation"},
      {key_usage::kKeyEncipherment, "keyEncipherment"},   {key_usage::kKeyAgreement, "keyAgreement"},
      {key_usage::kKeyCertSign, "keyCertSign"},           {key_usage::kCrlSign, "cRLSign"}};
  std::string text = "critical";
  for (const auto& [bit, name] : kNames) {
    if (ku & bit) text += std::string(",") + name;
  }
  return text;
}

Result<ossl::X509NamePtr> MakeName(const CertSpec& spec) {
  ossl::X509NamePtr name(X509_NAME_new());
  auto add = [&](const char* field, const std::string& v) {
    return v.empty() || X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                                   reinterpret_cast<const unsigned char*>(v.data()),
                                                   static_cast<int>(v.size()), -1, 0) == 1;
  };
  if (!name || !add("O", spec.organization) || !add("CN", spec.common_name) || !add("serialNumber", spec.serial_number)) {
    return ossl::Fail(Code::kUsage, "certificate subject");
  }
  return name;
}

// Sets the subject key from its canonical parts. X509_set_pubkey would get there through
// OpenSSL 3.0's generic key encoder, which costs more than the signature itself.
bool SetSubjectKey(X509* x, const PublicKey& key) {
  // Edwards keys (certificates for Z of the x25519 and x448 suites) are rare enough for
  // the generic path.
  if (key.group() != Group::kP256) return key.pkey() && X509_set_pubkey(x, key.pkey()) == 1;
  X509_PUBKEY* pub = X509_get_X509_PUBKEY(x);
  auto* point = static_cast<unsigned char*>(OPENSSL_memdup(key.point().data(), key.point().size()));
  if (!pub || !point) return false;
  if (X509_PUBKEY_set0_param(pub, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
                             OBJ_nid2obj(NID_X9_62_prime256v1), point, static_cast<int>(key.point().size())) != 1) {
    OPENSSL_free(point);
    return false;
  }
  return true;
}

// The construction extension, not critical (construction.h).
Status AddConstruction(X509* x, const Construction& c) {
  VOUCH_ASSIGN_OR_RETURN(Bytes der, EncodeConstruction(c));
  ASN1_OBJECT* oid = OBJ_txt2obj(std::string(kConstructionOid).c_str(), 1);
  ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
  X509_EXTENSION* ext = nullptr;
  bool ok = oid && value && ASN1_OCTET_STRING_set(value, der.data(), static_cast<int>(der.size())) == 1 &&
            (ext = X509_EXTENSION_create_by_OBJ(nullptr, oid, 0, value)) != nullptr && X509_add_ext(x, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(value);
  ASN1_OBJECT_free(oid);
  if (!ok) return ossl::Fail(Code::kCrypto, "construction extension");
  return Status::Ok();
}

// The subject key of a certificate being made: a P-256 key (set from its canonical parts) or
// any other key OpenSSL encodes.
struct SubjectKey {
  const PublicKey* p256 = nullptr;
  EVP_PKEY* other = nullptr;
};

// The digest X509_sign takes for an issuer key: none for EdDSA (RFC 8410 6: pure EdDSA), SHA-384
// for P-384 (RFC 5758 3.2), SHA-256 for P-256.
const EVP_MD* CertificateDigest(SignatureAlg alg) {
  switch (alg) {
    case SignatureAlg::kEs256: return EVP_sha256();
    case SignatureAlg::kEs384: return EVP_sha384();
    case SignatureAlg::kEd25519:
    case SignatureAlg::kEd448: return nullptr;
  }
  return nullptr;
}

// Builds and signs; `issuer` null means self-signed by `issuer_key`. Returns the DER.
Result<Bytes> Make(const Certificate* issuer, const SigningKey& issuer_key, SubjectKey subject_key,
                   const CertSpec& spec) {
  ossl::X509Ptr x(X509_new());
  if (!x) return ossl::Fail(Code::kCrypto, "certificate");
  // RFC 5280 4.1.2.2: a positive serial of at most 20 octets, unique per issuer: 16 random bytes.
  ossl::BnPtr serial(BN_new());
  ossl::Asn1IntegerPtr asn1_serial;
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !(asn1_serial = ossl::Asn1IntegerPtr(BN_to_ASN1_INTEGER(serial.get(), nullptr)))) {
    return ossl::Fail(Code::kCrypto, "certificate serial");
  }
  VOUCH_ASSIGN_OR_RETURN(ossl::X509NamePtr subject, MakeName(spec));
  const X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer->x509()) : subject.get();
  int64_t nb = spec.not_before.seconds();
  if (X509_set_version(x.get(), X509_VERSION_3) != 1 || X509_set_serialNumber(x.get(), asn1_serial.get()) != 1 ||
      X509_set_subject_name(x.get(), subject.get()) != 1 || X509_set_issuer_name(x.get(), issuer_name) != 1 ||
      !ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(nb)) ||
      !ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(nb + spec.days * 86400)) ||
      !(subject_key.p256 ? SetSubjectKey(x.get(), *subject_key.p256) : X509_set_pubkey(x.get(), subject_key.other) == 1)) {
    return ossl::Fail(Code::kCrypto, "certificate fields");
  }
  X509* issuer_x = issuer ? issuer->x509() : x.get();
  VOUCH_RETURN_IF_ERROR(AddExtension(x.get(), issuer_x, NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  unsigned ku = spec.key_usage.value_or(spec.ca ? key_usage::kKeyCertSign | key_usage::kCrlSign | key_usage::kDigitalSignature
                                                 : key_usage::kDigitalSignature);
  if (ku != 0) VOUCH_RETURN_IF_ERROR(AddExtension(x.get(), issuer_x, NID_key_usage, KeyUsageText(ku).c_str()));
  if (!spec.extended_key_usage.empty()) {
    std::string eku;
    for (const auto& oid : spec.extended_key_usage) eku += (eku.empty() ? "" : ",") + oid;
    VOUCH_RETURN_IF_ERROR(AddExtension(x.get(), issuer_x, NID_ext_key_usage, eku.c_str()));
  }
  if (spec.construction) VOUCH_RETURN_IF_ERROR(AddConstruction(x.get(), *spec.construction));
  VOUCH_RETURN_IF_ERROR(AddExtension(x.get(), issuer_x, NID_subject_key_identifier, "hash"));
  if (issuer) VOUCH_RETURN_IF_ERROR(AddExtension(x.get(), issuer_x, NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(x.get(), issuer_key.pkey(), CertificateDigest(issuer_key.alg())) <= 0) return ossl::Fail(Code::kCrypto, "certificate signature");
  unsigned char* der = nullptr;
  int n = i2d_X509(x.get(), &der);
  if (n <= 0) return ossl::Fail(Code::kCrypto, "certificate encoding");
  Bytes d(der, der + n);
  OPENSSL_free(der);
  return d;
}

}  // namespace

Certificate Certificate::Share(X509* x) {
  X509_up_ref(x);
  Certificate c;
  c.x509_ = Own(x);
  return c;
}

Result<Certificate> Certificate::FromDer(ByteView der) {
  if (der.size() > kMaxCertificateSize) return Error(Code::kTooLarge, "certificate is over 16 KiB");
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (!x) return ossl::Fail(Code::kMalformed, "certificate is not DER X.509");
  Certificate c;
  c.x509_ = Own(x);
  if (p != der.data() + der.size()) return Error(Code::kMalformed, "certificate DER has trailing bytes");
  return c;
}

Result<std::vector<Certificate>> Certificate::ParseAll(ByteView data) {
  std::vector<Certificate> out;
  if (!data.empty() && data[0] == 0x30) {
    VOUCH_ASSIGN_OR_RETURN(Certificate c, FromDer(data));
    out.push_back(std::move(c));
    return out;
  }
  ossl::BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  while (bio) {
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!x) break;
    Certificate c;
    c.x509_ = Own(x);
    out.push_back(std::move(c));
    if (out.size() > 64) return Error(Code::kTooLarge, "more than 64 certificates in one file");
  }
  ossl::ClearErrors();  // the loop ends on "no start line", which is not an error
  if (out.empty()) return Error(Code::kMalformed, "no PEM or DER certificate found");
  return out;
}

Bytes Certificate::Der() const {
  unsigned char* der = nullptr;
  int n = i2d_X509(x509_.get(), &der);
  Bytes out;
  if (n > 0) out.assign(der, der + n);
  OPENSSL_free(der);
  return out;
}

std::string Certificate::Pem() const {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), x509_.get()) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string Certificate::Subject() const { return NameText(X509_get_subject_name(x509_.get())); }
std::string Certificate::Issuer() const { return NameText(X509_get_issuer_name(x509_.get())); }
Result<Instant> CertificateNotAfter(ByteView der) {
  auto bad = [](const char* what) { return Error(Code::kMalformed, std::string("certificate: ") + what); };
  const unsigned char* p = der.data();
  const unsigned char* end = der.data() + der.size();
  // One TLV at p: its contents [*body, *next) when it has the tag, class and form given.
  auto tlv = [&](int want_tag, int want_class, bool constructed, const unsigned char** body, const unsigned char** next) {
    const unsigned char* q = p;
    long len = 0;
    int tag = 0, cls = 0;
    const int r = ASN1_get_object(&q, &len, &tag, &cls, end - p);
    // 0x80: an error or a length past `end`; 0x01 (indefinite length) is not DER.
    if ((r & 0x80) || (r & 0x01) || tag != want_tag || cls != want_class || ((r & V_ASN1_CONSTRUCTED) != 0) != constructed) {
      return false;
    }
    *body = q;
    *next = q + len;
    return true;
  };
  const unsigned char *body = nullptr, *next = nullptr;
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
  // signature, issuer, validity SEQUENCE { notBefore, notAfter }, ... } ... }
  for (const char* what : {"not a SEQUENCE", "no tbsCertificate"}) {
    if (!tlv(V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, true, &body, &next)) return bad(what);
    p = body;
    end = next;
  }
  if (tlv(0, V_ASN1_CONTEXT_SPECIFIC, true, &body, &next)) p = next;  // version
  if (!tlv(V_ASN1_INTEGER, V_ASN1_UNIVERSAL, false, &body, &next)) return bad("no serialNumber");
  p = next;
  for (const char* what : {"no signature algorithm", "no issuer"}) {
    if (!tlv(V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, true, &body, &next)) return bad(what);
    p = next;
  }
  if (!tlv(V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, true, &body, &next)) return bad("no validity");
  p = body;
  end = next;
  for (int field = 0; field < 2; ++field) {
    const unsigned char* at = p;
    if (!tlv(V_ASN1_UTCTIME, V_ASN1_UNIVERSAL, false, &body, &next) && !tlv(V_ASN1_GENERALIZEDTIME, V_ASN1_UNIVERSAL, false, &body, &next)) {
      return bad("validity is not two times");
    }
    p = next;
    if (field == 0) continue;
    ossl::Asn1TimePtr t(d2i_ASN1_TIME(nullptr, &at, next - at));
    if (!t) return bad("notAfter is not a time");
    return ToInstant(t.get());
  }
  return bad("no notAfter");
}

Instant Certificate::NotBefore() const { return ToInstant(X509_get0_notBefore(x509_.get())); }
Instant Certificate::NotAfter() const { return ToInstant(X509_get0_notAfter(x509_.get())); }
EVP_PKEY* Certificate::pkey() const { return X509_get0_pubkey(x509_.get()); }

Result<PublicKey> Certificate::Key() const {
  // Read from the SubjectPublicKeyInfo fields directly: id-ecPublicKey, namedCurve
  // prime256v1, and the point (RFC 5480 2.1.1); anything else is not a vouch key.
  const ASN1_OBJECT* alg = nullptr;
  const unsigned char* point = nullptr;
  int point_len = 0;
  X509_ALGOR* params = nullptr;
  const ASN1_OBJECT* curve = nullptr;
  int ptype = 0;
  const void* pval = nullptr;
  ASN1_OBJECT* alg_obj = nullptr;
  if (X509_PUBKEY_get0_param(&alg_obj, &point, &point_len, &params, X509_get_X509_PUBKEY(x509_.get())) != 1) {
    return ossl::Fail(Code::kMalformed, "certificate key does not parse");
  }
  alg = alg_obj;
  X509_ALGOR_get0(nullptr, &ptype, &pval, params);
  curve = ptype == V_ASN1_OBJECT ? static_cast<const ASN1_OBJECT*>(pval) : nullptr;
  const ByteView bits(point, static_cast<size_t>(point_len));
  // RFC 8410: Ed25519 and Ed448 keys have no parameters; the bit string is the point.
  if (OBJ_obj2nid(alg) == NID_ED25519 && ptype == V_ASN1_UNDEF) return PublicKey::FromPoint(Group::kEd25519, bits);
  if (OBJ_obj2nid(alg) == NID_ED448 && ptype == V_ASN1_UNDEF) return PublicKey::FromPoint(Group::kEd448, bits);
  if (OBJ_obj2nid(alg) != NID_X9_62_id_ecPublicKey || !curve || OBJ_obj2nid(curve) != NID_X9_62_prime256v1) {
    return Error(Code::kUnsupported, "certificate key is not a P-256 key with a named curve, nor an Ed25519 or Ed448 key");
  }
  return PublicKey::FromPoint(bits);
}

bool Certificate::IssuedBy(const Certificate& issuer) const {
  bool ok = X509_check_issued(issuer.x509(), x509_.get()) == X509_V_OK &&
            X509_verify(x509_.get(), issuer.pkey()) == 1;
  ossl::ClearErrors();
  return ok;
}

bool Certificate::SameKey(const Certificate& other) const {
  EVP_PKEY* a = X509_get0_pubkey(x509_.get());
  EVP_PKEY* b = X509_get0_pubkey(other.x509());
  bool same = a && b && EVP_PKEY_eq(a, b) == 1;
  ossl::ClearErrors();
  return same;
}

Result<std::vector<Certificate>> LoadCertificates(const std::filesystem::path& path) {
  VOUCH_ASSIGN_OR_RETURN(Bytes data, ReadFile(path, kMaxCertificateFileSize));
  auto certs = Certificate::ParseAll(data);
  if (!certs.ok()) return certs.status().Context(path.string());
  return certs;
}

Status SaveCertificates(const std::filesystem::path& path, const std::vector<Certificate>& certs) {
  std::string pem;
  for (const auto& c : certs) pem += c.Pem();
  return WriteFileAtomic(path, AsBytes(pem), 0644);
}

Result<Certificate> SelfSign(const PrivateKey& key, const CertSpec& spec) {
  VOUCH_ASSIGN_OR_RETURN(Bytes der, Make(nullptr, key, {&key.Public(), nullptr}, spec));
  return Certificate::FromDer(der);
}

Result<Bytes> IssueCertificateDer(const Certificate& issuer, const PrivateKey& issuer_key,
                                  const PublicKey& subject_key, const CertSpec& spec) {
  return Make(&issuer, issuer_key, {&subject_key, nullptr}, spec);
}

Result<Certificate> IssueCertificate(const Certificate& issuer, const PrivateKey& issuer_key,
                                     const PublicKey& subject_key, const CertSpec& spec) {
  VOUCH_ASSIGN_OR_RETURN(Bytes der, Make(&issuer, issuer_key, {&subject_key, nullptr}, spec));
  return Certificate::FromDer(der);
}

Result<Certificate> SelfSign(const SigningKey& key, const CertSpec& spec) {
  VOUCH_ASSIGN_OR_RETURN(Bytes der, Make(nullptr, key, {nullptr, key.pkey()}, spec));
  return Certificate::FromDer(der);
}

Result<Certificate> IssueCertificate(const Certificate& issuer, const SigningKey& issuer_key,
                                     const SigningKey& subject_key, const CertSpec& spec) {
  VOUCH_ASSIGN_OR_RETURN(Bytes der, Make(&issuer, issuer_key, {nullptr, subject_key.pkey()}, spec));
  return Certificate::FromDer(der);
}

}  // namespace vouch
