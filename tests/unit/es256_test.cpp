#include <catch2/catch.hpp>

#include "libvoucher/es256.h"
#include "testutil.h"

using namespace vouch;

TEST_CASE("an ES256 signature verifies and any change breaks it", "[es256]") {
  auto key = *PrivateKey::Generate();
  auto sig = es256::Sign(key, AsBytes("message"));
  REQUIRE(sig.ok());
  CHECK(sig->size() == 64);
  CHECK(es256::Verify(key.Public(), AsBytes("message"), *sig).ok());
  CHECK(es256::Verify(key.Public(), AsBytes("messagE"), *sig).code() == Code::kBadSignature);
  Bytes bad = *sig;
  bad[10] ^= 1;
  CHECK(es256::Verify(key.Public(), AsBytes("message"), bad).code() == Code::kBadSignature);
  CHECK(es256::Verify(PrivateKey::Generate()->Public(), AsBytes("message"), *sig).code() == Code::kBadSignature);
  CHECK(es256::Verify(key.Public(), AsBytes("message"), Bytes(63, 1)).code() == Code::kBadSignature);
}

TEST_CASE("DER and raw r||s signatures convert both ways", "[es256]") {
  auto key = *PrivateKey::Generate();
  for (int i = 0; i < 20; ++i) {
    auto raw = *es256::Sign(key, AsBytes("m"));
    auto der = es256::RawToDer(raw);
    REQUIRE(der.ok());
    CHECK((*der)[0] == 0x30);
    CHECK(*es256::DerToRaw(*der) == raw);
  }
  CHECK(es256::DerToRaw(Bytes{0x30, 0x00, 0x01}).status().code() == Code::kBadSignature);
}
