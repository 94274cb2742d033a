// The Edwards groups, RFC 7748 keys for Edwards scalars, and EdDSA with expanded keys:
// checked against RFC 8032's vectors and OpenSSL's own Ed25519/Ed448/X25519/X448 (the key
// co-generation vectors of draft-hallambaker-threshold are threshold_test's).
#include <catch2/catch.hpp>
#include <openssl/evp.h>

#include <algorithm>

#include "libvoucher/cogen.h"
#include "libvoucher/eddsa.h"
#include "libvoucher/group.h"
#include "libvoucher/montgomery.h"
#include "testutil.h"

using namespace vouch;
using vouch::test::Hex;

namespace {

const Group kEdwards[] = {Group::kEd25519, Group::kEd448};

Bytes Raw(EVP_PKEY* k, bool priv) {
  size_t n = 0;
  auto get = priv ? EVP_PKEY_get_raw_private_key : EVP_PKEY_get_raw_public_key;
  get(k, nullptr, &n);
  Bytes out(n);
  get(k, out.data(), &n);
  return out;
}

// The public key OpenSSL computes for an RFC 7748 private key c.
Bytes OpensslMontgomeryPublic(Group g, ByteView c) {
  EVP_PKEY* k = EVP_PKEY_new_raw_private_key(g == Group::kEd25519 ? EVP_PKEY_X25519 : EVP_PKEY_X448, nullptr, c.data(), c.size());
  REQUIRE(k);
  Bytes pub = Raw(k, false);
  EVP_PKEY_free(k);
  return pub;
}

// The value of a Result that must be ok, moved out (SecretBytes do not copy).
template <class T>
T Take(Result<T> r) {
  REQUIRE(r.ok());
  return std::move(*r);
}

Bytes V(const SecretBytes& s) { return Bytes(s.data(), s.data() + s.size()); }

}  // namespace

TEST_CASE("Edwards points: sums and multiples agree, and only canonical subgroup points pass", "[edwards]") {
  for (Group g : kEdwards) {
    INFO(GroupName(g));
    for (int i = 0; i < 20; ++i) {
      auto a = Take(group::RandomScalar(g));
      auto b = Take(group::RandomScalar(g));
      auto pa = *group::MulBase(g, a.view()), pb = *group::MulBase(g, b.view());
      CHECK(group::CheckPoint(g, pa).ok());
      auto sum = Take(group::AddScalars(g, a.view(), b.view()));
      CHECK(*group::Add(g, pa, pb) == *group::MulBase(g, sum.view()));
      // P + (-P) is the identity: refused, as a contribution Y = -X would be.
      auto neg = Take(group::NegateScalar(g, a.view()));
      CHECK(group::Add(g, pa, *group::MulBase(g, neg.view())).status().code() == Code::kInvalidKey);
    }
    // The identity, a small-order point, a non-canonical encoding, the wrong size.
    Bytes identity(PointSize(g), 0);
    identity[0] = 1;
    CHECK(group::CheckPoint(g, identity).code() == Code::kInvalidKey);
    Bytes all_ff(PointSize(g), 0xff);
    CHECK(group::CheckPoint(g, all_ff).code() == Code::kInvalidKey);
    CHECK(group::CheckPoint(g, Bytes(PointSize(g) - 1, 1)).code() == Code::kInvalidKey);
    CHECK(group::CheckScalar(g, Bytes(ScalarSize(g), 0)).code() == Code::kInvalidKey);
    CHECK(group::CheckScalar(g, Bytes(ScalarSize(g), 0xff)).code() == Code::kInvalidKey);
  }
}

TEST_CASE("Ed25519 points with a torsion component are refused", "[edwards]") {
  // A point of order 8 (RFC 8032 / libsodium's small-order blocklist) added to a good point.
  const Bytes order8 = Hex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05");
  auto k = Take(group::RandomScalar(Group::kEd25519));
  auto p = *group::MulBase(Group::kEd25519, k.view());
  CHECK(group::CheckPoint(Group::kEd25519, order8).code() == Code::kInvalidKey);
  CHECK(group::Add(Group::kEd25519, p, order8).status().code() == Code::kInvalidKey);
}

