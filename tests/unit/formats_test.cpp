#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <openssl/cms.h>
#include <openssl/objects.h>

#include <algorithm>
#include <random>
#include <regex>

#include "formats/cms.h"
#include "formats/datetime.h"
#include "formats/devices_csv.h"
#include "formats/json.h"
#include "formats/jws.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"
#include "libvoucher/encoding.h"
#include "libvoucher/signing_key.h"
#include "libvoucher/file.h"
#include "libvoucher/udf.h"
#include "cms_by_hand.h"
#include "pki.h"
#include "testutil.h"

using namespace vouch;
using namespace vouch::formats;

namespace {

Bytes SampleVoucher(const test::Pki& pki) {
  auto x = *PrivateKey::Generate();
  return *EncodeVoucher(DraftVoucher(pki.Request(x.Public(), "SN-1"))->voucher);
}

std::string S(ByteView b) { return std::string(AsChars(b)); }

// `text` with the first `from` replaced by `to`; `from` must be there.
std::string Replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("hostile JSON: nesting, duplicate names, trailing bytes and a byte-order mark are refused", "[json]") {
  auto parse = [](const std::string& s) { return ParseJson(AsBytes(s), 1 << 20, "doc"); };
  auto nested = [](int n) { return std::string(n, '[') + std::string(n, ']'); };
  // The document is depth 0: kMaxJsonDepth + 1 arrays put the innermost at depth kMaxJsonDepth.
  CHECK(parse(nested(kMaxJsonDepth + 1)).ok());
  auto deep = parse(nested(kMaxJsonDepth + 2));
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.status().message() == "doc nests deeper than 16 levels");
  // Every event counts: a member's name and a scalar at depth 17 are refused like a container.
  auto wrapped = [](int n, const std::string& inner) { return std::string(n, '[') + inner + std::string(n, ']'); };
  CHECK(parse(wrapped(kMaxJsonDepth, "{}")).ok());
  CHECK(parse(wrapped(kMaxJsonDepth - 1, R"({"a":1})")).ok());
  CHECK(parse(wrapped(kMaxJsonDepth, R"({"a":1})")).status().message() == "doc nests deeper than 16 levels");
  CHECK(parse(wrapped(kMaxJsonDepth, "1")).ok());
  CHECK(parse(wrapped(kMaxJsonDepth + 1, "1")).status().message() == "doc nests deeper than 16 levels");

  auto twice = parse(R"({"a":{"b":1,"c":[{"b":2}],"b":3}})");
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.status().code() == Code::kMalformed);
  CHECK(twice.status().message() == "doc has the member \"b\" twice");
  // A name is quoted as printable ASCII; a bad token's bytes are not repeated at all.
  CHECK(parse("{\"\\u001b[31m\xe2\x80\xae\":1,\"\\u001b[31m\xe2\x80\xae\":2}").status().message() ==
        "doc has the member \"\\u001b[31m\\u202e\" twice");
  for (std::string bad : {"[\"\xe9\xff", "{\"secret\" x", "[\x1b[31m]"}) {
    auto refused = parse(bad);
    REQUIRE(refused.status().code() == Code::kMalformed);
    CHECK(refused.status().message().find("last read") == std::string::npos);
    CHECK(refused.status().message().find("secret") == std::string::npos);
    CHECK(refused.status().message().find('\x1b') == std::string::npos);
    CHECK(refused.status().message().find('\xff') == std::string::npos);
  }
  CHECK(parse("[1e999]").status().code() == Code::kMalformed);  // overflows a double
  // The same name in sibling objects is not a duplicate.
  auto siblings = parse(R"({"a":[{"b":1},{"b":2}],"c":{"b":3},"b":4})");
  REQUIRE(siblings.ok());
  CHECK((*siblings)["a"][1]["b"] == 2);
  CHECK((*siblings)["b"] == 4);

  CHECK(parse("{\"a\":1} x").status().code() == Code::kMalformed);
  CHECK(parse("{\"a\":1} \n").ok());
  CHECK(parse("\xEF\xBB\xBF{}").status().message() == "doc starts with a byte-order mark");
  CHECK(parse("\"\xff\"").status().code() == Code::kMalformed);
  CHECK(parse("").status().code() == Code::kMalformed);
  CHECK(ParseJson(AsBytes(std::string(11, ' ')), 10, "doc").status().code() == Code::kTooLarge);

  // Every JSON type lands where the text put it, as nlohmann's own parser places it.
  std::string all = R"({"n":null,"t":true,"f":false,"i":-3,"u":18446744073709551615,"d":0.5,"s":"\u00e9",)"
                    R"("a":[1,[2,{"x":[]}],{}],"o":{"p":{"q":"r"}}})";
  auto doc = parse(all);
  REQUIRE(doc.ok());
  CHECK(*doc == nlohmann::json::parse(all));
  CHECK(parse("7").value() == 7);
}

