// The voucher-request: how an owner hands a manufacturer everything but the signature
// (`vouch request` -> `vouch sign`). Spec page: formats/voucher.md, "Voucher requests".
//
// A JWS (typ "vouch-request+json") signed by the owner's domain CA key, x5c = [domain CA],
// whose payload is
//   {"vouch-request":{"voucher":"<base64 of the exact voucher JSON>",
//                     "contribution-key":"<base64 DER SPKI of Y>"}}
// The signature proves the requester holds the key of the domain it pins; Y lets the
// manufacturer check Z = X + Y against the device key it knows. y never travels.
// A plain request (a voucher without vouch-enroll:enrollment, for BRSKI pledges) has no
// "contribution-key": there is no device key, no Y.
#pragma once

#include "formats/envelope.h"
#include "libvoucher/issue.h"

namespace vouch::formats {

inline constexpr std::string_view kRequestTyp = "vouch-request+json";
inline constexpr std::string_view kRequestExtension = "vrq";

Result<Bytes> EncodeRequest(const Draft& draft, const Signer& owner);
// A plain voucher's request. kUsage for a voucher with an enrollment (use the Draft form).
Result<Bytes> EncodePlainRequest(const Voucher& plain, const Signer& owner);

struct OpenedRequest {
  Bytes voucher_json;  // the exact bytes the manufacturer will sign
  Voucher voucher;
  std::optional<PublicKey> contribution;  // absent exactly when the voucher is plain
  Certificate owner;  // the pinned domain certificate, which signed the request
};

// Verifies the request's signature against the domain certificate the voucher pins (and,
// when `owners` is not empty, requires that certificate to be one of them). kMalformed for a
// contribution-key beside a plain voucher, or an enrolling voucher without one.
Result<OpenedRequest> OpenRequest(ByteView request, const std::vector<Certificate>& owners, const TimePolicy& time);

}  // namespace vouch::formats
