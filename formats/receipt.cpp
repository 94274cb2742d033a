#include "formats/receipt.h"

#include <algorithm>
#include <array>

#include "formats/datetime.h"
#include "formats/json.h"
#include "formats/layout.h"
#include "libvoucher/device_state.h"
#include "libvoucher/encoding.h"
#include "libvoucher/key_signature.h"
#include "libvoucher/udf.h"

namespace vouch::formats {
namespace {

using nlohmann::json;

constexpr std::string_view kRoot = "vouch-receipt";
constexpr size_t kMaxSerialNumber = 256;
constexpr size_t kMaxKeyDer = 256;  // the largest canonical SPKI is 91 bytes (P-256)

Status Bad(Code code, const std::string& why) { return Error(code, "receipt " + why); }

// The one check of a receipt's fields, made before signing and after reading, so that a
// device cannot write what every reader refuses.
Status CheckFields(const Receipt& r) {
  if (r.device_key != r.device_public_key.Fingerprint()) {
    return Bad(Code::kMalformed, "device-key is not the UDF of device-public-key");
  }
  if (r.device_public_key.group() != r.combined_key.group()) {
    return Bad(Code::kMalformed, "device-public-key is a " + std::string(GroupName(r.device_public_key.group())) +
                                     " key and combined-key a " + std::string(GroupName(r.combined_key.group())) +
                                     " key (one suite per receipt)");
  }
  // Z = X + sum Y_i with the sum never the identity (cogen.h): a receipt naming X as Z would
  // be signed twice by one key.
  if (r.device_public_key == r.combined_key) return Bad(Code::kMalformed, "combined-key is the device key itself");
  if (r.serial_number.empty() || r.serial_number.size() > kMaxSerialNumber ||
      r.serial_number.find_first_of(std::string_view("\n\r\0", 3)) != std::string::npos) {
    return Bad(Code::kMalformed, "serial-number is not one line of 1 to 256 bytes");
  }
  if (CanonicalUdf(r.voucher_id, udf::kContentBits).empty()) {
    return Bad(Code::kMalformed, "voucher-id is not a canonical 260-bit UDF");
  }
  if (r.generation < 1 || r.generation > kMaxGeneration) {
    return Bad(Code::kMalformed, "generation is not in 1.." + std::to_string(kMaxGeneration));
  }
  return Status::Ok();
}

// Who issued the certificate is the verifier's question (a trust anchor); that it carries Z is
// the receipt's own.
Status CheckCertificate(const Receipt& r) {
  if (!r.certificate) return Status::Ok();
  auto key = r.certificate->Key();
  if (!key.ok() || !(*key == r.combined_key)) {
    return Bad(Code::kCertificateMismatch, "certificate is not for the combined key " + r.combined_key.Fingerprint());
  }
  return Status::Ok();
}

Bytes EncodePayload(const Receipt& r) {
  nlohmann::ordered_json inner;
  inner["device-key"] = r.device_key;
  inner["device-public-key"] = Base64Encode(r.device_public_key.SpkiDer());
  inner["serial-number"] = r.serial_number;
  inner["voucher-id"] = r.voucher_id;
  inner["combined-key"] = Base64Encode(r.combined_key.SpkiDer());
  inner["generation"] = r.generation;
  inner["time"] = FormatDateTime(r.time);
  if (r.certificate) inner["certificate"] = Base64Encode(r.certificate->Der());
  nlohmann::ordered_json doc;
  doc[std::string(kRoot)] = std::move(inner);
  return ToBytes(Compact(doc));
}

std::string ProtectedHeader(Group g, const std::string& kid) {
  nlohmann::ordered_json h;
  h["alg"] = KeyJwsAlg(g);
  h["typ"] = kReceiptTyp;
  h["kid"] = kid;
  return Base64UrlEncode(AsBytes(Compact(h)));
}

// Only the members a format names; anything else would be content no signature vouches for
// the meaning of, and would read differently to a later version.
Status OnlyMembers(const json& obj, std::initializer_list<std::string_view> names, const char* where) {
  for (const auto& item : obj.items()) {
    bool known = false;
    for (std::string_view n : names) known = known || item.key() == n;
    if (!known) return Bad(Code::kMalformed, std::string(where) + " has an unknown member '" + item.key().substr(0, 64) + "'");
  }
  return Status::Ok();
}

Result<std::string> Text(const json& obj, const char* name, const char* where, size_t cap) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) return Bad(Code::kMalformed, std::string(where) + " has no string '" + name + "'");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > cap) return Bad(Code::kMalformed, std::string(where) + " member '" + name + "' is too long");
  return s;
}

