#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "libvoucher/signing_key.h"
#include "testutil.h"

using namespace vouch;

TEST_CASE("each signing key signs in its JWS form and any change breaks the signature", "[signing-key]") {
  for (SignatureAlg alg : kSignatureAlgs) {
    INFO(KeyTypeName(alg));
    auto key = SigningKey::Generate(alg);
    REQUIRE(key.ok());
    CHECK(key->alg() == alg);
    auto sig = key->Sign(AsBytes("message"));
    REQUIRE(sig.ok());
    CHECK(sig->size() == SignatureSize(alg));
    CHECK(VerifyJwsSignature(key->pkey(), key->JwsAlg(), AsBytes("message"), *sig).ok());
    CHECK(VerifyJwsSignature(key->pkey(), key->JwsAlg(), AsBytes("messagE"), *sig).code() == Code::kBadSignature);
    Bytes bad = *sig;
    bad[10] ^= 1;
    CHECK(VerifyJwsSignature(key->pkey(), key->JwsAlg(), AsBytes("message"), bad).code() == Code::kBadSignature);
    auto other = *SigningKey::Generate(alg);
    CHECK(VerifyJwsSignature(other.pkey(), key->JwsAlg(), AsBytes("message"), *sig).code() == Code::kBadSignature);
    Bytes short_sig(sig->begin(), sig->end() - 1);
    CHECK(VerifyJwsSignature(key->pkey(), key->JwsAlg(), AsBytes("message"), short_sig).code() == Code::kBadSignature);
  }
  CHECK(JwsAlgName(SignatureAlg::kEs256) == "ES256");
  CHECK(JwsAlgName(SignatureAlg::kEs384) == "ES384");
  CHECK(JwsAlgName(SignatureAlg::kEd25519) == "EdDSA");
  CHECK(JwsAlgName(SignatureAlg::kEd448) == "EdDSA");
}

TEST_CASE("a JWS alg is verified only with the key type it names", "[signing-key]") {
  auto p256 = *SigningKey::Generate(SignatureAlg::kEs256);
  auto p384 = *SigningKey::Generate(SignatureAlg::kEs384);
  auto ed25519 = *SigningKey::Generate(SignatureAlg::kEd25519);
  auto ed448 = *SigningKey::Generate(SignatureAlg::kEd448);
  Bytes m = ToBytes("message");
  // Each signature under each header alg it was not made with, against every key type.
  for (const SigningKey* signer : {&p256, &p384, &ed25519, &ed448}) {
    Bytes sig = *signer->Sign(m);
    for (const SigningKey* verifier : {&p256, &p384, &ed25519, &ed448}) {
      for (std::string_view alg : {"ES256", "ES384", "EdDSA"}) {
        INFO(KeyTypeName(signer->alg()) << " signed, " << alg << " claimed, " << KeyTypeName(verifier->alg()) << " verifies");
        Status s = VerifyJwsSignature(verifier->pkey(), alg, m, sig);
        bool genuine = verifier == signer && alg == signer->JwsAlg();
        CHECK(s.code() == (genuine ? Code::kOk : Code::kBadSignature));
      }
    }
  }
  Bytes sig = *p256.Sign(m);
  for (std::string_view alg : {"none", "HS256", "RS256", "PS256", "ES512", "es256", "Ed25519", ""}) {
    INFO(alg);
    CHECK(VerifyJwsSignature(p256.pkey(), alg, m, sig).code() == Code::kUnsupported);
  }
  // A key of no signing type (X25519 is a key-agreement key; made by `openssl genpkey`).
  auto x25519 = SigningKey::FromPem(AsBytes(
      "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIIhHuWB99008254ug6Sea7zCWGzbyFrDNWFpMYB8NYpz\n-----END PRIVATE KEY-----\n"));
  CHECK(x25519.status().code() == Code::kUnsupported);
}

