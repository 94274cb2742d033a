#include "libvoucher/ossl/signed_data.h"

#include <openssl/cms.h>
#include <openssl/objects.h>

#include "libvoucher/ossl/error.h"

namespace vouch::ossl {
namespace {

using ObjectPtr = std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT_free>>;

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

Result<Bytes> SignedData::Sign(ByteView content, const char* content_type_oid, const PrivateKey& key,
                               const std::vector<Certificate>& chain) {
  if (chain.empty()) return Error(Code::kUsage, "cms signing needs the signer certificate");
  BioPtr in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  const unsigned flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
  CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
  ObjectPtr oid(OBJ_txt2obj(content_type_oid, 1));
  if (!in || !cms || !oid || CMS_set1_eContentType(cms.get(), oid.get()) != 1 ||
      !CMS_add1_signer(cms.get(), chain[0].x509(), key.pkey(), EVP_sha256(), flags)) {
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
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || CMS_verify(cms_.get(), nullptr, nullptr, nullptr, out.get(), CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
    return Fail(Code::kBadSignature, "cms signature does not verify");
  }
  X509BorrowedStackPtr signers(CMS_get0_signers(cms_.get()));
  X509* signer = signers && sk_X509_num(signers.get()) > 0 ? sk_X509_value(signers.get(), 0) : nullptr;
  if (!signer) return Error(Code::kMalformed, "cms envelope has no signer certificate");
  return Certificate::Share(signer);
}

}  // namespace vouch::ossl