// RFC 7951 binary: standard base64 with padding.
Result<Bytes> Binary(const json& obj, const char* name, size_t cap) {
  VOUCH_ASSIGN_OR_RETURN(std::string s, Text(obj, name, "payload", (cap + 2) / 3 * 4));
  auto b = Base64Decode(s);
  if (!b.ok()) return Bad(Code::kMalformed, std::string("member '") + name + "' is not base64");
  return b;
}

Result<PublicKey> Key(const json& obj, const char* name) {
  VOUCH_ASSIGN_OR_RETURN(Bytes der, Binary(obj, name, kMaxKeyDer));
  auto key = PublicKey::FromSpkiDer(der);
  if (!key.ok()) return Bad(Code::kMalformed, std::string(name) + " is not a valid key: " + key.status().message());
  return key;
}

Result<Receipt> DecodePayload(ByteView payload) {
  VOUCH_ASSIGN_OR_RETURN(json doc, ParseJson(payload, kMaxReceiptSize, "receipt payload"));
  if (!doc.is_object() || doc.size() != 1 || !doc.contains(std::string(kRoot)) || !doc[std::string(kRoot)].is_object()) {
    return Bad(Code::kMalformed, "payload is not one 'vouch-receipt' object");
  }
  const json& in = doc[std::string(kRoot)];
  VOUCH_RETURN_IF_ERROR(OnlyMembers(in, {"device-key", "device-public-key", "serial-number", "voucher-id", "combined-key",
                                         "generation", "time", "certificate"},
                                    "payload"));
  Receipt r;
  VOUCH_ASSIGN_OR_RETURN(r.device_key, Text(in, "device-key", "payload", 64));
  VOUCH_ASSIGN_OR_RETURN(r.device_public_key, Key(in, "device-public-key"));
  VOUCH_ASSIGN_OR_RETURN(r.serial_number, Text(in, "serial-number", "payload", kMaxSerialNumber));
  VOUCH_ASSIGN_OR_RETURN(r.voucher_id, Text(in, "voucher-id", "payload", 64));
  VOUCH_ASSIGN_OR_RETURN(r.combined_key, Key(in, "combined-key"));
  auto gen = in.find("generation");
  if (gen == in.end() || !gen->is_number_integer()) return Bad(Code::kMalformed, "generation is not an integer");
  r.generation = gen->get<int64_t>();
  VOUCH_ASSIGN_OR_RETURN(std::string time, Text(in, "time", "payload", 64));
  auto t = ParseDateTime(time);
  if (!t.ok()) return Bad(Code::kMalformed, "time is not RFC 3339 date-and-time");
  r.time = *t;
  if (in.contains("certificate")) {
    VOUCH_ASSIGN_OR_RETURN(Bytes der, Binary(in, "certificate", kMaxCertificateSize));
    auto cert = Certificate::FromDer(der);
    if (!cert.ok()) return Bad(Code::kMalformed, "certificate does not parse: " + cert.status().message());
    r.certificate = std::move(*cert);
  }
  return r;
}

struct Signature {
  std::string protected_b64;  // as transmitted: the signing input uses these exact characters
  Bytes signature;
  std::string alg, kid;
};

Result<Signature> ParseSignature(const json& sig) {
  if (!sig.is_object()) return Bad(Code::kMalformed, "signature is not an object");
  VOUCH_RETURN_IF_ERROR(OnlyMembers(sig, {"protected", "signature"}, "signature"));
  Signature s;
  VOUCH_ASSIGN_OR_RETURN(s.protected_b64, Text(sig, "protected", "signature", 1024));
  auto header_bytes = Base64UrlDecode(s.protected_b64);
  if (!header_bytes.ok()) return Bad(Code::kMalformed, "protected header is not base64url");
  VOUCH_ASSIGN_OR_RETURN(json h, ParseJson(*header_bytes, 1024, "receipt protected header"));
  if (!h.is_object()) return Bad(Code::kMalformed, "protected header is not an object");
  // "crit" and every other member are refused here: nothing a header could add is honoured.
  VOUCH_RETURN_IF_ERROR(OnlyMembers(h, {"alg", "typ", "kid"}, "protected header"));
  VOUCH_ASSIGN_OR_RETURN(s.alg, Text(h, "alg", "protected header", 16));
  VOUCH_ASSIGN_OR_RETURN(std::string typ, Text(h, "typ", "protected header", 64));
  if (typ != kReceiptTyp) return Bad(Code::kMalformed, "typ is not '" + std::string(kReceiptTyp) + "'");
  VOUCH_ASSIGN_OR_RETURN(s.kid, Text(h, "kid", "protected header", 64));
  VOUCH_ASSIGN_OR_RETURN(std::string sig_b64, Text(sig, "signature", "signature", 1024));
  auto raw = Base64UrlDecode(sig_b64);
  if (!raw.ok()) return Bad(Code::kBadSignature, "signature is not base64url");
  s.signature = std::move(*raw);
  return s;
}

