#include "formats/contribution.h"

#include "formats/json.h"
#include "libvoucher/cogen.h"
#include "libvoucher/encoding.h"
#include "libvoucher/suite.h"

namespace vouch::formats {
namespace {

constexpr std::string_view kRoot = "vouch-contribution";

Result<std::string> Text(const nlohmann::json& obj, const char* name, size_t cap) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) return Error(Code::kMalformed, std::string("contribution has no string '") + name + "'");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > cap) return Error(Code::kTooLarge, std::string("contribution member '") + name + "' is too long");
  return s;
}

Result<Bytes> Binary(const nlohmann::json& obj, const char* name, size_t cap) {
  VOUCH_ASSIGN_OR_RETURN(std::string s, Text(obj, name, (cap + 2) / 3 * 4));
  auto b = Base64Decode(s);
  if (!b.ok()) return Error(Code::kMalformed, std::string("contribution member '") + name + "' is not base64");
  return b;
}

}  // namespace

Bytes EncodeContribution(const ContributionFile& c) {
  nlohmann::ordered_json inner;
  inner["device-key"] = c.device_key;
  inner["suite"] = c.suite;
  inner["contribution-key"] = c.sealed.key ? Base64Encode(*c.sealed.key) : std::string();
  inner["enc"] = Base64Encode(c.sealed.enc);
  inner["ct"] = Base64Encode(c.sealed.ct);
  inner["contribution-proof"] = c.sealed.proof ? Base64Encode(*c.sealed.proof) : std::string();
  nlohmann::ordered_json doc;
  doc[std::string(kRoot)] = std::move(inner);
  Bytes out = ToBytes(Compact(doc));
  out.push_back('\n');
  return out;
}

Result<ContributionFile> DecodeContribution(ByteView text) {
  VOUCH_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJson(text, kMaxContributionSize, "contribution"));
  auto it = doc.is_object() ? doc.find(std::string(kRoot)) : doc.end();
  if (!doc.is_object() || it == doc.end() || !it->is_object()) {
    return Error(Code::kMalformed, "contribution has no 'vouch-contribution' object");
  }
  ContributionFile c;
  VOUCH_ASSIGN_OR_RETURN(c.device_key, Text(*it, "device-key", 128));
  VOUCH_ASSIGN_OR_RETURN(c.suite, Text(*it, "suite", 64));
  VOUCH_ASSIGN_OR_RETURN(Bytes key, Binary(*it, "contribution-key", 1024));
  c.sealed.key = std::move(key);
  VOUCH_ASSIGN_OR_RETURN(c.sealed.enc, Binary(*it, "enc", 256));
  VOUCH_ASSIGN_OR_RETURN(c.sealed.ct, Binary(*it, "ct", 256));
  VOUCH_ASSIGN_OR_RETURN(Bytes proof, Binary(*it, "contribution-proof", 256));
  c.sealed.proof = std::move(proof);
  return c;
}

Status CheckContributionFor(const ContributionFile& c, const PublicKey& device_key) {
  if (c.device_key != device_key.Fingerprint()) {
    return Error(Code::kWrongDevice, "contribution is for device key " + c.device_key + ", not " + device_key.Fingerprint());
  }
  const std::string_view suite = SuiteName(SuiteOfGroup(device_key.group()));
  if (c.suite != suite) return Error(Code::kMalformed, "contribution suite " + c.suite + " is not the device key's " + std::string(suite));
  auto y = PublicKey::FromSpkiDer(*c.sealed.key);
  if (!y.ok()) return Error(Code::kMalformed, "contribution-key is not a valid key: " + y.status().message());
  if (y->group() != device_key.group()) return Error(Code::kMalformed, "contribution-key is not in the device key's group");
  // Checked here too, so that an issuer refuses a rogue Y_i before it certifies anything.
  VOUCH_RETURN_IF_ERROR(cogen::VerifyPossession(*y, device_key, *c.sealed.proof));
  return Status::Ok();
}

}  // namespace vouch::formats
