// Plain RFC 8366 vouchers (formats/voucher.md, "Plain vouchers"): no vouch-enroll:enrollment,
// whole-second times, what carries them and what refuses them.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <regex>
#include <set>

#include "formats/issuing.h"
#include "formats/jws.h"
#include "formats/layout.h"
#include "formats/request.h"
#include "formats/voucher_json.h"
#include "libvoucher/encoding.h"
#include "libvoucher/file.h"
#include "pki.h"
#include "testutil.h"

using namespace vouch;
using namespace vouch::formats;

namespace {

PlainRequest Plain(const test::Pki& pki, Instant created_on = Instant::Now()) {
  PlainRequest r;
  r.serial_number = "SN-PLAIN";
  r.domain_ca = pki.owner_ca;
  r.created_on = created_on;
  r.expires_on = created_on.Plus(7 * 86400);
  return r;
}

// Exactly what RFC 8366 section 5.3 defines inside ietf-voucher:voucher, and nothing beside it.
void CheckOnlyRfc8366(ByteView json_bytes) {
  auto doc = nlohmann::json::parse(AsChars(json_bytes));
  REQUIRE(doc.size() == 1);
  REQUIRE(doc.contains("ietf-voucher:voucher"));
  const std::set<std::string> leaves = {"created-on", "expires-on", "assertion", "serial-number", "idevid-issuer",
                                        "pinned-domain-cert", "domain-cert-revocation-checks", "nonce", "last-renewal-date"};
  for (const auto& [name, value] : doc["ietf-voucher:voucher"].items()) {
    INFO(name);
    CHECK(leaves.count(name) == 1);
  }
}

}  // namespace

TEST_CASE("a plain voucher round-trips with only RFC 8366 leaves and whole seconds", "[plain]") {
  test::Pki pki = test::Pki::Make();
  Instant now = Instant{Instant::Now().WholeSeconds().micros + 654321};  // a fraction to drop
  auto v = DraftPlain(Plain(pki, now));
  REQUIRE(v.ok());
  CHECK_FALSE(v->enrollment.has_value());
  CHECK(v->created_on == now.WholeSeconds());
  CHECK(*v->expires_on == now.WholeSeconds().Plus(7 * 86400));
  auto json = EncodeVoucher(*v);
  REQUIRE(json.ok());
  CheckOnlyRfc8366(*json);
  std::string text(AsChars(*json));
  std::smatch m;
  REQUIRE(std::regex_search(text, m, std::regex(R"re("created-on":"([^"]*)")re")));
  CHECK(std::regex_match(m[1].str(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  auto back = DecodeVoucher(*json);
  REQUIRE(back.ok());
  CHECK_FALSE(back->enrollment.has_value());
  CHECK(back->created_on == v->created_on);
  CHECK(back->expires_on == v->expires_on);
  CHECK(back->serial_number == "SN-PLAIN");
  CHECK(back->pinned_domain_cert == pki.owner_ca.Der());
  CHECK(*EncodeVoucher(*back) == *json);
  // Signed as JWS and CMS, it verifies to the manufacturer's root like any voucher.
  for (EnvelopeKind kind : {EnvelopeKind::kJws, EnvelopeKind::kCms}) {
    auto issued = IssuePlain(Plain(pki), kind, pki.Manufacturer());
    REQUIRE(issued.ok());
    CHECK(issued->device_udf.empty());
    CHECK(issued->combined_key.empty());
    auto verified = VerifyVoucher(issued->envelope, {pki.mfr_root}, TimePolicy::Now());
    REQUIRE(verified.ok());
    CHECK_FALSE(verified->voucher.enrollment.has_value());
  }
  CHECK(DraftPlain([&] { auto r = Plain(pki); r.serial_number.clear(); return r; }()).status().code() == Code::kUsage);
}

TEST_CASE("a plain voucher is filed under its serial's UDF, so pledges find it by serial", "[plain]") {
  test::Pki pki = test::Pki::Make();
  auto issued = IssuePlain(Plain(pki), EnvelopeKind::kJws, pki.Manufacturer());
  REQUIRE(issued.ok());
  CHECK(issued->device_udf.empty());
  CHECK(issued->filed_under == SerialUdf(issued->serial_number));
  CHECK(SerialUdf("SN-1") != SerialUdf("SN-2"));
  CHECK(SerialUdf("SN-1").size() == 34);  // 140 bits, like a key's UDF
  auto entry = LayoutEntryOf(issued->envelope);
  REQUIRE(entry.ok());
  CHECK(entry->device_udf == SerialUdf(issued->serial_number));
  test::TempDir dir;
  CHECK(WriteIssued(issued->envelope, "", {"", dir.path().string(), false}).status().code() == Code::kUsage);
  CHECK(FileEnvelope(issued->envelope, "", dir.path().string()).status().code() == Code::kMalformed);
  CHECK(std::filesystem::is_empty(dir.path()));
  auto filed = WriteIssued(issued->envelope, issued->filed_under, {"", dir.path().string(), false});
  REQUIRE(filed.ok());
  CHECK(*filed == (dir.path() / LayoutPath(*entry)).string());
  auto written = WriteIssued(issued->envelope, "", {(dir.path() / "p.vjj").string(), "", false});
  REQUIRE(written.ok());
  CHECK(*ReadFile(dir.path() / "p.vjj", kMaxVoucherSize) == issued->envelope.bytes);
}

TEST_CASE("a plain request carries no contribution key, and a key beside a plain voucher is refused", "[plain]") {
  test::Pki pki = test::Pki::Make();
  Voucher v = *DraftPlain(Plain(pki));
  auto request = EncodePlainRequest(v, pki.Owner());
  REQUIRE(request.ok());
  auto opened = OpenRequest(*request, {pki.owner_ca}, TimePolicy::Now());
  REQUIRE(opened.ok());
  CHECK_FALSE(opened->contribution.has_value());
  CHECK_FALSE(opened->voucher.enrollment.has_value());
  CHECK(opened->voucher_json == *EncodeVoucher(v));
  // Signed by someone other than the domain it pins: refused, as for enrolling requests.
  CHECK(OpenRequest(*EncodePlainRequest(v, pki.Stranger()), {}, TimePolicy::Now()).status().code() ==
        Code::kUntrustedSigner);
  // A contribution-key beside a plain voucher is a check no one can make: malformed.
  nlohmann::ordered_json doc;
  doc["vouch-request"]["voucher"] = Base64Encode(*EncodeVoucher(v));
  doc["vouch-request"]["contribution-key"] = Base64Encode(PrivateKey::Generate()->Public().SpkiDer());
  auto forged = SignJws(AsBytes(doc.dump()), pki.Owner(), kRequestTyp);
  REQUIRE(forged.ok());
  CHECK(OpenRequest(*forged, {}, TimePolicy::Now()).status().code() == Code::kMalformed);
  // And an enrolling voucher without one.
  Draft d = *DraftVoucher(pki.Request(PrivateKey::Generate()->Public(), "SN-1"));
  nlohmann::ordered_json bare;
  bare["vouch-request"]["voucher"] = Base64Encode(*EncodeVoucher(d.voucher));
  auto without = SignJws(AsBytes(bare.dump()), pki.Owner(), kRequestTyp);
  REQUIRE(without.ok());
  CHECK(OpenRequest(*without, {}, TimePolicy::Now()).status().code() == Code::kMalformed);
  CHECK(EncodePlainRequest(d.voucher, pki.Owner()).status().code() == Code::kUsage);
}
