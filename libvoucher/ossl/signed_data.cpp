#include "libvoucher/ossl/signed_data.h"

#include <openssl/cms.h>
#include <openssl/objects.h>

#include "libvoucher/ossl/error.h"

namespace vouch::ossl {
namespace {

using ObjectPtr = std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT_free>>;

constexpr std::string_view kNoEdDsa =
    "OpenSSL 3.0's CMS can neither sign nor verify EdDSA over signed attributes (RFC 8419); "
    "sign CMS vouchers with a P-256 or P-384 key, or use the JWS envelope";

int Nid(const X509_ALGOR* alg) {
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  return obj ? OBJ_obj2nid(obj) : NID_undef;
}

std::string OidText(const X509_ALGOR* alg) {
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  char buf[80];
  int n = obj ? OBJ_obj2txt(buf, sizeof buf, obj, 0) : 0;
  return n > 0 && static_cast<size_t>(n) < sizeof buf ? std::string(buf, static_cast<size_t>(n)) : std::string("?");
}

// RFC 8419 3.1: id-shake256-len (2.16.840.1.101.3.4.2.18), Ed448's digest; OpenSSL 3.0 has no
// NID for it.
constexpr const char* kShake256LenOid = "2.16.840.1.101.3.4.2.18";

// Refused before OpenSSL's CMS looks at them, so that an EdDSA voucher reads as unsupported
// rather than as a signature that failed.
Status CheckNotEdDsa(CMS_SignerInfo* si) {
  X509_ALGOR *digest = nullptr, *signature = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest, &signature);
  int sig = signature ? Nid(signature) : NID_undef;
  if (sig == NID_ED25519 || sig == NID_ED448 || (digest && OidText(digest) == kShake256LenOid)) {
    return Error(Code::kUnsupported, "cms signer uses " + std::string(sig == NID_ED25519 ? "Ed25519" : "Ed448") + ": " +
                                         std::string(kNoEdDsa));
  }
  return Status::Ok();
}

// The algorithms the signer's key makes, and only those (RFC 5753 7.1.3, RFC 5754 3.3): a
// SignerInfo cannot pick a weaker digest (SHA-1, or SHA-256 under a P-384 key) than its key's.
Status CheckAlgorithms(CMS_SignerInfo* si, X509* signer) {
  VOUCH_ASSIGN_OR_RETURN(SignatureAlg alg, SignatureAlgOf(X509_get0_pubkey(signer)));
  X509_ALGOR *digest = nullptr, *signature = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest, &signature);
  if (alg != SignatureAlg::kEs256 && alg != SignatureAlg::kEs384) {
    return Error(Code::kUnsupported, "cms signer's key is " + std::string(KeyTypeName(alg)) + ": " + std::string(kNoEdDsa));
  }
  int want_digest = alg == SignatureAlg::kEs256 ? NID_sha256 : NID_sha384;
  int want_sig = alg == SignatureAlg::kEs256 ? NID_ecdsa_with_SHA256 : NID_ecdsa_with_SHA384;
  if (!digest || !signature || Nid(digest) != want_digest || Nid(signature) != want_sig) {
    return Error(Code::kBadSignature, "cms signer's " + std::string(KeyTypeName(alg)) + " key signs with " +
                                          OBJ_nid2sn(want_digest) + " and " + OBJ_nid2sn(want_sig) + ", not " +
                                          (digest ? OidText(digest) : "?") + " and " + (signature ? OidText(signature) : "?"));
  }
  return Status::Ok();
}

}  // namespace

Result<SignedData> SignedData::Parse(ByteView der, size_t max_size, const std::string& what) {
  if (der.size() > max_size) return Error(Code::kTooLarge, what + " is over the cap of " + std::to_string(max_size) + " bytes");
  const unsigned char* p = der.data();
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms) return Fail(Code::kMalformed, what + " is not DER ContentInfo");
  if (p != der.data() + der.size()) return Error(Code::kMalformed, what + " has bytes after its DER");
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) return Error(Code::kMalformed, what + " is not SignedData");
  return SignedData(std::move(cms));
}