TEST_CASE("an object of 100,000 objects parses in one pass", "[json]") {
  // nlohmann's parse-with-callback is quadratic here (issue 16's sanitizer CI failure); this
  // one is not. Correctness only: the time is bench_fetch's.
  std::string s = "{";
  for (int i = 0; i < 100000; ++i) s += (i ? ",\"" : "\"") + std::to_string(i) + "\":{\"v\":" + std::to_string(i) + "}";
  s += "}";
  auto doc = ParseJson(AsBytes(s), 1 << 24, "doc");
  REQUIRE(doc.ok());
  CHECK(doc->size() == 100000);
  CHECK((*doc)["99999"]["v"] == 99999);
}

TEST_CASE("RFC 3339 date-times parse with fractions, offsets and lower case", "[datetime]") {
  CHECK(ParseDateTime("1970-01-01T00:00:00Z")->micros == 0);
  CHECK(ParseDateTime("2026-11-27T10:00:00Z")->seconds() == 1795773600);
  CHECK(ParseDateTime("2026-11-27T12:00:00+02:00")->seconds() == 1795773600);
  CHECK(ParseDateTime("2026-11-27t10:00:00z")->seconds() == 1795773600);
  CHECK(ParseDateTime("2022-07-10T17:08:18.720-04:00")->micros == 1657487298720000);
  CHECK(FormatDateTime(*ParseDateTime("2026-11-27T10:00:00Z")) == "2026-11-27T10:00:00Z");
  CHECK(FormatDateTime(Instant{1657487298720000}) == "2022-07-10T21:08:18.720000Z");
  for (const char* bad : {"2026-11-27", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-27T10:00:00",
                          "2026-11-27T25:00:00Z", "2026-11-27T10:00:00+2:00", "2026-11-27T10:00:00Zjunk", "."}) {
    INFO(bad);
    CHECK(ParseDateTime(bad).status().code() == Code::kMalformed);
  }
  CHECK(*ParseDuration("30d") == 30 * 86400);
  CHECK(*ParseDuration("12h") == 12 * 3600);
  CHECK(ParseDuration("30").status().code() == Code::kUsage);
  CHECK(ParseDuration("d").status().code() == Code::kUsage);
}

