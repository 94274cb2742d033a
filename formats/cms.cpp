#include "formats/cms.h"

#include "formats/voucher_json.h"
#include "libvoucher/authority.h"
#include "libvoucher/ossl/signed_data.h"
#include "libvoucher/trust.h"

namespace vouch::formats {
namespace {

// A SignedData that holds a voucher: its content type is one a voucher may have and its
// content is inside it.
struct Parsed {
  ossl::SignedData cms;
  Bytes content;
};

Result<Parsed> Parse(ByteView der) {
  internal::CountParse();
  VOUCH_ASSIGN_OR_RETURN(ossl::SignedData cms, ossl::SignedData::Parse(der, kMaxVoucherSize, "cms envelope"));
  // RFC 8366 5.3 names id-ct-animaJSONVoucher; real MASAs have shipped id-data.
  std::string ct = cms.ContentTypeOid();
  if (ct != kAnimaJsonVoucherOid && ct != ossl::kIdDataOid) {
    return Error(Code::kUnsupported, "cms eContentType is neither id-ct-animaJSONVoucher nor id-data");
  }
  std::optional<Bytes> content = cms.Content();
  if (!content) return Error(Code::kMalformed, "cms envelope has no encapsulated content (detached)");
  return Parsed{std::move(cms), std::move(*content)};
}

}  // namespace

Result<Bytes> SignCms(ByteView payload, const Signer& signer) {
  return ossl::SignedData::Sign(payload, kAnimaJsonVoucherOid, signer.key, signer.chain);
}

Result<Verified> VerifyCms(ByteView envelope, const std::vector<Certificate>& anchors, const TimePolicy& time) {
  VOUCH_ASSIGN_OR_RETURN(Parsed p, Parse(envelope));
  // DESIGN.md 5: exactly one signer, in CMS as in JWS (CMS_verify would want every
  // SignerInfo to verify, where JWS readers commonly take any one).
  int count = p.cms.SignerInfos();
  if (count != 1) {
    return Error(Code::kMalformed, "cms has " + std::to_string(count) + " signer infos; a voucher has exactly one signer");
  }
  // Signatures (and the signed attributes' digest and content type) are OpenSSL's job;
  // paths are ours, so JWS and CMS refuse with the same codes (trust.h).
  VOUCH_ASSIGN_OR_RETURN(Certificate signer, p.cms.VerifySignatures());
  std::vector<Certificate> others;
  for (auto& c : p.cms.Certificates()) {
    if (!(c == signer)) others.push_back(c);
  }
  VOUCH_ASSIGN_OR_RETURN(VerifiedPath path, VerifyPath(signer, others, anchors, time));
  // DESIGN.md 3a: a path says who vouches for the signer, not that it may sign vouchers.
  VOUCH_RETURN_IF_ERROR(CheckSignerAuthority(signer));
  return Verified{EnvelopeKind::kCms, std::move(p.content), signer, path.anchor, path.not_before, path.not_after, path.chain};
}

Result<Unverified> OpenCmsUnverified(ByteView envelope) {
  VOUCH_ASSIGN_OR_RETURN(Parsed p, Parse(envelope));
  return Unverified{EnvelopeKind::kCms, std::move(p.content), p.cms.Certificates(), p.cms.SignerInfos()};
}

}  // namespace vouch::formats
