#include "formats/jws.h"

#include "formats/json.h"
#include "formats/signed_by.h"
#include "formats/voucher_json.h"
#include "libvoucher/encoding.h"
#include "libvoucher/signing_key.h"

namespace vouch::formats {
namespace {

using nlohmann::json;

struct Signature {
  std::string alg;            // ES256, ES384 or EdDSA; checked against the signer's key
  std::string protected_b64;  // as transmitted: the signing input uses these exact characters
  std::string signature_b64;
  std::vector<Bytes> x5c;  // DER, parsed only when a signature is checked (parsing is costly)
};

struct Parsed {
  std::string payload_b64;
  Bytes payload;
  std::vector<Signature> signatures;
};

Result<std::string> Member(const json& obj, const char* name, const char* where) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) {
    return Error(Code::kMalformed, std::string("jws ") + where + " has no string '" + name + "'");
  }
  return it->get<std::string>();
}

// Decodes one protected header; refuses what we cannot honour (RFC 7515 4.1.11 "crit").
Result<Signature> ParseSignature(const json& sig, std::string_view typ_wanted) {
  if (!sig.is_object()) return Error(Code::kMalformed, "jws signature is not an object");
  Signature s;
  VOUCH_ASSIGN_OR_RETURN(s.protected_b64, Member(sig, "protected", "signature"));
  VOUCH_ASSIGN_OR_RETURN(s.signature_b64, Member(sig, "signature", "signature"));
  auto header_bytes = Base64UrlDecode(s.protected_b64);
  if (!header_bytes.ok()) return Error(Code::kMalformed, "jws protected header is not base64url");
  VOUCH_ASSIGN_OR_RETURN(json header, ParseJson(*header_bytes, kMaxVoucherSize, "jws protected header"));
  if (!header.is_object()) return Error(Code::kMalformed, "jws protected header is not an object");
  VOUCH_ASSIGN_OR_RETURN(s.alg, Member(header, "alg", "protected header"));
  // "none", HS*, RS* and the rest are refused here, before any key is looked at; which of the
  // three a signature may claim is decided by the signer's key (VerifyJwsSignature).
  if (s.alg != "ES256" && s.alg != "ES384" && s.alg != "EdDSA") {
    return Error(Code::kUnsupported, "jws algorithm '" + s.alg + "' is none of ES256, ES384, EdDSA");
  }
  if (header.contains("crit")) return Error(Code::kUnsupported, "jws header has critical extensions");
  if (auto typ = header.find("typ"); typ != header.end()) {
    // Missing typ is accepted (DESIGN.md 5); a different one means another kind of object.
    std::string_view t = typ->is_string() ? typ->get_ref<const std::string&>() : std::string_view();
    if (t.rfind("application/", 0) == 0) t.remove_prefix(12);  // RFC 7515 4.1.9 allows either
    if (t != typ_wanted) {
      return Error(Code::kMalformed, "jws typ is not '" + std::string(typ_wanted) + "'");
    }
  }
  if (auto x5c = header.find("x5c"); x5c != header.end()) {
    if (!x5c->is_array() || x5c->empty() || x5c->size() > kMaxX5c) {
      return Error(Code::kMalformed, "jws x5c is not an array of 1 to 8 certificates");
    }
    for (const auto& c : *x5c) {
      // RFC 7515 4.1.6: x5c is standard base64 DER, not base64url.
      auto der = c.is_string() ? Base64Decode(c.get<std::string>()) : Result<Bytes>(Error(Code::kMalformed, ""));
      if (!der.ok()) return Error(Code::kMalformed, "jws x5c entry is not base64 DER");
      if (der->size() > kMaxCertificateSize) return Error(Code::kTooLarge, "jws x5c entry is over 16 KiB");
      s.x5c.push_back(std::move(*der));
    }
  }
  return s;
}