TEST_CASE("vouchers carry whole-second UTC times, drafted truncated and never written with a fraction", "[voucher-time]") {
  test::Pki pki = test::Pki::Make();
  const std::regex whole(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  // Drafting truncates to the second at or before: created-on, and expires-on with it.
  DraftRequest r = pki.Request(PrivateKey::Generate()->Public(), "SN-1");
  r.created_on = Instant{ParseDateTime("2026-11-27T10:00:00Z")->micros + 999999};
  r.expires_on = *ParseDateTime("2026-12-27T10:00:00.5Z");
  Voucher v = DraftVoucher(r)->voucher;
  CHECK(v.created_on == *ParseDateTime("2026-11-27T10:00:00Z"));
  CHECK(*v.expires_on == *ParseDateTime("2026-12-27T10:00:00Z"));
  std::string text = S(*EncodeVoucher(v));
  CHECK(text.find(R"("created-on":"2026-11-27T10:00:00Z")") != std::string::npos);
  CHECK(text.find(R"("expires-on":"2026-12-27T10:00:00Z")") != std::string::npos);
  // Within one second, created-on and expires-on collapse: the draft is refused, not written.
  r.created_on = Instant{ParseDateTime("2026-11-27T10:00:00Z")->micros + 200000};
  r.expires_on = Instant{ParseDateTime("2026-11-27T10:00:00Z")->micros + 700000};
  CHECK(DraftVoucher(r).status().code() == Code::kUsage);
  // Renewals too.
  RenewalRequest renewal;
  renewal.device_key = r.device_key;
  renewal.combined_key = r.device_key;
  renewal.serial_number = "SN-1";
  renewal.domain_ca = pki.owner_ca;
  renewal.domain_ca_key = pki.owner_key;
  renewal.created_on = Instant{Instant::Now().micros | 1};
  CHECK(DraftRenewal(renewal)->created_on.IsWholeSecond());
  // The encoder refuses a fraction, naming the leaf, rather than sign another time than the model holds.
  Voucher frac = v;
  frac.created_on.micros += 1;
  CHECK(EncodeVoucher(frac).status().code() == Code::kMalformed);
  CHECK_THAT(EncodeVoucher(frac).status().message(), Catch::Contains("created-on"));
  frac = v;
  frac.expires_on->micros += 500000;
  CHECK_THAT(EncodeVoucher(frac).status().message(), Catch::Contains("expires-on"));
  frac = v;
  frac.last_renewal_date = Instant{1};
  CHECK_THAT(EncodeVoucher(frac).status().message(), Catch::Contains("last-renewal-date"));
  frac.last_renewal_date = Instant::FromSeconds(1);
  CHECK(S(*EncodeVoucher(frac)).find(R"("last-renewal-date":"1970-01-01T00:00:01Z")") != std::string::npos);
  // A voucher read with an offset is written back in UTC Z, whatever text it was read from.
  std::string offset = Replaced(text, "2026-11-27T10:00:00Z", "2026-11-27T12:00:00+02:00");
  auto read = DecodeVoucher(AsBytes(offset));
  REQUIRE(read.ok());
  CHECK(read->created_on_text == "2026-11-27T12:00:00+02:00");
  CHECK(S(*EncodeVoucher(*read)) == text);
  // Every time an issued voucher carries matches what strptime("%Y-%m-%dT%H:%M:%SZ") reads.
  std::string now = S(SampleVoucher(pki));
  for (const char* leaf : {"\"created-on\":\""}) {
    auto at = now.find(leaf);
    REQUIRE(at != std::string::npos);
    at += std::string(leaf).size();
    CHECK(std::regex_match(now.substr(at, now.find('"', at) - at), whole));
  }
}

TEST_CASE("a voucher survives encode and decode unchanged", "[voucher-json]") {
  test::Pki pki = test::Pki::Make();
  Bytes json = SampleVoucher(pki);
  auto v = DecodeVoucher(json);
  REQUIRE(v.ok());
  CHECK(*EncodeVoucher(*v) == json);
  CHECK(v->serial_number == "SN-1");
  REQUIRE(v->enrollment);
  REQUIRE(v->enrollment->contributions.size() == 1);
  CHECK(v->enrollment->contributions[0].key->size() == kSpkiDerSize);
  CHECK(v->enrollment->contributions[0].enc.size() == 65);
  CHECK(v->enrollment->contributions[0].ct.size() == 48);
  CHECK(v->enrollment->certificate.has_value());
  // Members come in the order DESIGN.md section 5 shows.
  std::string text = S(json);
  CHECK(text.find("\"created-on\"") < text.find("\"assertion\""));
  CHECK(text.find("\"assertion\"") < text.find("\"serial-number\""));
  CHECK(text.find("\"device-key\"") < text.find("\"suite\""));
  CHECK(text.find("\"contribution-key\"") < text.find("\"enc\""));
  CHECK(text.find("\"enc\"") < text.find("\"ct\""));
}

TEST_CASE("the decoder tolerates real-world variants of leaves it does not need", "[voucher-json]") {
  test::Pki pki = test::Pki::Make();
  std::string cert = Base64Encode(pki.owner_ca.Der());
  std::string doc = R"({"ietf-voucher:voucher":{"ietf-voucher:created-on":"2022-07-10T17:08:18.720-04:00",)"
                    R"("assertion":"logged","serial-number":"00-D0","nonce":12345,"unknown-leaf":{"x":[1,2]},)"
                    R"("domain-cert-revocation-checks":"true","last-renewal-date":"2030-01-01T00:00:00+01:00",)"
                    R"("pinned-domain-cert":")" + cert + R"("}})";
  auto v = DecodeVoucher(AsBytes(doc));
  REQUIRE(v.ok());
  CHECK(v->created_on.micros == 1657487298720000);
  CHECK(v->nonce == "12345");
  CHECK(v->domain_cert_revocation_checks == true);
  CHECK_FALSE(v->enrollment.has_value());
}

TEST_CASE("the decoder refuses what enrollment depends on when it is wrong", "[voucher-json]") {
  test::Pki pki = test::Pki::Make();
  std::string good = S(SampleVoucher(pki));
  auto with = [&](const std::string& from, const std::string& to) { return Replaced(good, from, to); };
  auto code = [](const std::string& s) { return DecodeVoucher(AsBytes(s)).status().code(); };
  CHECK(code(with("\"created-on\"", "\"created-at\"")) == Code::kMalformed);
  CHECK(code(with("\"serial-number\":\"SN-1\"", "\"serial-number\":7")) == Code::kMalformed);
  CHECK(code(with("\"enc\":\"", "\"enc\":\"!")) == Code::kMalformed);
  CHECK(code(with("\"device-key\":\"M", "\"device-key\":\"1")) == Code::kMalformed);
  CHECK(code(with("\"vouch-enroll:enrollment\":{", "\"vouch-enroll:enrollment\":{\"suite\":\"x\",")) == Code::kMalformed);  // duplicate
  CHECK(code(good.substr(0, good.size() / 2)) == Code::kMalformed);  // truncated
  CHECK(code("not json") == Code::kMalformed);
  CHECK(code("[]") == Code::kMalformed);
  CHECK(code(std::string(20, '[') + std::string(20, ']')) == Code::kMalformed);  // too deep
  CHECK(code(std::string(kMaxVoucherSize + 1, ' ')) == Code::kTooLarge);
}

TEST_CASE("the decoder refuses unknown assertions, two spellings of a leaf, and expiry before creation",
          "[voucher-json]") {
  test::Pki pki = test::Pki::Make();
  std::string good = S(SampleVoucher(pki));
  auto with = [&](const std::string& from, const std::string& to) { return Replaced(good, from, to); };
  auto decode = [](const std::string& s) { return DecodeVoucher(AsBytes(s)).status(); };
  for (const char* a : {"verified", "logged", "proximity", "agent-proximity"}) {
    CHECK(decode(with("\"assertion\":\"verified\"", std::string("\"assertion\":\"") + a + "\"")).ok());
  }
  for (const char* a : {"Verified", "trusted", "", "verified "}) {
    INFO(a);
    auto s = decode(with("\"assertion\":\"verified\"", std::string("\"assertion\":\"") + a + "\""));
    CHECK(s.code() == Code::kMalformed);
    CHECK(s.message().find("assertion") != std::string::npos);
  }
  // RFC 7951 lets a writer qualify a member; one that writes both has said two things.
  auto twice = decode(with("\"serial-number\":\"SN-1\"", "\"serial-number\":\"SN-1\",\"ietf-voucher:serial-number\":\"SN-2\""));
  CHECK(twice.code() == Code::kMalformed);
  CHECK(twice.message().find("'serial-number'") != std::string::npos);
  CHECK(decode(with("\"serial-number\":\"SN-1\"", "\"ietf-voucher:serial-number\":\"SN-1\"")).ok());
  CHECK(decode(with("\"assertion\":\"verified\"", "\"assertion\":\"verified\",\"ietf-voucher:assertion\":\"verified\""))
            .code() == Code::kMalformed);
  // expires-on must come after created-on.
  std::string created = DecodeVoucher(AsBytes(good))->created_on_text;
  auto expiring = [&](const std::string& when) {
    return decode(with("\"assertion\"", "\"expires-on\":\"" + when + "\",\"assertion\""));
  };
  CHECK(expiring("2999-01-01T00:00:00Z").ok());
  CHECK(expiring(created).code() == Code::kMalformed);
  CHECK(expiring("2000-01-01T00:00:00Z").code() == Code::kMalformed);
  CHECK(expiring("2000-01-01T00:00:00Z").message().find("expires-on") != std::string::npos);
}

TEST_CASE("a byte-order mark before a voucher, its payload or its envelope is refused", "[voucher-json][jws][cms]") {
  test::Pki pki = test::Pki::Make();
  Bytes payload = SampleVoucher(pki);
  Bytes bom = {0xEF, 0xBB, 0xBF};
  Bytes with_bom = bom;
  with_bom.insert(with_bom.end(), payload.begin(), payload.end());
  CHECK(DecodeVoucher(payload).ok());
  auto s = DecodeVoucher(with_bom).status();
  CHECK(s.code() == Code::kMalformed);
  CHECK(s.message().find("byte-order mark") != std::string::npos);
  for (auto kind : {EnvelopeKind::kJws, EnvelopeKind::kCms}) {
    Bytes env = *SignEnvelope(kind, with_bom, pki.Manufacturer());
    CHECK(VerifyEnvelope(env, {pki.mfr_root}, TimePolicy::Now()).ok());  // the signature is good...
    CHECK(VerifyVoucher(env, {pki.mfr_root}, TimePolicy::Now()).status().code() == Code::kMalformed);  // ...the voucher is not
  }
  Bytes jws = bom;
  Bytes good = *SignJws(payload, pki.Manufacturer());
  jws.insert(jws.end(), good.begin(), good.end());
  CHECK(VerifyJws(jws, {pki.mfr_root}, TimePolicy::Now()).status().code() == Code::kMalformed);
  CHECK(VerifyVoucher(jws, {pki.mfr_root}, TimePolicy::Now()).status().code() == Code::kMalformed);
}

TEST_CASE("a JWS voucher verifies to the anchor above its signer", "[jws]") {
  test::Pki pki = test::Pki::Make();
  Bytes payload = SampleVoucher(pki);
  auto env = SignJws(payload, pki.Manufacturer());
  REQUIRE(env.ok());
  auto v = VerifyJws(*env, {pki.mfr_root}, TimePolicy::Now());
  REQUIRE(v.ok());
  CHECK(v->payload == payload);
  CHECK(v->anchor == pki.mfr_root);
  CHECK(v->signer == pki.mfr_signer);
  // The signer certificate itself may be the anchor (partial chain).
  CHECK(VerifyJws(*env, {pki.mfr_signer}, TimePolicy::Now()).ok());
  CHECK(VerifyJws(*env, {pki.stranger}, TimePolicy::Now()).status().code() == Code::kUntrustedSigner);
  CHECK(VerifyJws(*env, {}, TimePolicy::Now()).status().code() == Code::kUntrustedSigner);
}

TEST_CASE("a JWS with a changed payload or signature is refused as bad-signature", "[jws]") {
  test::Pki pki = test::Pki::Make();
  auto env = S(*SignJws(SampleVoucher(pki), pki.Manufacturer()));
  auto doc = nlohmann::json::parse(env);
  std::string payload = doc["payload"];
  payload[20] = payload[20] == 'A' ? 'B' : 'A';
  auto t1 = doc;
  t1["payload"] = payload;
  CHECK(VerifyJws(AsBytes(t1.dump()), {pki.mfr_root}, TimePolicy::Now()).status().code() == Code::kBadSignature);
  std::string sig = doc["signatures"][0]["signature"];
  sig[5] = sig[5] == 'A' ? 'B' : 'A';
  auto t2 = doc;
  t2["signatures"][0]["signature"] = sig;
  CHECK(VerifyJws(AsBytes(t2.dump()), {pki.mfr_root}, TimePolicy::Now()).status().code() == Code::kBadSignature);
}

TEST_CASE("a voucher has exactly one signer, in JWS as in CMS", "[jws][cms]") {
  test::Pki pki = test::Pki::Make();
  Bytes payload = SampleVoucher(pki);
  std::vector<Certificate> anchors = {pki.mfr_root, pki.stranger};
  // Two signatures that each verify to a held anchor: neither "any" nor "all" is taken.
  auto good = nlohmann::json::parse(S(*SignJws(payload, pki.Manufacturer())));
  PrivateKey key = *PrivateKey::Generate();
  Signer second_signer{key, {*IssueCertificate(pki.mfr_root, pki.mfr_root_key, key.Public(), test::Spec("Second"))}};
  for (const auto& signer : {second_signer, pki.Stranger()}) {
    auto second = nlohmann::json::parse(S(*SignJws(payload, signer)));
    nlohmann::json both = {{"payload", good["payload"]}, {"signatures", {second["signatures"][0], good["signatures"][0]}}};
    auto v = VerifyJws(AsBytes(both.dump()), anchors, TimePolicy::Now());
    CHECK(v.status().code() == Code::kMalformed);
    CHECK(v.status().message().find("exactly one signer") != std::string::npos);
    CHECK(OpenJwsUnverified(AsBytes(both.dump()))->signatures == 2);  // inspect still shows both
    CHECK(VerifyCms(test::CmsSignedBy(payload, {pki.Manufacturer(), signer}), anchors, TimePolicy::Now()).status().code() ==
          Code::kMalformed);
  }
  CHECK(VerifyCms(test::CmsSignedBy(payload, {pki.Manufacturer()}), anchors, TimePolicy::Now()).ok());
}

TEST_CASE("JWS readers accept escaped slashes and a missing typ", "[jws]") {
  test::Pki pki = test::Pki::Make();
  Bytes payload = SampleVoucher(pki);
  // Header without typ, and with x5c written with "\/" escapes (legal JSON).
  std::string x5c = Base64Encode(pki.mfr_signer.Der());
  std::string escaped;
  for (char c : x5c) escaped += c == '/' ? std::string("\\/") : std::string(1, c);
  std::string header = R"({"alg":"ES256","x5c":[")" + escaped + R"("]})";
  std::string p64 = Base64UrlEncode(payload), h64 = Base64UrlEncode(AsBytes(header));
  Bytes sig = *SigningKey(pki.mfr_signer_key).Sign(AsBytes(h64 + "." + p64));
  std::string flat = R"({"payload":")" + p64 + R"(","protected":")" + h64 + R"(","signature":")" +
                     Base64UrlEncode(sig) + R"("})";
  CHECK(VerifyJws(AsBytes(flat), {pki.mfr_root}, TimePolicy::Now()).ok());
}

