#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "libvoucher/udf.h"
#include "testutil.h"

using namespace vouch;
using vouch::udf::Udf;

namespace {
nlohmann::json Vectors() { return nlohmann::json::parse(test::ReadText(test::VectorPath("udf-vectors.json"))); }
}  // namespace

TEST_CASE("every content digest vector reproduces its UDF", "[udf]") {
  auto vectors = Vectors()["content_digests"];
  REQUIRE(vectors.size() >= 14);
  for (const auto& v : vectors) {
    std::string data = v["data_utf8"];
    udf::Alg alg = v["alg"] == "SHA3-512" ? udf::Alg::kSha3_512 : udf::Alg::kSha2_512;
    auto got = udf::ContentDigest(alg, v["content_type"].get<std::string>(), AsBytes(data), v["bits"].get<int>());
    REQUIRE(got.ok());
    INFO("data '" << data << "' " << v["alg"] << " " << v["bits"]);
    CHECK(*got == v["udf"].get<std::string>());
  }
}

TEST_CASE("the key fingerprint vector reproduces over the draft's DER", "[udf]") {
  auto all = Vectors();
  REQUIRE(all["key_fingerprints"].size() >= 1);
  for (const auto& v : all["key_fingerprints"]) {
    Bytes der = test::Hex(v["der_hex"]);
    CHECK(udf::KeyFingerprint(der, v["bits"].get<int>()) == v["udf"].get<std::string>());
  }
}

TEST_CASE("the nonce vector parses with its type byte", "[udf]") {
  auto u = Udf::Parse(Vectors()["nonce"]["udf"].get<std::string>());
  REQUIRE(u.ok());
  CHECK(u->type() == udf::kTypeNonce);
  CHECK(u->bits() == 140);
}

TEST_CASE("compression changes only the type byte", "[udf]") {
  // "UDF Compressed Document 4187123" has 21 trailing zero bits: compression level 1.
  auto b = udf::ContentDigestBinary(udf::Alg::kSha2_512, "text/plain", AsBytes("UDF Compressed Document 4187123"));
  REQUIRE(b.ok());
  CHECK(b->size() == 65);
  CHECK((*b)[0] == 0x61);
  CHECK(((*b)[64] == 0 && (*b)[63] == 0));
}

TEST_CASE("parsing is case-insensitive and ignores dashes", "[udf]") {
  auto a = Udf::Parse("MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF");
  auto b = Udf::Parse("mddk7n6a727ajznostrxxks7djaf");
  auto c = Udf::Parse("Mddk-7n6a727a-jzno-STRX-XKS7DJAF-");
  REQUIRE((a.ok() && b.ok() && c.ok()));
  CHECK(*a == *b);
  CHECK(*a == *c);
  CHECK(b->ToString() == "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF");
  CHECK(a->type() == 0x60);
}

TEST_CASE("parsing refuses characters outside base32 and fewer than 100 bits", "[udf]") {
  CHECK(Udf::Parse("MDDK-7N6A-727A-JZNO-STR1").status().code() == Code::kMalformed);  // '1'
  CHECK(Udf::Parse("MDDK-7N6A-727A-JZNO-STR=").status().code() == Code::kMalformed);
  CHECK(Udf::Parse("MDDK 7N6A-727A-JZNO-STRX").status().code() == Code::kMalformed);
  CHECK(Udf::Parse("MDDK-7N6A-727A-JZNO-STR").status().code() == Code::kMalformed);  // 95 bits
  CHECK(Udf::Parse("").status().code() == Code::kMalformed);
  CHECK(Udf::Parse(std::string(105, 'A')).status().code() == Code::kMalformed);
  CHECK(Udf::Parse("MDDK-7N6A-727A-JZNO-STRX").ok());  // exactly 100 bits
}

TEST_CASE("a shorter UDF matches the longer one it starts, and nothing else", "[udf]") {
  auto s = *Udf::Parse("MDDK-7N6A-727A-JZNO-STRX");
  auto l = *Udf::Parse("MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF-XI6O-ZSLU-2VOA");
  auto other = *Udf::Parse("MDDK-7N6A-727A-JZNO-STRY-XKS7-DJAF");
  CHECK(s.IsPrefixOf(l));
  CHECK(s.IsPrefixOf(s));
  CHECK_FALSE(l.IsPrefixOf(s));
  CHECK_FALSE(s.IsPrefixOf(other));
}

TEST_CASE("precision outside 100..520 bits is refused", "[udf]") {
  CHECK(udf::ContentDigest(udf::Alg::kSha2_512, "text/plain", {}, 99).status().code() == Code::kUsage);
  CHECK(udf::ContentDigest(udf::Alg::kSha2_512, "text/plain", {}, 521).status().code() == Code::kUsage);
  auto full = udf::ContentDigest(udf::Alg::kSha2_512, "text/plain", {}, 520);
  REQUIRE(full.ok());
  CHECK(full->size() == 104 + 25);  // 104 characters and 25 dashes
}
