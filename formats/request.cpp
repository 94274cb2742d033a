#include "formats/request.h"

#include "formats/json.h"
#include "formats/jws.h"
#include "formats/voucher_json.h"
#include "libvoucher/encoding.h"

namespace vouch::formats {

Result<Bytes> EncodeRequest(const Draft& draft, const Signer& owner) {
  VOUCH_ASSIGN_OR_RETURN(Bytes json, EncodeVoucher(draft.voucher));
  nlohmann::ordered_json inner;
  inner["voucher"] = Base64Encode(json);
  inner["contribution-key"] = Base64Encode(draft.contribution.SpkiDer());
  nlohmann::ordered_json doc;
  doc["vouch-request"] = std::move(inner);
  return SignJws(AsBytes(Compact(doc)), owner, kRequestTyp);
}

Result<OpenedRequest> OpenRequest(ByteView request, const std::vector<Certificate>& owners, const TimePolicy& time) {
  VOUCH_ASSIGN_OR_RETURN(Unverified u, OpenJwsUnverified(request, kRequestTyp));
  VOUCH_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJson(u.payload, kMaxVoucherSize, "voucher request"));
  auto member = [](const nlohmann::json& obj, const char* name) -> const nlohmann::json* {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(name);
    return it == obj.end() ? nullptr : &*it;
  };
  const nlohmann::json* inner = member(doc, "vouch-request");
  const nlohmann::json* voucher = inner ? member(*inner, "voucher") : nullptr;
  const nlohmann::json* contribution = inner ? member(*inner, "contribution-key") : nullptr;
  if (!voucher || !voucher->is_string() || !contribution || !contribution->is_string()) {
    return Error(Code::kMalformed, "voucher request has no vouch-request with voucher and contribution-key");
  }
  OpenedRequest r;
  auto voucher_json = Base64Decode(voucher->get<std::string>());
  auto y = Base64Decode(contribution->get<std::string>());
  if (!voucher_json.ok() || !y.ok()) return Error(Code::kMalformed, "voucher request members are not base64");
  r.voucher_json = std::move(*voucher_json);
  VOUCH_ASSIGN_OR_RETURN(r.voucher, DecodeVoucher(r.voucher_json));
  VOUCH_ASSIGN_OR_RETURN(r.contribution, PublicKey::FromSpkiDer(*y));
  VOUCH_ASSIGN_OR_RETURN(r.owner, Certificate::FromDer(r.voucher.pinned_domain_cert));
  if (!owners.empty()) {
    bool known = false;
    for (const auto& o : owners) known = known || o == r.owner;
    if (!known) return Error(Code::kUntrustedSigner, "request pins an owner ('" + r.owner.Subject() + "') not in --owner");
  }
  // The owner proves possession of the domain key it pins: the request must be signed by that
  // certificate itself. A certificate the owner issued (a device's certificate for Z) also
  // chains to it, and must not be able to ask for vouchers in the owner's name.
  VOUCH_ASSIGN_OR_RETURN(Verified v, VerifyJws(request, {r.owner}, time, kRequestTyp));
  if (!(v.signer == r.owner)) {
    return Error(Code::kSignerNotAuthorized, "request is signed by '" + v.signer.Subject() +
                                                 "', not by the domain certificate it pins");
  }
  return r;
}

}  // namespace vouch::formats