Result<Bytes> SignedData::Sign(ByteView content, const char* content_type_oid, const SigningKey& key,
                               const std::vector<Certificate>& chain) {
  if (chain.empty()) return Error(Code::kUsage, "cms signing needs the signer certificate");
  // OpenSSL 3.0's CMS_final signs signed attributes through EVP_DigestSignInit with the
  // SignerInfo's digest, which its EdDSA refuses ("invalid digest"): there is no standard
  // RFC 8419 SignerInfo to be had from it, and nothing else is emitted instead.
  if (key.alg() != SignatureAlg::kEs256 && key.alg() != SignatureAlg::kEs384) {
    return Error(Code::kUnsupported, "cms signing with an " + std::string(KeyTypeName(key.alg())) + " key: " + std::string(kNoEdDsa));
  }
  const EVP_MD* md = key.alg() == SignatureAlg::kEs256 ? EVP_sha256() : EVP_sha384();
  BioPtr in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  const unsigned flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
  CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
  ObjectPtr oid(OBJ_txt2obj(content_type_oid, 1));
  if (!in || !cms || !oid || CMS_set1_eContentType(cms.get(), oid.get()) != 1 ||
      !CMS_add1_signer(cms.get(), chain[0].x509(), key.pkey(), md, flags)) {
    return Fail(Code::kCrypto, "cms signing");
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    if (CMS_add1_cert(cms.get(), chain[i].x509()) != 1) return Fail(Code::kCrypto, "cms certificates");
  }
  if (CMS_final(cms.get(), in.get(), nullptr, flags) != 1) return Fail(Code::kCrypto, "cms signing");
  unsigned char* der = nullptr;
  int n = i2d_CMS_ContentInfo(cms.get(), &der);
  if (n <= 0) return Fail(Code::kCrypto, "cms encoding");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

std::string SignedData::ContentTypeOid() const {
  const ASN1_OBJECT* ct = CMS_get0_eContentType(cms_.get());
  if (!ct) return {};
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, ct, /*no_name=*/1);
  // An OID too long for the buffer is no OID vouch accepts.
  return n > 0 && static_cast<size_t>(n) < sizeof buf ? std::string(buf, static_cast<size_t>(n)) : std::string("?");
}

std::optional<Bytes> SignedData::Content() const {
  ASN1_OCTET_STRING** content = CMS_get0_content(cms_.get());
  if (!content || !*content) return std::nullopt;
  const unsigned char* d = ASN1_STRING_get0_data(*content);
  return Bytes(d, d + ASN1_STRING_length(*content));
}

std::vector<Certificate> SignedData::Certificates() const {
  std::vector<Certificate> out;
  X509StackPtr certs(CMS_get1_certs(cms_.get()));
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) out.push_back(Certificate::Share(sk_X509_value(certs.get(), i)));
  return out;
}

int SignedData::SignerInfos() const {
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms_.get());
  return infos ? sk_CMS_SignerInfo_num(infos) : 0;
}

Result<Certificate> SignedData::VerifySignatures() const {
  // Signer certificates must be inside the envelope: nothing is looked up anywhere else, and
  // paths are the caller's (CMS_NO_SIGNER_CERT_VERIFY).
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms_.get());
  for (int i = 0; infos && i < sk_CMS_SignerInfo_num(infos); ++i) {
    VOUCH_RETURN_IF_ERROR(CheckNotEdDsa(sk_CMS_SignerInfo_value(infos, i)));
  }
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || CMS_verify(cms_.get(), nullptr, nullptr, nullptr, out.get(), CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
    return Fail(Code::kBadSignature, "cms signature does not verify");
  }
  X509BorrowedStackPtr signers(CMS_get0_signers(cms_.get()));
  X509* signer = signers && sk_X509_num(signers.get()) > 0 ? sk_X509_value(signers.get(), 0) : nullptr;
  if (!signer) return Error(Code::kMalformed, "cms envelope has no signer certificate");
  // CMS_verify has matched each SignerInfo to its certificate (CMS_set1_signers_certs).
  for (int i = 0; i < sk_CMS_SignerInfo_num(infos); ++i) {
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, i);
    X509* cert = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, &cert, nullptr, nullptr);
    if (!cert) return Error(Code::kMalformed, "cms envelope has no signer certificate");
    VOUCH_RETURN_IF_ERROR(CheckAlgorithms(si, cert));
  }
  return Certificate::Share(signer);
}

}  // namespace vouch::ossl
