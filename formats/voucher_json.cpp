#include "formats/voucher_json.h"

#include <nlohmann/json.hpp>

#include "formats/datetime.h"
#include "formats/json.h"
#include "libvoucher/cogen.h"
#include "libvoucher/encoding.h"
#include "libvoucher/udf.h"

namespace vouch::formats {
namespace {

using nlohmann::json;
constexpr std::string_view kContainer = "ietf-voucher:voucher";
constexpr std::string_view kAugment = "vouch-enroll:enrollment";

// RFC 7951 section 4: members of the container's own module are unqualified, but some
// writers qualify them anyway; either spelling is accepted.
const json* Leaf(const json& obj, const std::string& name) {
  auto it = obj.find(name);
  if (it == obj.end()) it = obj.find("ietf-voucher:" + name);
  return it == obj.end() ? nullptr : &*it;
}

Status Bad(const std::string& leaf, const std::string& why) {
  return Error(Code::kMalformed, "voucher leaf '" + leaf + "' " + why);
}

// A leaf written both ways ("serial-number" and "ietf-voucher:serial-number") is two values
// for one leaf: readers that prefer different spellings would see different vouchers.
Status OneSpellingEach(const json& obj) {
  constexpr std::string_view kPrefix = "ietf-voucher:";
  for (const auto& [name, value] : obj.items()) {
    std::string_view n = name;
    if (n.substr(0, kPrefix.size()) == kPrefix && obj.contains(std::string(n.substr(kPrefix.size())))) {
      return Bad(std::string(n.substr(kPrefix.size())), "is written both qualified and unqualified");
    }
  }
  return Status::Ok();
}

Result<std::string> String(const json& obj, const std::string& name, bool required, size_t cap = 4096) {
  const json* v = Leaf(obj, name);
  if (!v) {
    if (required) return Bad(name, "is missing");
    return std::string();
  }
  if (!v->is_string()) return Bad(name, "is not a string");
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > cap) return Error(Code::kTooLarge, "voucher leaf '" + name + "' is over " + std::to_string(cap) + " bytes");
  return s;
}

Result<Bytes> Binary(const json& obj, const std::string& name, size_t cap) {
  VOUCH_ASSIGN_OR_RETURN(std::string s, String(obj, name, true, (cap + 2) / 3 * 4));
  auto b = Base64Decode(s);
  if (!b.ok()) return Bad(name, "is not canonical base64 (RFC 7951 binary)");
  return b;
}

Result<std::optional<Instant>> Date(const json& obj, const std::string& name, bool required) {
  VOUCH_ASSIGN_OR_RETURN(std::string s, String(obj, name, required, 64));
  if (s.empty() && !Leaf(obj, name)) return std::optional<Instant>();
  auto t = ParseDateTime(s);
  if (!t.ok()) return Bad(name, "is not an RFC 3339 date-time");
  return std::optional<Instant>(*t);
}

Result<Enrollment> DecodeEnrollment(const json& e) {
  if (!e.is_object()) return Bad(std::string(kAugment), "is not an object");
  VOUCH_RETURN_IF_ERROR(OneSpellingEach(e));
  Enrollment out;
  VOUCH_ASSIGN_OR_RETURN(out.device_key, String(e, "device-key", true, 128));
  if (!udf::Udf::Parse(out.device_key).ok()) return Bad("device-key", "is not a UDF fingerprint");
  VOUCH_ASSIGN_OR_RETURN(out.suite, String(e, "suite", true, 64));
  // Either the list (formats/voucher.md) or, in vouchers written before it, one contribution's
  // enc and ct directly here; never both, so that no two readers see different contributions.
  // Every spelling Leaf accepts counts (OneSpellingEach refused two of one leaf above): a
  // qualified list or a qualified bare enc/ct is the same leaf to every reader.
  const json* list = Leaf(e, "contribution");
  if (list) {
    if (Leaf(e, "enc") || Leaf(e, "ct")) return Bad("contribution", "is written beside a bare enc and ct");
    if (!list->is_array() || list->empty()) return Bad("contribution", "is not a non-empty list");
    if (list->size() > cogen::kMaxContributions) {
      return Error(Code::kTooLarge, "voucher has more than " + std::to_string(cogen::kMaxContributions) + " contributions");
    }
    for (const json& item : *list) {
      if (!item.is_object()) return Bad("contribution", "entry is not an object");
      VOUCH_RETURN_IF_ERROR(OneSpellingEach(item));
      SealedContribution c;
      VOUCH_ASSIGN_OR_RETURN(Bytes key, Binary(item, "contribution-key", 1024));
      c.key = std::move(key);
      VOUCH_ASSIGN_OR_RETURN(c.enc, Binary(item, "enc", 256));
      VOUCH_ASSIGN_OR_RETURN(c.ct, Binary(item, "ct", 256));
      VOUCH_ASSIGN_OR_RETURN(Bytes proof, Binary(item, "contribution-proof", 256));
      c.proof = std::move(proof);
      out.contributions.push_back(std::move(c));
    }
  } else if (Leaf(e, "enc") || Leaf(e, "ct")) {
    SealedContribution c;
    VOUCH_ASSIGN_OR_RETURN(c.enc, Binary(e, "enc", 256));
    VOUCH_ASSIGN_OR_RETURN(c.ct, Binary(e, "ct", 256));
    out.contributions.push_back(std::move(c));
  }
  // Neither: a renewal (DESIGN.md 5), a fresh certificate for the Z the device already holds.
  // It must carry that certificate; a renewal without one would renew nothing.
  if (out.contributions.empty() && !Leaf(e, "certificate")) {
    return Bad("contribution", "is missing, and so is the certificate a renewal carries");
  }
  VOUCH_ASSIGN_OR_RETURN(out.combined_key, Binary(e, "combined-key", 1024));
  if (Leaf(e, "certificate")) {
    VOUCH_ASSIGN_OR_RETURN(Bytes cert, Binary(e, "certificate", 16 * 1024));
    out.certificate = std::move(cert);
  }
  return out;
}

}  // namespace