TEST_CASE("JWS headers asking for other algorithms or critical extensions are refused", "[jws]") {
  test::Pki pki = test::Pki::Make();
  std::string p64 = Base64UrlEncode(SampleVoucher(pki));
  auto with_header = [&](const std::string& h) {
    std::string h64 = Base64UrlEncode(AsBytes(h));
    Bytes sig = *SigningKey(pki.mfr_signer_key).Sign(AsBytes(h64 + "." + p64));
    return R"({"payload":")" + p64 + R"(","signatures":[{"protected":")" + h64 + R"(","signature":")" +
           Base64UrlEncode(sig) + R"("}]})";
  };
  std::string cert = Base64Encode(pki.mfr_signer.Der());
  auto code = [&](const std::string& h) {
    return VerifyJws(AsBytes(with_header(h)), {pki.mfr_root}, TimePolicy::Now()).status().code();
  };
  CHECK(code(R"({"alg":"none","x5c":[")" + cert + R"("]})") == Code::kUnsupported);
  CHECK(code(R"({"alg":"HS256","x5c":[")" + cert + R"("]})") == Code::kUnsupported);
  CHECK(code(R"({"alg":"ES256","crit":["b64"],"b64":false,"x5c":[")" + cert + R"("]})") == Code::kUnsupported);
  CHECK(code(R"({"alg":"ES256","typ":"JWT","x5c":[")" + cert + R"("]})") == Code::kMalformed);
  CHECK(code(R"({"alg":"ES256","typ":"voucher-jws+json","x5c":[")" + cert + R"("]})") == Code::kOk);
}

