// The voucher-request: how an owner hands a manufacturer everything but the signature
// (`vouch request` -> `vouch sign`). Spec page: formats/voucher.md, "Voucher requests".
//
// A JWS (typ "vouch-request+json") signed by the owner's domain CA key, x5c = [domain CA],
// whose payload is
//   {"vouch-request":{"voucher":"<base64 of the exact voucher JSON>",
//                     "contribution-key":"<base64 DER SPKI of Y>"}}
// The signature proves the requester holds the key of the domain it pins; Y lets the
// manufacturer check Z = X + Y against the device key it knows. y never travels.
#pragma once

#include "formats/envelope.h"
#include "libvoucher/issue.h"

namespace vouch::formats {

inline constexpr std::string_view kRequestTyp = "vouch-request+json";
inline constexpr std::string_view kRequestExtension = "vrq";

Result<Bytes> EncodeRequest(const Draft& draft, const Signer& owner);

struct OpenedRequest {
  Bytes voucher_json;  // the exact bytes the manufacturer will sign
  Voucher voucher;
  PublicKey contribution;
  Certificate owner;  // the pinned domain certificate, which signed the request
};

// Verifies the request's signature against the domain certificate the voucher pins (and,
// when `owners` is not empty, requires that certificate to be one of them).
Result<OpenedRequest> OpenRequest(ByteView request, const std::vector<Certificate>& owners, const TimePolicy& time);

}  // namespace vouch::formats
