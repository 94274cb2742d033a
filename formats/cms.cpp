#include "formats/cms.h"

#include <openssl/cms.h>
#include <openssl/objects.h>

#include "formats/voucher_json.h"
#include "libvoucher/authority.h"
#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/handles.h"
#include "libvoucher/trust.h"

namespace vouch::formats {
namespace {

using ObjectPtr = std::unique_ptr<ASN1_OBJECT, ossl::Deleter<ASN1_OBJECT_free>>;

ObjectPtr AnimaOid() { return ObjectPtr(OBJ_txt2obj(kAnimaJsonVoucherOid, 1)); }

Result<ossl::CmsPtr> Parse(ByteView der) {
  internal::CountParse();
  if (der.size() > kMaxVoucherSize) {
    return Error(Code::kTooLarge, "cms envelope is over the cap of " + std::to_string(kMaxVoucherSize) + " bytes");
  }
  const unsigned char* p = der.data();
  ossl::CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms) return ossl::Fail(Code::kMalformed, "cms envelope is not DER ContentInfo");
  if (p != der.data() + der.size()) return Error(Code::kMalformed, "cms envelope has bytes after its DER");
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
    return Error(Code::kMalformed, "cms envelope is not SignedData");
  }
  const ASN1_OBJECT* ct = CMS_get0_eContentType(cms.get());
  ObjectPtr anima = AnimaOid();
  // RFC 8366 5.3 names id-ct-animaJSONVoucher; real MASAs have shipped id-data.
  if (!ct || (OBJ_cmp(ct, anima.get()) != 0 && OBJ_obj2nid(ct) != NID_pkcs7_data)) {
    return Error(Code::kUnsupported, "cms eContentType is neither id-ct-animaJSONVoucher nor id-data");
  }
  ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
  if (!content || !*content) return Error(Code::kMalformed, "cms envelope has no encapsulated content (detached)");
  return cms;
}

std::vector<Certificate> Certs(CMS_ContentInfo* cms) {
  std::vector<Certificate> out;
  ossl::X509StackPtr certs(CMS_get1_certs(cms));
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) out.push_back(Certificate::Share(sk_X509_value(certs.get(), i)));
  return out;
}

Bytes Content(CMS_ContentInfo* cms) {
  ASN1_OCTET_STRING* s = *CMS_get0_content(cms);
  return Bytes(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s));
}

}  // namespace

Result<Bytes> SignCms(ByteView payload, const Signer& signer) {
  if (signer.chain.empty()) return Error(Code::kUsage, "cms signing needs the signer certificate");
  ossl::BioPtr in(BIO_new_mem_buf(payload.data(), static_cast<int>(payload.size())));
  const unsigned flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
  ossl::CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
  ObjectPtr oid = AnimaOid();
  if (!in || !cms || !oid || CMS_set1_eContentType(cms.get(), oid.get()) != 1 ||
      !CMS_add1_signer(cms.get(), signer.chain[0].x509(), signer.key.pkey(), EVP_sha256(), flags)) {
    return ossl::Fail(Code::kCrypto, "cms signing");
  }
  for (size_t i = 1; i < signer.chain.size(); ++i) {
    if (CMS_add1_cert(cms.get(), signer.chain[i].x509()) != 1) return ossl::Fail(Code::kCrypto, "cms certificates");
  }
  if (CMS_final(cms.get(), in.get(), nullptr, flags) != 1) return ossl::Fail(Code::kCrypto, "cms signing");
  unsigned char* der = nullptr;
  int n = i2d_CMS_ContentInfo(cms.get(), &der);
  if (n <= 0) return ossl::Fail(Code::kCrypto, "cms encoding");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

Result<Verified> VerifyCms(ByteView envelope, const std::vector<Certificate>& anchors, const TimePolicy& time) {
  VOUCH_ASSIGN_OR_RETURN(ossl::CmsPtr cms, Parse(envelope));
  // DESIGN.md 5: exactly one signer, in CMS as in JWS (CMS_verify would want every
  // SignerInfo to verify, where JWS readers commonly take any one).
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
  int count = infos ? sk_CMS_SignerInfo_num(infos) : 0;
  if (count != 1) {
    return Error(Code::kMalformed, "cms has " + std::to_string(count) + " signer infos; a voucher has exactly one signer");
  }
  // Signatures (and the signed attributes' digest and content type) are CMS_verify's job;
  // paths are ours, so JWS and CMS refuse with the same codes (trust.h). Signer certificates
  // must be inside the envelope: we never look for them anywhere else.
  ossl::BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || CMS_verify(cms.get(), nullptr, nullptr, nullptr, out.get(),
                         CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
    return ossl::Fail(Code::kBadSignature, "cms signature does not verify");
  }
  ossl::X509BorrowedStackPtr signers(CMS_get0_signers(cms.get()));
  X509* signer_x = signers && sk_X509_num(signers.get()) > 0 ? sk_X509_value(signers.get(), 0) : nullptr;
  if (!signer_x) return Error(Code::kMalformed, "cms envelope has no signer certificate");
  Certificate signer = Certificate::Share(signer_x);
  std::vector<Certificate> others;
  for (auto& c : Certs(cms.get())) {
    if (!(c == signer)) others.push_back(c);
  }
  VOUCH_ASSIGN_OR_RETURN(Certificate anchor, VerifyPath(signer, others, anchors, time));
  // DESIGN.md 3a: a path says who vouches for the signer, not that it may sign vouchers.
  VOUCH_RETURN_IF_ERROR(CheckSignerAuthority(signer));
  return Verified{EnvelopeKind::kCms, Content(cms.get()), signer, anchor};
}

Result<Unverified> OpenCmsUnverified(ByteView envelope) {
  VOUCH_ASSIGN_OR_RETURN(ossl::CmsPtr cms, Parse(envelope));
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
  return Unverified{EnvelopeKind::kCms, Content(cms.get()), Certs(cms.get()),
                    infos ? sk_CMS_SignerInfo_num(infos) : 0};
}

}  // namespace vouch::formats