TEST_CASE("a CMS voucher carries id-ct-animaJSONVoucher and verifies", "[cms]") {
  test::Pki pki = test::Pki::Make();
  Bytes payload = SampleVoucher(pki);
  auto env = SignCms(payload, pki.Manufacturer());
  REQUIRE(env.ok());
  const unsigned char* p = env->data();
  CMS_ContentInfo* cms = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(env->size()));
  REQUIRE(cms);
  char oid[64];
  OBJ_obj2txt(oid, sizeof oid, CMS_get0_eContentType(cms), 1);
  CHECK(std::string(oid) == kAnimaJsonVoucherOid);
  CHECK(CMS_signed_get_attr_count(sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0)) > 0);  // signedAttrs
  CMS_ContentInfo_free(cms);
  auto v = VerifyCms(*env, {pki.mfr_root}, TimePolicy::Now());
  REQUIRE(v.ok());
  CHECK(v->payload == payload);
  CHECK(v->anchor == pki.mfr_root);
  CHECK(VerifyCms(*env, {pki.stranger}, TimePolicy::Now()).status().code() == Code::kUntrustedSigner);
}

TEST_CASE("a CMS voucher with a changed byte is refused", "[cms]") {
  test::Pki pki = test::Pki::Make();
  Bytes env = *SignCms(SampleVoucher(pki), pki.Manufacturer());
  // Flip a byte inside the JSON payload (find the container name and change a letter).
  std::string s = S(env);
  auto at = s.find("serial-number\":\"SN-1");
  REQUIRE(at != std::string::npos);
  Bytes tampered = env;
  tampered[at + 17] = '2';
  CHECK(VerifyCms(tampered, {pki.mfr_root}, TimePolicy::Now()).status().code() == Code::kBadSignature);
  Bytes truncated(env.begin(), env.end() - 10);
  CHECK(VerifyCms(truncated, {pki.mfr_root}, TimePolicy::Now()).status().code() == Code::kMalformed);
}

