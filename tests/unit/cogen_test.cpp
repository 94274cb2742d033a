#include <catch2/catch.hpp>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "libvoucher/cogen.h"
#include "testutil.h"

using namespace vouch;

TEST_CASE("z*G equals X + Y for 1,000 random pairs", "[cogen]") {
  for (int i = 0; i < 1000; ++i) {
    auto x = *PrivateKey::Generate();
    auto y = *PrivateKey::Generate();
    auto Z = cogen::CombinePublic(x.Public(), y.Public());
    auto z = cogen::CombinePrivate(x, y);
    REQUIRE((Z.ok() && z.ok()));
    REQUIRE(z->Public() == *Z);
  }
}

TEST_CASE("a contribution for X combines with x to the private key of its Z", "[cogen]") {
  for (int i = 0; i < 50; ++i) {
    auto x = *PrivateKey::Generate();
    auto c = cogen::Contribute(x.Public());
    REQUIRE(c.ok());
    CHECK(*cogen::CombinePublic(x.Public(), c->y.Public()) == c->combined);
    CHECK(cogen::CombinePrivate(x, c->y)->Public() == c->combined);
  }
}

namespace {
// n - k, computed with OpenSSL independently of the code under test.
Bytes NegateScalar(ByteView k) {
  EC_GROUP* g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  BIGNUM* b = BN_bin2bn(k.data(), static_cast<int>(k.size()), nullptr);
  BIGNUM* r = BN_new();
  BN_sub(r, EC_GROUP_get0_order(g), b);
  Bytes out(32);
  BN_bn2binpad(r, out.data(), 32);
  BN_free(b);
  BN_free(r);
  EC_GROUP_free(g);
  return out;
}
}  // namespace

TEST_CASE("y = n - x is refused: Z would be infinity and z would be 0", "[cogen]") {
  auto x = *PrivateKey::Generate();
  auto y = *PrivateKey::FromScalar(NegateScalar(x.Scalar().view()));
  CHECK(cogen::CombinePublic(x.Public(), y.Public()).status().code() == Code::kInvalidKey);
  CHECK(cogen::CombinePrivate(x, y).status().code() == Code::kInvalidKey);
}

TEST_CASE("co-generation at the edges: y = 1 and x + y wrapping past n", "[cogen]") {
  Bytes one(32, 0), two(32, 0);
  one[31] = 1;
  two[31] = 2;
  auto k1 = *PrivateKey::FromScalar(one);
  auto k2 = *PrivateKey::FromScalar(two);
  // 1 + 1 = 2: the doubling case of point addition.
  CHECK(*cogen::CombinePublic(k1.Public(), k1.Public()) == k2.Public());
  CHECK(cogen::CombinePrivate(k1, k1)->Public() == k2.Public());
  // (n - 1) + 2 = 1 mod n.
  auto nm1 = *PrivateKey::FromScalar(NegateScalar(one));
  CHECK(cogen::CombinePrivate(nm1, k2)->Public() == k1.Public());
  CHECK(*cogen::CombinePublic(nm1.Public(), k2.Public()) == k1.Public());
}