TEST_CASE("signing keys load from PKCS#8 and SEC1 PEM and refuse other keys by name", "[signing-key]") {
  test::TempDir dir;
  for (SignatureAlg alg : kSignatureAlgs) {
    INFO(KeyTypeName(alg));
    auto key = *SigningKey::Generate(alg);
    std::string name = std::string(KeyTypeName(alg)) + ".key";
    REQUIRE(SaveSigningKey(dir / name, key).ok());
    struct stat st {};
    REQUIRE(::stat((dir / name).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(SaveSigningKey(dir / name, key).code() == Code::kExists);
    auto loaded = LoadSigningKey(dir / name);
    REQUIRE(loaded.ok());
    CHECK(loaded->alg() == alg);
    CHECK(loaded->IsKeyOf(key.pkey()));
    CHECK(VerifyJwsSignature(key.pkey(), key.JwsAlg(), AsBytes("m"), *loaded->Sign(AsBytes("m"))).ok());
    CHECK(!loaded->IsKeyOf(SigningKey::Generate(alg)->pkey()));
  }
  // SEC1 "EC PRIVATE KEY" as `openssl ecparam -genkey -name secp384r1 -noout` wrote it.
  const char* sec1_p384 =
      "-----BEGIN EC PRIVATE KEY-----\n"
      "MIGkAgEBBDCzB/qdwX4D+icL8CqWzB/XWu2MsSmm6X2pL46gsbMWC5UJDfZ89eyg\n"
      "L9d25r2V4/OgBwYFK4EEACKhZANiAATGeAvZVidHtYIG2MfJiIu/eVnmp6Wl7UTz\n"
      "o5WczyG49NttjhwW8Zai4ZwxX2Pjc3yTD+DmdMCZanaHogOtn3fN2g/tzCL4LnkL\n"
      "YucoBENHd9lwccmgCvgMd3RmxnVPfTI=\n"
      "-----END EC PRIVATE KEY-----\n";
  auto sec1 = SigningKey::FromPem(AsBytes(sec1_p384));
  REQUIRE(sec1.ok());
  CHECK(sec1->alg() == SignatureAlg::kEs384);
  // secp256k1 (`openssl ecparam -genkey -name secp256k1 -noout`) is a curve vouch does not sign with.
  const char* k256 =
      "-----BEGIN EC PRIVATE KEY-----\n"
      "MHQCAQEEIHWXRmqX+N2xlwIaMhUWENH+qqD2wU3DuqB6luGNym+SoAcGBSuBBAAK\n"
      "oUQDQgAEIWh93GbtZmwgALp+xGSRWRzGRh1Mp8b+w9uZsGCpzp13Laj6VI9IlooP\n"
      "5GDBxBJ/7Xt7prA3ZDI618ORvb8B4w==\n"
      "-----END EC PRIVATE KEY-----\n";
  auto other_curve = SigningKey::FromPem(AsBytes(k256));
  CHECK(other_curve.status().code() == Code::kUnsupported);
  CHECK(other_curve.status().message().find("secp256k1") != std::string::npos);
  CHECK(SigningKey::FromPem(AsBytes("-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n")).status().code() ==
        Code::kMalformed);
  CHECK(SigningKey::FromPem(AsBytes("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMA==\n-----END ENCRYPTED PRIVATE KEY-----\n"))
            .status().message().find("encrypted") != std::string::npos);
  CHECK(SigningKey::FromPem(AsBytes("not a key")).status().code() == Code::kMalformed);
  // A P-256 PrivateKey is an ES256 signing key, sharing its handle.
  auto p256 = *PrivateKey::Generate();
  SigningKey converted = p256;
  CHECK(converted.alg() == SignatureAlg::kEs256);
  CHECK(converted.pkey() == p256.pkey());
  CHECK(SignatureAlgFromName("p384").value() == SignatureAlg::kEs384);
  CHECK(SignatureAlgFromName("Ed25519").value() == SignatureAlg::kEd25519);
  CHECK(SignatureAlgFromName("rsa").status().code() == Code::kUsage);
}

TEST_CASE("ECDSA signatures convert between DER and fixed-width r||s", "[signing-key]") {
  for (SignatureAlg alg : {SignatureAlg::kEs256, SignatureAlg::kEs384}) {
    auto key = *SigningKey::Generate(alg);
    size_t half = SignatureSize(alg) / 2;
    for (int i = 0; i < 20; ++i) {
      auto raw = *key.Sign(AsBytes("m"));
      auto der = EcdsaRawToDer(raw, half);
      REQUIRE(der.ok());
      CHECK((*der)[0] == 0x30);
      CHECK(*EcdsaDerToRaw(*der, half) == raw);
    }
  }
  CHECK(EcdsaDerToRaw(Bytes{0x30, 0x00, 0x01}, 32).status().code() == Code::kBadSignature);
  CHECK(EcdsaRawToDer(Bytes(63, 1), 32).status().code() == Code::kBadSignature);
  // A P-384 signature's values do not fit P-256's width.
  Bytes raw(96, 0xff);
  CHECK(EcdsaDerToRaw(*EcdsaRawToDer(raw, 48), 32).status().code() == Code::kBadSignature);
}
