#include "formats/request.h"

#include "formats/json.h"
#include "formats/jws.h"
#include "formats/voucher_json.h"
#include "libvoucher/encoding.h"

namespace vouch::formats {

namespace {

Result<Bytes> Encode(const Voucher& voucher, const std::optional<PublicKey>& contribution, const Signer& owner) {
  VOUCH_ASSIGN_OR_RETURN(Bytes json, EncodeVoucher(voucher));
  nlohmann::ordered_json inner;
  inner["voucher"] = Base64Encode(json);
  if (contribution) inner["contribution-key"] = Base64Encode(contribution->SpkiDer());
  nlohmann::ordered_json doc;
  doc["vouch-request"] = std::move(inner);
  return SignJws(AsBytes(Compact(doc)), owner, kRequestTyp);
}

}  // namespace

Result<Bytes> EncodeRequest(const Draft& draft, const Signer& owner) { return Encode(draft.voucher, draft.contribution, owner); }

Result<Bytes> EncodePlainRequest(const Voucher& plain, const Signer& owner) {
  if (plain.enrollment) return Error(Code::kUsage, "a plain request is for a voucher without vouch-enroll:enrollment");
  return Encode(plain, std::nullopt, owner);
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
  if (!voucher || !voucher->is_string() || (contribution && !contribution->is_string())) {
    return Error(Code::kMalformed, "voucher request has no vouch-request with a voucher (and, for enrollment, a contribution-key)");
  }
  OpenedRequest r;
  auto voucher_json = Base64Decode(voucher->get<std::string>());
  if (!voucher_json.ok()) return Error(Code::kMalformed, "voucher request's voucher is not base64");
  r.voucher_json = std::move(*voucher_json);
  VOUCH_ASSIGN_OR_RETURN(r.voucher, DecodeVoucher(r.voucher_json));
  // Y is there exactly when there is an enrollment to check it against: a Y beside a plain
  // voucher would be a check the signer thinks it made and did not.
  if (r.voucher.enrollment.has_value() != (contribution != nullptr)) {
    return Error(Code::kMalformed, r.voucher.enrollment ? "voucher request has an enrolling voucher but no contribution-key"
                                                        : "voucher request has a contribution-key beside a plain voucher");
  }
  if (contribution) {
    auto y = Base64Decode(contribution->get<std::string>());
    if (!y.ok()) return Error(Code::kMalformed, "voucher request's contribution-key is not base64");
    VOUCH_ASSIGN_OR_RETURN(r.contribution, PublicKey::FromSpkiDer(*y));
  }
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