TEST_CASE("the RFC 8366bis JWS and anima-wg CMS examples verify, and are expired today", "[vectors]") {
  struct Case { const char* voucher; const char* anchor; const char* inside; };
  for (Case c : {Case{"rfc8366bis-example-voucher.vjj", "rfc8366bis-example-masa.crt", "2022-01-01T00:00:00Z"},
                 Case{"anima-wg-voucher_00-D0-E5-F2-00-02.vcj", "anima-wg-masa-00-D0-E5-F2-00-02.crt", "2022-07-11T00:00:00Z"}}) {
    INFO(c.voucher);
    Bytes env = *ReadFile(test::VectorPath(c.voucher), kMaxVoucherSize);
    auto anchors = *LoadCertificates(test::VectorPath(c.anchor));
    auto none = VerifyVoucher(env, anchors, TimePolicy::None());
    REQUIRE(none.ok());
    CHECK_FALSE(none->voucher.serial_number.empty());
    CHECK(VerifyVoucher(env, anchors, TimePolicy::At(*ParseDateTime(c.inside))).ok());
    auto now = VerifyVoucher(env, anchors, TimePolicy::Now());
    CHECK(now.status().code() == Code::kExpired);
    CHECK(now.status().message().find("expired") != std::string::npos);
    Certificate stranger = test::Pki::Make().stranger;
    CHECK(VerifyVoucher(env, {stranger}, TimePolicy::None()).status().code() == Code::kUntrustedSigner);
  }
}