// One signature by `key`, whose UDF the header must name, over the payload as transmitted.
Status VerifyBy(const Signature& s, const std::string& payload_b64, const PublicKey& key, const char* who) {
  // As for vouchers (DESIGN.md 3): an algorithm outside the list is unsupported; one of the
  // list that this key does not make is a false claim, a bad signature.
  if (s.alg != "ES256" && s.alg != "ES384" && s.alg != "EdDSA") {
    return Bad(Code::kUnsupported, "algorithm '" + s.alg.substr(0, 16) + "' is none of ES256, ES384, EdDSA");
  }
  if (s.alg != KeyJwsAlg(key.group())) {
    return Bad(Code::kBadSignature, std::string(who) + " signature claims " + s.alg + ", not the " +
                                        std::string(KeyJwsAlg(key.group())) + " of its " +
                                        std::string(GroupName(key.group())) + " key");
  }
  if (s.kid != key.Fingerprint()) {
    return Bad(Code::kBadSignature, std::string(who) + " signature's kid is not " + key.Fingerprint());
  }
  const std::string input = s.protected_b64 + "." + payload_b64;  // RFC 7515 5.2 step 8
  if (!VerifyWithKey(key, AsBytes(input), s.signature).ok() || !HasLowS(key.group(), s.signature)) {
    return Bad(Code::kBadSignature, std::string(who) + " signature does not verify under " + key.Fingerprint());
  }
  return Status::Ok();
}

}  // namespace

Result<Bytes> SignReceipt(const Receipt& receipt, const PrivateKey& z, const PrivateKey& x) {
  if (z.group() != x.group()) return Error(Code::kInvalidKey, "receipt keys z and x are in different groups");
  if (!(z.Public() == receipt.combined_key)) return Error(Code::kInvalidKey, "z is not the private key of the receipt's combined key");
  if (!(x.Public() == receipt.device_public_key)) return Error(Code::kInvalidKey, "x is not the private key of the receipt's device key");
  VOUCH_RETURN_IF_ERROR(CheckFields(receipt));
  VOUCH_RETURN_IF_ERROR(CheckCertificate(receipt));
  const std::string payload_b64 = Base64UrlEncode(EncodePayload(receipt));
  nlohmann::ordered_json signatures = nlohmann::ordered_json::array();
  for (const PrivateKey* key : {&z, &x}) {
    const std::string header = ProtectedHeader(key->group(), key->Public().Fingerprint());
    VOUCH_ASSIGN_OR_RETURN(Bytes sig, SignWithKey(*key, AsBytes(header + "." + payload_b64)));
    signatures.push_back(nlohmann::ordered_json{{"protected", header}, {"signature", Base64UrlEncode(sig)}});
  }
  nlohmann::ordered_json doc;
  doc["payload"] = payload_b64;
  doc["signatures"] = std::move(signatures);
  Bytes out = ToBytes(Compact(doc));
  if (out.size() > kMaxReceiptSize) return Error(Code::kTooLarge, "receipt would be " + std::to_string(out.size()) + " bytes");
  return out;
}

std::string ReceiptId(ByteView bytes) {
  auto id = udf::ContentDigest(udf::Alg::kSha2_512, kReceiptMediaType, bytes, udf::kContentBits);
  return id.ok() ? *id : std::string();
}

