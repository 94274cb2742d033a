#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "libvoucher/ed25519.h"
#include "libvoucher/key.h"
#include "testutil.h"

using namespace vouch;

namespace {
// RFC 8032 section 7.1, TEST 1 (the empty message).
const char* const kSecret = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const char* const kPublic = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const char* const kSig =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
}  // namespace

TEST_CASE("ed25519 signs and verifies RFC 8032's test 1 exactly", "[ed25519]") {
  auto key = ed25519::PrivateKey::FromSeed(test::Hex(kSecret));
  REQUIRE(key.ok());
  CHECK(key->PublicKey() == test::Hex(kPublic));
  CHECK(*key->Sign({}) == test::Hex(kSig));
  CHECK(ed25519::Verify(test::Hex(kPublic), {}, test::Hex(kSig)).ok());
  CHECK(HexEncode(key->Seed().view()) == kSecret);
}

TEST_CASE("ed25519 refuses altered messages, signatures and keys", "[ed25519]") {
  auto key = *ed25519::PrivateKey::Generate();
  Bytes msg = ToBytes("checkpoint");
  Bytes sig = *key.Sign(msg);
  CHECK(ed25519::Verify(key.PublicKey(), msg, sig).ok());
  Bytes other = ToBytes("checkpoinT");
  CHECK(ed25519::Verify(key.PublicKey(), other, sig).code() == Code::kBadSignature);
  Bytes bad = sig;
  bad[10] ^= 1;
  CHECK(ed25519::Verify(key.PublicKey(), msg, bad).code() == Code::kBadSignature);
  CHECK(ed25519::Verify(key.PublicKey(), msg, Bytes(sig.begin(), sig.end() - 1)).code() == Code::kBadSignature);
  CHECK(ed25519::Verify(Bytes(31, 1), msg, sig).code() == Code::kInvalidKey);
  CHECK(ed25519::Verify((*ed25519::PrivateKey::Generate()).PublicKey(), msg, sig).code() == Code::kBadSignature);
  CHECK(ed25519::PrivateKey::FromSeed(Bytes(31, 1)).status().code() == Code::kInvalidKey);
}

TEST_CASE("an ed25519 private key is saved 0600 and loads back; a P-256 key is not one", "[ed25519]") {
  test::TempDir dir;
  auto key = *ed25519::PrivateKey::Generate();
  REQUIRE(ed25519::SavePrivateKey(dir / "log.key", key).ok());
  struct stat st {};
  REQUIRE(::stat((dir / "log.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(ed25519::SavePrivateKey(dir / "log.key", key).code() == Code::kExists);
  auto loaded = ed25519::LoadPrivateKey(dir / "log.key");
  REQUIRE(loaded.ok());
  CHECK(loaded->PublicKey() == key.PublicKey());

  auto p256 = *PrivateKey::Generate();
  REQUIRE(SavePrivateKey(dir / "p256.key", p256).ok());
  CHECK(ed25519::LoadPrivateKey(dir / "p256.key").status().code() == Code::kInvalidKey);
  CHECK(ed25519::PrivateKey::FromPem(ToBytes("not pem")).status().code() == Code::kMalformed);
}