// CanonicalUdf checks text character by character; it must say exactly what parsing the
// UDF and writing it back would.
TEST_CASE("CanonicalUdf agrees with Udf::Parse and ToString", "[layout]") {
  auto by_parse = [](std::string_view text, int bits) {
    auto u = udf::Udf::Parse(text);
    return u.ok() && u->bits() == bits && u->ToString() == text ? std::string(text) : std::string();
  };
  std::mt19937 rng(7);
  const std::string alphabet = "ABCZ2367abz-01 ";
  std::vector<std::string> texts = {"", "-", PrivateKey::Generate()->Public().Fingerprint(),
                                    formats::VoucherId(formats::EnvelopeKind::kJws, Bytes{'{', '}'})};
  for (int i = 0; i < 20000; ++i) {
    std::string t = texts[2 + static_cast<size_t>(i % 2)];
    for (int k = static_cast<int>(rng() % 3); k > 0; --k) {
      size_t at = rng() % (t.size() + 1);
      switch (rng() % 3) {
        case 0: if (at < t.size()) t[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: t.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        case 2: if (at < t.size()) t.erase(at, 1); break;
      }
    }
    texts.push_back(t);
  }
  for (const std::string& t : texts) {
    for (int bits : {udf::kKeyBits, udf::kContentBits, 100, 141, 520}) {
      INFO(t << " " << bits);
      CHECK(formats::CanonicalUdf(t, bits) == by_parse(t, bits));
    }
  }
}

TEST_CASE("layout paths round-trip and malformed ones are refused", "[layout]") {
  auto x = *PrivateKey::Generate();
  std::string dev = x.Public().Fingerprint();
  std::string id = VoucherId(EnvelopeKind::kJws, AsBytes("x"));
  std::string path = LayoutPath({dev, id, EnvelopeKind::kJws});
  std::string c = udf::Udf::Parse(dev)->chars();
  CHECK(path == "vouchers/" + c.substr(1, 2) + "/" + c.substr(3, 2) + "/" + dev + "/" + id + ".vjj");
  auto e = ParseLayoutPath(path);
  REQUIRE(e.ok());
  CHECK(e->device_udf == dev);
  CHECK(e->voucher_id == id);
  CHECK(e->kind == EnvelopeKind::kJws);
  auto code = [](const std::string& p) { return ParseLayoutPath(p).status().code(); };
  CHECK(code("/" + path) == Code::kMalformed);
  CHECK(code("vouchers/ZZ/ZZ/" + dev + "/" + id + ".vjj") == Code::kMalformed);
  CHECK(code("vouchers/" + c.substr(1, 2) + "/" + c.substr(3, 2) + "/" + dev + "/" + id + ".txt") == Code::kMalformed);
  CHECK(code("vouchers/" + c.substr(1, 2) + "/" + c.substr(3, 2) + "/../" + id + ".vjj") == Code::kMalformed);
  std::string lower = path;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(ch));
  CHECK(code(lower) == Code::kMalformed);
}

TEST_CASE("the devices file splits into serials and keys, PEM blocks quoted", "[devices-csv]") {
  std::string text = "serial,public key\n# comment\nSN1,MFkw\n\n\"SN2\",\"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\"\nSN3\n";
  auto lines = ParseDevicesCsv(text);
  REQUIRE(lines.ok());
  REQUIRE(lines->size() == 3);
  CHECK((*lines)[0].serial == "SN1");
  CHECK((*lines)[0].line == 3);
  CHECK((*lines)[1].key_text.find("AAAA") != std::string::npos);
  CHECK((*lines)[1].line == 5);
  CHECK((*lines)[2].key_text.empty());
  CHECK(ParseDevicesCsv("SN1,\"unterminated\n").status().code() == Code::kMalformed);
}

