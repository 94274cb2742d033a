#include <catch2/catch.hpp>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include "libvoucher/cert.h"
#include "libvoucher/cogen.h"
#include "libvoucher/key.h"
#include "libvoucher/udf.h"
#include "testutil.h"

using namespace vouch;

TEST_CASE("a generated key saves at mode 0600 and loads back to the same scalar", "[key]") {
  test::TempDir dir;
  auto key = PrivateKey::Generate();
  REQUIRE(key.ok());
  REQUIRE(SavePrivateKey(dir / "k.pem", *key).ok());
  struct stat st;
  REQUIRE(::stat((dir / "k.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto back = LoadPrivateKey(dir / "k.pem");
  REQUIRE(back.ok());
  CHECK(back->Public() == key->Public());
  SecretBytes a = back->Scalar(), b = key->Scalar();
  CHECK(Bytes(a.view().begin(), a.view().end()) == Bytes(b.view().begin(), b.view().end()));
  CHECK(test::ReadText(dir / "k.pem").rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);  // PKCS#8
}

TEST_CASE("saving a private key never overwrites unless told to", "[key]") {
  test::TempDir dir;
  auto a = *PrivateKey::Generate(), b = *PrivateKey::Generate();
  REQUIRE(SavePrivateKey(dir / "k.pem", a).ok());
  CHECK(SavePrivateKey(dir / "k.pem", b).code() == Code::kExists);
  CHECK(LoadPrivateKey(dir / "k.pem")->Public() == a.Public());
  REQUIRE(SavePrivateKey(dir / "k.pem", b, Overwrite::kYes).ok());
  CHECK(LoadPrivateKey(dir / "k.pem")->Public() == b.Public());
  // No temporary files are left behind.
  int n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) { (void)e; ++n; }
  CHECK(n == 1);
}

TEST_CASE("public keys encode as the canonical 91-byte SPKI whatever form they came in", "[key]") {
  auto key = *PrivateKey::Generate();
  Bytes spki = key.Public().SpkiDer();
  CHECK(spki.size() == kSpkiDerSize);
  // Compressed point -> same key, same canonical encoding and fingerprint.
  Bytes compressed(key.Public().point().begin(), key.Public().point().begin() + 33);
  compressed[0] = (key.Public().point()[64] & 1) ? 0x03 : 0x02;
  auto from_compressed = PublicKey::FromPoint(compressed);
  REQUIRE(from_compressed.ok());
  CHECK(from_compressed->SpkiDer() == spki);
  CHECK(from_compressed->Fingerprint() == key.Public().Fingerprint());
  CHECK(udf::Udf::Parse(key.Public().Fingerprint())->bits() == 140);
  // PEM, DER and base64 DER all parse to the same key.
  CHECK(*PublicKey::Parse(AsBytes(key.Public().Pem())) == key.Public());
  CHECK(*PublicKey::Parse(spki) == key.Public());
  CHECK(*PublicKey::Parse(AsBytes(Base64Encode(spki) + "\n")) == key.Public());
}

// PublicKey::Parse reads a PEM PUBLIC KEY itself (OpenSSL's reader is slow to start); what it
// does not read, OpenSSL's does, so every form gives the key OpenSSL would.
TEST_CASE("PEM public keys parse as OpenSSL reads them", "[key]") {
  for (Group g : {Group::kP256, Group::kEd25519, Group::kEd448}) {
    PublicKey k = PrivateKey::Generate(g)->Public();
    std::string pem = k.Pem();
    REQUIRE(!pem.empty());
    CHECK(*PublicKey::Parse(AsBytes(pem)) == k);
    std::string crlf;
    for (char c : pem) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    CHECK(*PublicKey::Parse(AsBytes(crlf)) == k);
    std::string one_line = pem;
    std::erase(one_line, '\n');
    CHECK(PublicKey::Parse(AsBytes(one_line)).ok() == PublicKey::Parse(AsBytes(pem)).ok());
  }
  CHECK_FALSE(PublicKey::Parse(AsBytes(std::string("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n"))).ok());
}

TEST_CASE("the canonical SPKI is exactly what OpenSSL's encoder writes", "[key]") {
  for (int i = 0; i < 20; ++i) {
    auto key = *PrivateKey::Generate();
    unsigned char* der = nullptr;
    int n = i2d_PUBKEY(key.Public().pkey(), &der);
    REQUIRE(n == static_cast<int>(kSpkiDerSize));
    CHECK(Bytes(der, der + n) == key.Public().SpkiDer());
    OPENSSL_free(der);
    CHECK(*PublicKey::FromSpkiDer(key.Public().SpkiDer()) == key.Public());
  }
}

TEST_CASE("off-curve points, infinity and garbage are refused as keys", "[key]") {
  auto key = *PrivateKey::Generate();
  Bytes point = key.Public().point();
  point[64] ^= 0x01;
  CHECK(PublicKey::FromPoint(point).status().code() == Code::kInvalidKey);
  CHECK(PublicKey::FromPoint(Bytes{0x00}).status().code() == Code::kInvalidKey);
  CHECK(PublicKey::FromPoint(Bytes{}).status().code() == Code::kInvalidKey);
  Bytes spki = key.Public().SpkiDer();
  spki[spki.size() - 1] ^= 0x01;
  CHECK_FALSE(PublicKey::FromSpkiDer(spki).ok());
  Bytes trailing = key.Public().SpkiDer();
  trailing.push_back(0);
  CHECK(PublicKey::FromSpkiDer(trailing).status().code() == Code::kMalformed);
  CHECK(PublicKey::Parse(AsBytes("not a key")).status().code() == Code::kMalformed);
}

TEST_CASE("keys on other curves are refused as unsupported", "[key]") {
  EVP_PKEY* p384 = EVP_EC_gen("P-384");
  REQUIRE(p384);
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(p384, &der);
  Bytes spki(der, der + n);
  OPENSSL_free(der);
  EVP_PKEY_free(p384);
  CHECK(PublicKey::FromSpkiDer(spki).status().code() == Code::kUnsupported);
}

TEST_CASE("private keys load from PKCS#8 and SEC1 PEM; other curves are refused", "[key]") {
  auto write = [](EVP_PKEY* k, bool traditional) {
    BIO* bio = BIO_new(BIO_s_mem());
    int ok = traditional ? PEM_write_bio_PrivateKey_traditional(bio, k, nullptr, nullptr, 0, nullptr, nullptr)
                         : PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
    REQUIRE(ok == 1);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    Bytes pem(data, data + n);
    BIO_free(bio);
    return pem;
  };
  EVP_PKEY* p256 = EVP_EC_gen("P-256");
  REQUIRE(p256);
  auto pkcs8 = PrivateKey::FromPem(write(p256, false));
  auto sec1 = PrivateKey::FromPem(write(p256, true));
  REQUIRE(pkcs8.ok());
  REQUIRE(sec1.ok());
  CHECK(pkcs8->Public() == sec1->Public());
  CHECK(pkcs8->Scalar().view().size() == 32);
  EVP_PKEY_free(p256);
  EVP_PKEY* p384 = EVP_EC_gen("P-384");
  REQUIRE(p384);
  CHECK(PrivateKey::FromPem(write(p384, false)).status().code() == Code::kUnsupported);
  CHECK(PrivateKey::FromPem(write(p384, true)).status().code() == Code::kUnsupported);
  EVP_PKEY_free(p384);
  CHECK(PrivateKey::FromPem(AsBytes("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")).status().code() ==
        Code::kMalformed);
}

TEST_CASE("private scalars outside [1, n-1] are refused", "[key]") {
  CHECK(PrivateKey::FromScalar(Bytes(32, 0)).status().code() == Code::kInvalidKey);
  CHECK(PrivateKey::FromScalar(Bytes(32, 0xff)).status().code() == Code::kInvalidKey);
  CHECK(PrivateKey::FromScalar(Bytes(31, 1)).status().code() == Code::kInvalidKey);
  Bytes one(32, 0);
  one[31] = 1;
  CHECK(PrivateKey::FromScalar(one).ok());
}

TEST_CASE("a certificate's notAfter read alone is the one OpenSSL reads from the whole certificate", "[key]") {
  PrivateKey ca_key = *PrivateKey::Generate();
  for (int64_t days : {1, 10, 3650, 36500}) {  // 36500: after 2049, a GeneralizedTime (RFC 5280 4.1.2.5)
    CertSpec spec{"cert", "", "", days > 1000};
    spec.days = days;
    Certificate c = *SelfSign(ca_key, spec);
    auto not_after = CertificateNotAfter(c.Der());
    REQUIRE(not_after.ok());
    CHECK(*not_after == c.NotAfter());
  }
  Bytes der = SelfSign(ca_key, CertSpec{"cert", "", "", false})->Der();
  CHECK(CertificateNotAfter(ByteView(der).first(der.size() / 3)).status().code() == Code::kMalformed);  // cut short
  CHECK(CertificateNotAfter(AsBytes(std::string_view("\x30\x03\x02\x01\x01", 5))).status().code() == Code::kMalformed);
  CHECK(CertificateNotAfter({}).status().code() == Code::kMalformed);
}