Result<Parsed> Parse(ByteView envelope, std::string_view typ) {
  internal::CountParse();
  VOUCH_ASSIGN_OR_RETURN(json doc, ParseJson(envelope, kMaxVoucherSize, "jws envelope"));
  if (!doc.is_object()) return Error(Code::kMalformed, "jws envelope is not a JSON object");
  Parsed p;
  VOUCH_ASSIGN_OR_RETURN(p.payload_b64, Member(doc, "payload", "envelope"));
  auto payload = Base64UrlDecode(p.payload_b64);
  if (!payload.ok()) return Error(Code::kMalformed, "jws payload is not base64url");
  p.payload = std::move(*payload);
  std::vector<json> sigs;
  if (auto it = doc.find("signatures"); it != doc.end()) {
    if (!it->is_array() || it->empty()) return Error(Code::kMalformed, "jws 'signatures' is not a non-empty array");
    if (it->size() > kMaxJwsSignatures) return Error(Code::kTooLarge, "jws has more than 8 signatures");
    sigs.assign(it->begin(), it->end());
  } else {
    sigs.push_back(doc);  // RFC 7515 7.2.2 flattened serialization
  }
  for (const auto& s : sigs) {
    VOUCH_ASSIGN_OR_RETURN(Signature sig, ParseSignature(s, typ));
    p.signatures.push_back(std::move(sig));
  }
  return p;
}

Result<Verified> VerifyOne(const Parsed& p, const Signature& s, const std::vector<Certificate>& anchors,
                           const TimePolicy& time, bool voucher) {
  auto raw = Base64UrlDecode(s.signature_b64);
  if (!raw.ok()) return Error(Code::kBadSignature, "jws signature is not base64url");
  std::string input = s.protected_b64 + "." + p.payload_b64;  // RFC 7515 5.2 step 8
  return internal::VerifySignedBy({EnvelopeKind::kJws, s.alg, AsBytes(input), *raw, &s.x5c, p.payload, voucher, "jws"},
                                  anchors, time);
}

}  // namespace

Result<Bytes> SignJws(ByteView payload, const Signer& signer, std::string_view typ) {
  // {"alg":...,"typ":...,"x5c":[...]} and {"payload":...,"signatures":[{"protected":...,
  // "signature":...}]}: the bytes Compact writes for these ordered_json documents, assembled
  // around their base64 values instead of escaped a byte at a time.
  std::string header = "{\"alg\":";
  AppendJsonString(header, signer.key.JwsAlg());
  header += ",\"typ\":";
  AppendJsonString(header, typ);
  header += ",\"x5c\":[";
  for (size_t i = 0; i < signer.chain.size(); ++i) {
    if (i > 0) header += ',';
    AppendJsonString(header, Base64Encode(signer.chain[i].Der()));
  }
  header += "]}";
  std::string protected_b64 = Base64UrlEncode(AsBytes(header));
  std::string payload_b64 = Base64UrlEncode(payload);
  VOUCH_ASSIGN_OR_RETURN(Bytes sig, signer.key.Sign(AsBytes(protected_b64 + "." + payload_b64)));
  std::string doc = "{\"payload\":";
  AppendJsonString(doc, payload_b64);
  doc += ",\"signatures\":[{\"protected\":";
  AppendJsonString(doc, protected_b64);
  doc += ",\"signature\":";
  AppendJsonString(doc, Base64UrlEncode(sig));
  doc += "}]}";
  return ToBytes(doc);
}

Result<Verified> VerifyJws(ByteView envelope, const std::vector<Certificate>& anchors, const TimePolicy& time,
                           std::string_view typ) {
  VOUCH_ASSIGN_OR_RETURN(Parsed p, Parse(envelope, typ));
  // DESIGN.md 5: exactly one signer, in JWS as in CMS. With several, "good when one
  // verifies" and "good when all verify" are different vouchers to different readers, and
  // which anchor and signer a device's rules judge would be the verifier's choice.
  if (p.signatures.size() != 1) {
    return Error(Code::kMalformed, "jws has " + std::to_string(p.signatures.size()) +
                                       " signatures; a voucher has exactly one signer");
  }
  return VerifyOne(p, p.signatures[0], anchors, time, typ == kVoucherJwsTyp);
}

Result<Unverified> OpenJwsUnverified(ByteView envelope, std::string_view typ) {
  VOUCH_ASSIGN_OR_RETURN(Parsed p, Parse(envelope, typ));
  Unverified u{EnvelopeKind::kJws, std::move(p.payload), {}, static_cast<int>(p.signatures.size())};
  for (auto& s : p.signatures) {
    VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> certs, internal::ParseChain(s.x5c));
    u.certificates.insert(u.certificates.end(), certs.begin(), certs.end());
  }
  return u;
}

Result<Bytes> JwsPayloadUnverified(ByteView envelope) {
  VOUCH_ASSIGN_OR_RETURN(Parsed p, Parse(envelope, kVoucherJwsTyp));
  return std::move(p.payload);
}

}  // namespace vouch::formats
