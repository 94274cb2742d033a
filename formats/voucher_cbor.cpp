#include "formats/voucher_cbor.h"

#include <nlohmann/json.hpp>

#include <array>
#include <set>
#include <span>

#include "formats/cbor/cbor.h"
#include "formats/voucher_json.h"
#include "libvoucher/encoding.h"

namespace vouch::formats {
namespace {

using nlohmann::json;

enum class Kind { kContainer, kList, kString, kBinary, kEnum, kBool };

constexpr std::array<std::string_view, 4> kAssertions = {"verified", "logged", "proximity", "agent-proximity"};
// vouch-enroll.yang's suite enumeration, values in statement order (RFC 7950 9.6.4.2).
constexpr std::array<std::string_view, 3> kSuites = {"P256-HPKE-SHA256-AES128GCM", "X25519-HPKE-SHA256-CHACHA20POLY1305",
                                                     "X448-HPKE-SHA512-AES256GCM"};

// One schema node: its SID, its parent's (0 at the top) and its member name in RFC 7951 JSON.
// Names are unqualified but where the module changes (the top container, the augmentation).
struct Node {
  int64_t sid;
  int64_t parent;
  std::string_view name;
  Kind kind;
  std::span<const std::string_view> values = {};  // enumerations, by value
};

constexpr int64_t kVoucherSid = 2451;
constexpr int64_t kEnrollmentSid = 60101;
constexpr int64_t kContributionSid = 60104;

// ietf-voucher's SIDs as the constrained-voucher draft and RFC 8366bis number them; vouch-enroll's
// from formats/vouch-enroll.sid (both alphabetical by schema path within the module, as
// RFC 9595's tools assign them).
const Node kSchema[] = {
    {2451, 0, "ietf-voucher:voucher", Kind::kContainer},
    {2452, 2451, "assertion", Kind::kEnum, kAssertions},
    {2453, 2451, "created-on", Kind::kString},
    {2454, 2451, "domain-cert-revocation-checks", Kind::kBool},
    {2455, 2451, "expires-on", Kind::kString},
    {2456, 2451, "idevid-issuer", Kind::kBinary},
    {2457, 2451, "last-renewal-date", Kind::kString},
    {2458, 2451, "nonce", Kind::kBinary},
    {2459, 2451, "pinned-domain-cert", Kind::kBinary},
    {2460, 2451, "pinned-domain-subject-public-key-info", Kind::kBinary},
    {2461, 2451, "pinned-sha256-of-subject-public-key-info", Kind::kBinary},
    {2462, 2451, "serial-number", Kind::kString},
    {60101, 2451, "vouch-enroll:enrollment", Kind::kContainer},
    {60102, 60101, "certificate", Kind::kBinary},
    {60103, 60101, "combined-key", Kind::kBinary},
    {60104, 60101, "contribution", Kind::kList},
    {60105, 60104, "contribution-key", Kind::kBinary},
    {60106, 60104, "contribution-proof", Kind::kBinary},
    {60107, 60104, "ct", Kind::kBinary},
    {60108, 60104, "enc", Kind::kBinary},
    {60109, 60101, "ct", Kind::kBinary},
    {60110, 60101, "device-key", Kind::kString},
    {60111, 60101, "enc", Kind::kBinary},
    {60112, 60101, "suite", Kind::kEnum, kSuites},
};

std::string_view ModuleOf(int64_t sid) { return sid >= kEnrollmentSid ? "vouch-enroll" : "ietf-voucher"; }

const Node* BySid(int64_t parent, int64_t sid) {
  for (const Node& n : kSchema) {
    if (n.parent == parent && n.sid == sid) return &n;
  }
  return nullptr;
}

// A member name as RFC 9254 4.2.2 (and RFC 7951 4) writes it: qualified by its module where
// that differs from the parent's, and, as some writers do, where it does not.
const Node* ByName(int64_t parent, std::string_view name) {
  for (const Node& n : kSchema) {
    if (n.parent != parent) continue;
    if (name == n.name) return &n;
    std::string qualified = std::string(ModuleOf(n.sid)) + ":" + std::string(n.name);
    if (n.name.find(':') == std::string_view::npos && name == qualified) return &n;
  }
  return nullptr;
}

Status Bad(std::string_view leaf, const std::string& why) {
  return Error(Code::kMalformed, "voucher leaf '" + std::string(leaf) + "' " + why);
}

Result<json> Value(const Node& node, const cbor::Item& v);

// A container's or list entry's members: keys are SID deltas from `parent` or member names.
Result<json> Members(int64_t parent, const cbor::Item& map, std::string_view what) {
  if (map.type != cbor::Type::kMap) return Bad(what, "is not a CBOR map");
  json out = json::object();
  std::set<int64_t> seen;
  for (size_t i = 0; i < map.items.size(); i += 2) {
    const cbor::Item& key = map.items[i];
    const Node* node = nullptr;
    if (key.IsInt()) {
      VOUCH_ASSIGN_OR_RETURN(int64_t delta, key.Int());
      // RFC 9254 3.2: the SID is the parent's plus the delta. Deltas this large name nothing.
      if (delta > (int64_t{1} << 40) || delta < -(int64_t{1} << 40)) return Bad(what, "has a SID delta out of range");
      node = BySid(parent, parent + delta);
    } else if (key.type == cbor::Type::kText) {
      node = ByName(parent, key.Text());
    } else {
      return Bad(what, "has a key that is neither a SID nor a name");
    }
    if (!node) continue;  // an unknown leaf, ignored as in JSON (formats/voucher.md)
    if (!seen.insert(node->sid).second) return Bad(node->name, "is written twice (as a SID and as a name)");
    VOUCH_ASSIGN_OR_RETURN(json value, Value(*node, map.items[i + 1]));
    out[std::string(node->name)] = std::move(value);
  }
  return out;
}

Result<json> Value(const Node& node, const cbor::Item& v) {
  switch (node.kind) {
    case Kind::kContainer:
      return Members(node.sid, v, node.name);
    case Kind::kList: {
      if (v.type != cbor::Type::kArray) return Bad(node.name, "is not a CBOR array");
      json list = json::array();
      for (const cbor::Item& entry : v.items) {
        VOUCH_ASSIGN_OR_RETURN(json e, Members(node.sid, entry, node.name));
        list.push_back(std::move(e));
      }
      return list;
    }
    case Kind::kString:
      if (v.type != cbor::Type::kText) return Bad(node.name, "is not a text string");
      return json(std::string(v.Text()));
    case Kind::kBinary:
      // RFC 9254 6.6: binary is a byte string; the JSON form's base64 is for the JSON rules.
      if (v.type != cbor::Type::kBytes) return Bad(node.name, "is not a byte string");
      return json(Base64Encode(v.bytes));
    case Kind::kBool:
      if (v.type != cbor::Type::kBool) return Bad(node.name, "is not a boolean");
      return json(v.boolean);
    case Kind::kEnum:
      // RFC 9254 6.6: an enumeration is its integer value; its name is accepted too.
      if (v.type == cbor::Type::kText) return json(std::string(v.Text()));
      if (v.type != cbor::Type::kUint || v.number >= node.values.size()) {
        return Bad(node.name, "is not a value of its enumeration");
      }
      return json(std::string(node.values[v.number]));
  }
  return Error(Code::kInternal, "voucher schema kind");
}

Result<Bytes> Encode(const Node& node, const nlohmann::ordered_json& value);

Result<Bytes> EncodeMembers(int64_t parent, const nlohmann::ordered_json& obj) {
  std::vector<std::pair<Bytes, Bytes>> entries;
  for (const auto& [name, value] : obj.items()) {
    const Node* node = ByName(parent, name);
    if (!node) return Error(Code::kInternal, "voucher member '" + name + "' has no SID");
    VOUCH_ASSIGN_OR_RETURN(Bytes v, Encode(*node, value));
    entries.emplace_back(cbor::EncodeInt(node->sid - parent), std::move(v));
  }
  cbor::Encoder e;
  VOUCH_RETURN_IF_ERROR(e.Map(std::move(entries)));
  return e.Take();
}

Result<Bytes> Encode(const Node& node, const nlohmann::ordered_json& value) {
  cbor::Encoder e;
  switch (node.kind) {
    case Kind::kContainer:
      return EncodeMembers(node.sid, value);
    case Kind::kList:
      e.ArrayHead(value.size());
      for (const auto& entry : value) {
        VOUCH_ASSIGN_OR_RETURN(Bytes b, EncodeMembers(node.sid, entry));
        e.Raw(b);
      }
      return e.Take();
    case Kind::kString:
      return e.Tstr(value.get<std::string>()).Take();
    case Kind::kBinary: {
      auto raw = Base64Decode(value.get<std::string>());
      if (!raw.ok()) {
        return Error(Code::kUsage, "voucher leaf '" + std::string(node.name) +
                                       "' is not base64, and a CBOR voucher carries it as bytes");
      }
      return e.Bstr(*raw).Take();
    }
    case Kind::kBool:
      return e.Bool(value.get<bool>()).Take();
    case Kind::kEnum:
      for (size_t i = 0; i < node.values.size(); ++i) {
        if (value.get<std::string>() == node.values[i]) return e.Uint(i).Take();
      }
      return Error(Code::kUsage, "voucher leaf '" + std::string(node.name) + "' is not a value of its enumeration");
  }
  return Error(Code::kInternal, "voucher schema kind");
}

}  // namespace

Result<Voucher> DecodeVoucherCbor(ByteView bytes) {
  VOUCH_ASSIGN_OR_RETURN(cbor::Item top, cbor::Decode(bytes, {kMaxVoucherSize}));
  // The top level is keyed by absolute SIDs (or names), a map of one member in practice.
  VOUCH_ASSIGN_OR_RETURN(json doc, Members(0, top, "voucher"));
  return internal::DecodeVoucherTree(doc);
}

Result<Bytes> EncodeVoucherCbor(const Voucher& v) {
  VOUCH_ASSIGN_OR_RETURN(nlohmann::ordered_json tree, internal::VoucherTree(v));
  return EncodeMembers(0, tree);
}

}  // namespace vouch::formats