Result<Voucher> DecodeVoucher(ByteView text) {
  VOUCH_ASSIGN_OR_RETURN(json doc, ParseJson(text, kMaxVoucherSize, "voucher"));
  return internal::DecodeVoucherTree(doc);
}

Result<Bytes> EncodeVoucher(const Voucher& v) {
  VOUCH_ASSIGN_OR_RETURN(nlohmann::ordered_json tree, internal::VoucherTree(v));
  return ToBytes(Compact(tree));
}

namespace internal {

Result<Voucher> DecodeVoucherTree(const json& doc) {
  if (!doc.is_object() || !doc.contains(kContainer) || !doc[std::string(kContainer)].is_object()) {
    return Error(Code::kMalformed, "voucher has no 'ietf-voucher:voucher' object");
  }
  const json& c = doc[std::string(kContainer)];
  VOUCH_RETURN_IF_ERROR(OneSpellingEach(c));
  Voucher v;
  VOUCH_ASSIGN_OR_RETURN(v.created_on_text, String(c, "created-on", true, 64));
  VOUCH_ASSIGN_OR_RETURN(std::optional<Instant> created, Date(c, "created-on", true));
  v.created_on = *created;
  VOUCH_ASSIGN_OR_RETURN(v.expires_on, Date(c, "expires-on", false));
  // A voucher that expires when or before it is made was never valid; a device without a
  // clock, which skips expiry, must not apply it either.
  if (v.expires_on && *v.expires_on <= v.created_on) return Bad("expires-on", "is not after created-on");
  VOUCH_ASSIGN_OR_RETURN(v.last_renewal_date, Date(c, "last-renewal-date", false));
  VOUCH_ASSIGN_OR_RETURN(v.assertion, String(c, "assertion", true, 64));
  // RFC 8366bis's enumeration: a reader that carried another value would let a signer assert
  // something no verifier knows how to weigh.
  if (!IsKnownAssertion(v.assertion)) {
    return Bad("assertion", "is not verified, logged, proximity or agent-proximity");
  }
  VOUCH_ASSIGN_OR_RETURN(v.serial_number, String(c, "serial-number", true, 256));
  if (v.serial_number.empty()) return Bad("serial-number", "is empty");
  VOUCH_ASSIGN_OR_RETURN(v.pinned_domain_cert, Binary(c, "pinned-domain-cert", 16 * 1024));
  if (const json* n = Leaf(c, "nonce")) {
    // Opaque: a string as written, anything else (rare, non-conforming) as its JSON text.
    v.nonce = n->is_string() ? n->get<std::string>() : n->dump();
  }
  if (Leaf(c, "idevid-issuer")) {
    VOUCH_ASSIGN_OR_RETURN(std::string issuer, String(c, "idevid-issuer", false));
    v.idevid_issuer = issuer;
  }
  if (const json* b = Leaf(c, "domain-cert-revocation-checks")) {
    if (b->is_boolean()) v.domain_cert_revocation_checks = b->get<bool>();
    else if (*b == "true") v.domain_cert_revocation_checks = true;
    else if (*b == "false") v.domain_cert_revocation_checks = false;
    else return Bad("domain-cert-revocation-checks", "is not a boolean");
  }
  if (auto it = c.find(std::string(kAugment)); it != c.end()) {
    VOUCH_ASSIGN_OR_RETURN(Enrollment e, DecodeEnrollment(*it));
    v.enrollment = std::move(e);
  }
  return v;
}

Result<nlohmann::ordered_json> VoucherTree(const Voucher& v) {
  // Whole seconds in UTC only: pledges (nqminds/brski among them) read these leaves with
  // strptime("%Y-%m-%dT%H:%M:%SZ") and refuse a fraction or an offset.
  auto time = [](const char* leaf, Instant t) -> Result<std::string> {
    if (!t.IsWholeSecond()) return Bad(leaf, "is not a whole second; vouchers carry whole seconds (formats/voucher.md)");
    return FormatDateTime(t);
  };
  nlohmann::ordered_json c;
  VOUCH_ASSIGN_OR_RETURN(c["created-on"], time("created-on", v.created_on));
  if (v.expires_on) {
    VOUCH_ASSIGN_OR_RETURN(c["expires-on"], time("expires-on", *v.expires_on));
  }
  c["assertion"] = v.assertion;
  c["serial-number"] = v.serial_number;
  if (v.nonce) c["nonce"] = *v.nonce;
  if (v.idevid_issuer) c["idevid-issuer"] = *v.idevid_issuer;
  if (v.domain_cert_revocation_checks) c["domain-cert-revocation-checks"] = *v.domain_cert_revocation_checks;
  if (v.last_renewal_date) {
    VOUCH_ASSIGN_OR_RETURN(c["last-renewal-date"], time("last-renewal-date", *v.last_renewal_date));
  }
  c["pinned-domain-cert"] = Base64Encode(v.pinned_domain_cert);
  if (v.enrollment) {
    const Enrollment& e = *v.enrollment;
    nlohmann::ordered_json a;
    a["device-key"] = e.device_key;
    a["suite"] = e.suite;
    if (e.contributions.empty()) {
      // A renewal: no contribution at all (DESIGN.md 5).
    } else if (e.contributions.size() == 1 && !e.contributions[0].key) {
      // A voucher of the older form, re-encoded as it was written.
      a["enc"] = Base64Encode(e.contributions[0].enc);
      a["ct"] = Base64Encode(e.contributions[0].ct);
    } else {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const SealedContribution& c : e.contributions) {
        nlohmann::ordered_json item;
        item["contribution-key"] = c.key ? Base64Encode(*c.key) : std::string();
        item["enc"] = Base64Encode(c.enc);
        item["ct"] = Base64Encode(c.ct);
        item["contribution-proof"] = c.proof ? Base64Encode(*c.proof) : std::string();
        list.push_back(std::move(item));
      }
      a["contribution"] = std::move(list);
    }
    a["combined-key"] = Base64Encode(e.combined_key);
    if (e.certificate) a["certificate"] = Base64Encode(*e.certificate);
    c[std::string(kAugment)] = std::move(a);
  }
  nlohmann::ordered_json doc;
  doc[std::string(kContainer)] = std::move(c);
  return doc;
}

}  // namespace internal

}  // namespace vouch::formats