TEST_CASE("RFC 8032 vectors: expanded-key signing gives the published public keys and signatures", "[edwards]") {
  struct Vec { Group g; const char* seed; const char* pub; const char* msg; const char* sig; };
  const Vec vecs[] = {
      // RFC 8032 7.1 TEST 1, TEST 2 and TEST 3 (Ed25519).
      {Group::kEd25519, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {Group::kEd25519, "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
      {Group::kEd25519, "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
       "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
       "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
      // RFC 8032 7.4 "-----Blank" and "1 octet" (Ed448).
      {Group::kEd448, "6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b",
       "5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180", "",
       "533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd3980ff0d2028d4b18a9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4dbb61149f05a7363268c71d95808ff2e652600"},
      {Group::kEd448, "c4eab05d357007c632f3dbb48489924d552b08fe0c353a0d4a1f00acda2c463afbea67c5e8d2877c5e3bc397a659949ef8021e954e0a12274e",
       "43ba28f430cdff456ae531545f7ecd0ac834a55d9358c0372bfa0c6c6798c0866aea01eb00742802b8438ea4cb82169c235160627b4c3a9480", "03",
       "26b8f91727bd62897af15e41eb43c377efb9c610d48f2335cb0bd0087810f4352541b143c4b981b7e18f62de8ccdf633fc1bf037ab7cd779805e0dbcc0aae1cbcee1afb2e027df36bc04dcecbf154336c19f0af7e0a6472905e799f1953d2a0ff3348ab21aa4adafd1d234441cf807c03a00"},
  };
  for (const Vec& v : vecs) {
    INFO(GroupName(v.g) << " seed " << v.seed);
    auto key = eddsa::ExpandSeed(v.g, Hex(v.seed));
    REQUIRE(key.ok());
    CHECK(*group::MulBase(v.g, key->scalar.view()) == Hex(v.pub));
    auto sig = eddsa::SignExpanded(v.g, *key, Hex(v.pub), Hex(v.msg));
    REQUIRE(sig.ok());
    CHECK(*sig == Hex(v.sig));
    auto pub = *PublicKey::FromPoint(v.g, Hex(v.pub));
    CHECK(eddsa::Verify(pub, Hex(v.msg), *sig).ok());
  }
}

TEST_CASE("a co-generated z signs, and OpenSSL verifies under Z", "[edwards]") {
  for (Group g : kEdwards) {
    INFO(GroupName(g));
    auto x = *PrivateKey::Generate(g);
    auto c = *cogen::Contribute(x.Public());
    auto z = *cogen::CombinePrivate(x, c.y);
    REQUIRE(z.Public() == c.combined);
    const Bytes msg = ToBytes("enrollment receipt");
    auto sig = eddsa::Sign(z, msg);
    REQUIRE(sig.ok());
    CHECK(sig->size() == (g == Group::kEd25519 ? 64u : 114u));
    CHECK(eddsa::Verify(c.combined, msg, *sig).ok());
    CHECK(*eddsa::Sign(z, msg) == *sig);  // deterministic
    CHECK(eddsa::Verify(x.Public(), msg, *sig).code() == Code::kBadSignature);
    Bytes bad = *sig;
    bad[3] ^= 1;
    CHECK(eddsa::Verify(c.combined, msg, bad).code() == Code::kBadSignature);
  }
}

TEST_CASE("OpenSSL's Ed25519 and Ed448 public keys are the group's multiples of the expanded scalar", "[edwards]") {
  for (Group g : kEdwards) {
    INFO(GroupName(g));
    for (int i = 0; i < 10; ++i) {
      EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, g == Group::kEd25519 ? "ED25519" : "ED448");
      REQUIRE(k);
      Bytes seed = Raw(k, true), pub = Raw(k, false);
      EVP_PKEY_free(k);
      auto e = Take(eddsa::ExpandSeed(g, seed));
      CHECK(*group::MulBase(g, e.scalar.view()) == pub);
      CHECK(group::ToMontgomery(g, pub).ok());
    }
  }
}

TEST_CASE("an RFC 7748 key stands for an Edwards scalar; the naive encoding does not", "[edwards]") {
  for (Group g : kEdwards) {
    INFO(GroupName(g));
    int naive_wrong = 0;
    for (int i = 0; i < 40; ++i) {
      auto k = Take(group::RandomScalar(g));
      auto point = *group::MulBase(g, k.view());
      auto u = *group::ToMontgomery(g, point);
      auto c = montgomery::PrivateKeyFor(g, k.view());
      REQUIRE(c.ok());
      // OpenSSL, clamping c as RFC 7748 says, computes the Montgomery form of k*B.
      CHECK(OpensslMontgomeryPublic(g, c->view()) == u);
      // And c gives k back up to sign.
      auto back = V(Take(montgomery::ScalarOf(g, c->view())));
      auto neg = V(Take(group::NegateScalar(g, k.view())));
      CHECK((back == V(k) || back == neg));
      // Writing k's own bytes as the X25519/X448 key: OpenSSL clamps them into another scalar.
      if (OpensslMontgomeryPublic(g, k.view()) != u) ++naive_wrong;
    }
    CHECK(naive_wrong >= 39);
  }
}

TEST_CASE("a combined Edwards key decapsulates with OpenSSL: X25519/X448 derive agrees both ways", "[edwards]") {
  for (Group g : kEdwards) {
    INFO(GroupName(g));
    for (int i = 0; i < 10; ++i) {
      auto x = *PrivateKey::Generate(g);
      auto c = *cogen::Contribute(x.Public());
      auto z = *cogen::CombinePrivate(x, c.y);
      EVP_PKEY* eph = EVP_PKEY_Q_keygen(nullptr, nullptr, g == Group::kEd25519 ? "X25519" : "X448");
      auto derive = [](EVP_PKEY* priv, EVP_PKEY* peer) {
        EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, priv, nullptr);
        size_t n = 0;
        REQUIRE(EVP_PKEY_derive_init(ctx) == 1);
        REQUIRE(EVP_PKEY_derive_set_peer(ctx, peer) == 1);
        REQUIRE(EVP_PKEY_derive(ctx, nullptr, &n) == 1);
        Bytes out(n);
        REQUIRE(EVP_PKEY_derive(ctx, out.data(), &n) == 1);
        EVP_PKEY_CTX_free(ctx);
        return out;
      };
      // The sender encrypts to Z's Montgomery form; the device derives with z's RFC 7748 key.
      CHECK(derive(eph, c.combined.KemKey()) == derive(z.KemKey(), eph));
      EVP_PKEY_free(eph);
    }
  }
}

TEST_CASE("an Edwards key file gives its scalar back, with the sign settled by the public key", "[edwards]") {
  test::TempDir dir;
  for (Group g : kEdwards) {
    INFO(GroupName(g));
    auto x = *PrivateKey::Generate(g);
    REQUIRE(SavePrivateKey(dir.path() / "x.key", x, Overwrite::kYes).ok());
    auto back = LoadPrivateKey(dir.path() / "x.key");
    REQUIRE(back.ok());
    CHECK(back->Public() == x.Public());
    CHECK(V(back->Scalar()) == V(x.Scalar()));
    // A z whose RFC 7748 key stands for -z: found again only with Z.
    for (int i = 0; i < 40; ++i) {
      auto k = Take(group::RandomScalar(g));
      auto z = PrivateKey::FromScalar(g, k.view());
      REQUIRE(z.ok());
      REQUIRE(SavePrivateKey(dir.path() / "z.key", *z, Overwrite::kYes).ok());
      auto with = LoadPrivateKey(dir.path() / "z.key", &z->Public());
      REQUIRE(with.ok());
      CHECK(V(with->Scalar()) == V(k));
    }
    auto other = *PrivateKey::Generate(g);
    CHECK(LoadPrivateKey(dir.path() / "x.key", &other.Public()).status().code() == Code::kInvalidKey);
    // The public key file is the Edwards form (RFC 8410), and reads back.
    auto pub = PublicKey::Parse(AsBytes(x.Public().Pem()));
    REQUIRE(pub.ok());
    CHECK(*pub == x.Public());
    CHECK(pub->SpkiDer().size() == (g == Group::kEd25519 ? 44u : 69u));
  }
}