TEST_CASE("the devices file read a block at a time gives the records the whole text gives", "[devices-csv]") {
  test::TempDir tmp;
  // Over three 1 MiB blocks: quoted PEM keys spanning lines (and so block boundaries), blank
  // and comment lines, a line that only looks like a header (not the first: a device).
  std::string text = "serial,public key\n";
  for (int i = 0; i < 50000; ++i) {
    if (i % 7 == 0) text += "\"SN" + std::to_string(i) + "\",\"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\"\n";
    else if (i % 11 == 0) text += "# a comment\n\n";
    else if (i == 12345) text += "serial,MFkw\n";
    else text += "SN" + std::to_string(i) + ",MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + std::string(i % 50, 'A') + "\n";
  }
  REQUIRE(text.size() > (3u << 20));
  test::WriteText(tmp / "fleet.csv", text);
  auto whole = ParseDevicesCsv(text);
  REQUIRE(whole.ok());
  auto file = DevicesFile::Open(tmp / "fleet.csv");
  REQUIRE(file.ok());
  std::vector<DeviceLine> read;
  for (;;) {
    auto chunk = file->Next(1000);
    REQUIRE(chunk.ok());
    if (chunk->empty()) break;
    CHECK(chunk->size() <= 1000);
    for (auto& d : *chunk) read.push_back(std::move(d));
  }
  REQUIRE(read.size() == whole->size());
  for (size_t i = 0; i < read.size(); ++i) {
    CHECK(read[i].line == (*whole)[i].line);
    CHECK(read[i].serial == (*whole)[i].serial);
    CHECK(read[i].key_text == (*whole)[i].key_text);
  }
  CHECK(std::any_of(read.begin(), read.end(), [](const DeviceLine& d) { return d.serial == "serial"; }));

  // A record longer than any key: refused, not buffered without end.
  test::WriteText(tmp / "long.csv", "SN1,\"" + std::string(200000, 'A') + "\"\n");
  auto hostile = DevicesFile::Open(tmp / "long.csv");
  REQUIRE(hostile.ok());
  auto first = hostile->Next(10);
  // One block holds all of it: parsed (the cap applies across blocks only) or refused.
  if (!first.ok()) CHECK(first.status().code() == Code::kTooLarge);
  test::WriteText(tmp / "longer.csv", "SN1,\"" + std::string(3u << 20, 'A') + "\"\n");
  auto longer = DevicesFile::Open(tmp / "longer.csv");
  REQUIRE(longer.ok());
  CHECK(longer->Next(10).status().code() == Code::kTooLarge);
  CHECK(DevicesFile::Open(tmp / "missing.csv").status().code() == Code::kNotFound);
}

// Review (hostile vouchers): the enrollment's members may be written qualified, as the
// container's may (formats/voucher.md); the contribution list and the older bare enc/ct must
// then be found under either spelling, or a voucher with both would be read as the list by
// vouch and as the older form (or as both: malformed) by a reader that honours the qualified
// spelling. The same rule holds inside each contribution object.
TEST_CASE("the contribution list and the older enc/ct are one leaf under either spelling", "[voucher-json]") {
  test::Pki pki = test::Pki::Make();
  std::string good = S(SampleVoucher(pki));
  REQUIRE(good.find("\"contribution\":[") != std::string::npos);
  auto with = [&](const std::string& from, const std::string& to) { return Replaced(good, from, to); };
  auto decode = [](const std::string& s) { return DecodeVoucher(AsBytes(s)); };
  const std::string list_at = "\"contribution\":[";
  // The list beside a qualified bare enc and ct: two contributions sets, refused.
  auto both = decode(with(list_at, "\"ietf-voucher:enc\":\"AAAA\",\"ietf-voucher:ct\":\"AAAA\"," + list_at));
  CHECK(both.status().code() == Code::kMalformed);
  // The list written qualified is the list, not an enrollment without enc.
  auto qualified = decode(with(list_at, "\"ietf-voucher:contribution\":["));
  REQUIRE(qualified.ok());
  REQUIRE(qualified->enrollment->contributions.size() == 1);
  CHECK(qualified->enrollment->contributions[0].key.has_value());
  // ... and beside the unqualified list, two spellings of one leaf.
  auto twice = decode(with(list_at, "\"ietf-voucher:contribution\":[]," + list_at));
  CHECK(twice.status().code() == Code::kMalformed);
  // Inside a contribution: a key written both ways is two keys.
  auto key_twice = decode(with("{\"contribution-key\":", "{\"ietf-voucher:contribution-key\":\"AAAA\",\"contribution-key\":"));
  CHECK(key_twice.status().code() == Code::kMalformed);
}