Result<VerifiedReceipt> VerifyReceipt(ByteView bytes) {
  // The cap first: nothing larger is parsed (ParseJson checks it too, before any byte).
  if (bytes.size() > kMaxReceiptSize) {
    return Bad(Code::kTooLarge, "is " + std::to_string(bytes.size()) + " bytes, over the cap of " + std::to_string(kMaxReceiptSize));
  }
  VOUCH_ASSIGN_OR_RETURN(json doc, ParseJson(bytes, kMaxReceiptSize, "receipt"));
  if (!doc.is_object()) return Bad(Code::kMalformed, "is not a JSON object");
  VOUCH_RETURN_IF_ERROR(OnlyMembers(doc, {"payload", "signatures"}, "envelope"));
  VOUCH_ASSIGN_OR_RETURN(std::string payload_b64, Text(doc, "payload", "envelope", kMaxReceiptSize));
  auto sigs = doc.find("signatures");
  if (sigs == doc.end() || !sigs->is_array()) return Bad(Code::kMalformed, "has no 'signatures' array");
  // Exactly two, z's then x's: one alone proves only one of the keys, and a third would be
  // a signature whose meaning this format does not give.
  if (sigs->size() != 2) {
    return Bad(Code::kBadSignature, "has " + std::to_string(sigs->size()) + " signatures; a receipt has two, by z then by x");
  }
  std::array<Signature, 2> s;
  for (size_t i = 0; i < 2; ++i) {
    VOUCH_ASSIGN_OR_RETURN(s[i], ParseSignature((*sigs)[i]));
  }
  auto payload = Base64UrlDecode(payload_b64);
  if (!payload.ok()) return Bad(Code::kMalformed, "payload is not base64url");
  VOUCH_ASSIGN_OR_RETURN(Receipt r, DecodePayload(*payload));
  VOUCH_RETURN_IF_ERROR(CheckFields(r));
  VOUCH_RETURN_IF_ERROR(VerifyBy(s[0], payload_b64, r.combined_key, "the first (z's)"));
  VOUCH_RETURN_IF_ERROR(VerifyBy(s[1], payload_b64, r.device_public_key, "the second (x's)"));
  VOUCH_RETURN_IF_ERROR(CheckCertificate(r));
  // One receipt, one string: receipts are filed by the hash of their bytes, so the bytes must
  // be exactly what SignReceipt writes for what they say (compact JSON in its member order,
  // canonical base64url, the payload as EncodePayload spells it, low-S ECDSA above). Otherwise
  // anyone could re-spell one genuine receipt into any number of valid ones with new ids.
  nlohmann::ordered_json canonical;
  canonical["payload"] = Base64UrlEncode(EncodePayload(r));
  canonical["signatures"] = nlohmann::ordered_json::array();
  for (const Signature& sig : s) {
    canonical["signatures"].push_back(nlohmann::ordered_json{
        {"protected", ProtectedHeader(r.combined_key.group(), sig.kid)},
        {"signature", Base64UrlEncode(sig.signature)}});
  }
  const std::string spelled = Compact(canonical);
  if (spelled.size() != bytes.size() || !std::equal(spelled.begin(), spelled.end(), bytes.begin(),
                                                    [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; })) {
    return Bad(Code::kMalformed, "is not written the one way a receipt is (formats/receipt.md, \"One spelling\")");
  }
  return VerifiedReceipt{std::move(r), ReceiptId(bytes)};
}

Result<std::string> ReceiptPath(std::string_view device_udf, std::string_view receipt_id) {
  // Canonical spellings only: the path is built from these and nothing else, and one receipt
  // has one path.
  if (CanonicalUdf(device_udf, udf::kKeyBits).empty()) {
    return Error(Code::kMalformed, "'" + std::string(device_udf.substr(0, 64)) + "' is not a canonical device UDF");
  }
  if (CanonicalUdf(receipt_id, udf::kContentBits).empty()) {
    return Error(Code::kMalformed, "'" + std::string(receipt_id.substr(0, 64)) + "' is not a canonical 260-bit receipt id");
  }
  VOUCH_ASSIGN_OR_RETURN(std::string dir, DeviceSubdirectory(device_udf));
  return dir + "/" + std::string(receipt_id) + "." + std::string(kReceiptExtension);
}

Result<ReceiptPathParts> ParseReceiptPath(std::string_view relative_path) {
  auto bad = [&](const std::string& why) {
    return Error(Code::kMalformed, "'" + std::string(relative_path.substr(0, 200)) + "' is not a receipt path: " + why);
  };
  auto f = ParseDeviceFile(relative_path);
  if (!f.ok()) return bad(f.status().message());
  const std::string ext = "." + std::string(kReceiptExtension);
  if (f->file.size() <= ext.size() || f->file.substr(f->file.size() - ext.size()) != ext) {
    return bad("extension is not " + ext);
  }
  std::string id = CanonicalUdf(f->file.substr(0, f->file.size() - ext.size()), udf::kContentBits);
  if (id.empty()) return bad("file name is not a canonical 260-bit receipt id");
  return ReceiptPathParts{std::move(f->device_udf), std::move(id)};
}

}  // namespace vouch::formats
