#include "formats/signed_by.h"

#include "libvoucher/authority.h"
#include "libvoucher/signing_key.h"
#include "libvoucher/trust.h"

namespace vouch::formats::internal {

Result<std::vector<Certificate>> ParseChain(const std::vector<Bytes>& ders) {
  std::vector<Certificate> out;
  for (const auto& d : ders) {
    VOUCH_ASSIGN_OR_RETURN(Certificate c, Certificate::FromDer(d));
    out.push_back(std::move(c));
  }
  return out;
}

Result<Verified> VerifySignedBy(const SignedInput& in, const std::vector<Certificate>& anchors, const TimePolicy& time) {
  VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> chain, ParseChain(*in.chain));
  std::vector<Certificate> candidates = chain.empty() ? anchors : std::vector<Certificate>{chain[0]};
  Status last = Error(Code::kBadSignature, std::string(in.what) + " signature does not verify");
  for (const auto& signer : candidates) {
    // The claimed alg must be the one the candidate's key makes (ES256 only with P-256, ...):
    // an anchor of another key type is skipped like one whose key does not verify.
    if (Status checked = VerifyJwsSignature(signer.pkey(), in.alg, in.message, in.signature); !checked.ok()) {
      last = checked;
      continue;
    }
    std::vector<Certificate> rest(chain.size() > 1 ? chain.begin() + 1 : chain.end(), chain.end());
    auto path = VerifyPath(signer, rest, anchors, time);
    if (!path.ok()) return path.status();
    // DESIGN.md 3a: a path says who vouches for the signer, not that it may sign vouchers.
    // A request's signer is held to its own rule (formats/request.cpp).
    if (in.voucher) VOUCH_RETURN_IF_ERROR(CheckSignerAuthority(signer));
    return Verified{in.kind, Bytes(in.payload.begin(), in.payload.end()), signer, path->anchor, path->not_before,
                    path->not_after, path->chain};
  }
  if (chain.empty()) {
    last = Error(Code::kUntrustedSigner, std::string(in.what) + " names no signer and no anchor's key verifies it");
  }
  return last;
}

}  // namespace vouch::formats::internal
