// Envelope signatures follow the signer's key (DESIGN.md 3, "Signatures on envelopes"): ES256,
// ES384 and EdDSA (Ed25519, Ed448) in JWS, ES256 and ES384 in CMS; a header or SignerInfo
// never picks an algorithm the signer's key does not make, and who may sign (3a) holds for
// every algorithm.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <openssl/cms.h>
#include <openssl/objects.h>

#include "formats/cms.h"
#include "formats/jws.h"
#include "formats/voucher_json.h"
#include "libvoucher/authority.h"
#include "libvoucher/encoding.h"
#include "libvoucher/file.h"
#include "libvoucher/ossl/signed_data.h"
#include "cms_by_hand.h"
#include "pki.h"
#include "testutil.h"

using namespace vouch;
using namespace vouch::formats;

namespace {

Bytes SampleVoucher(const test::Pki& pki) {
  return *EncodeVoucher(DraftVoucher(pki.Request(PrivateKey::Generate()->Public(), "SN-1"))->voucher);
}

std::string S(ByteView b) { return std::string(AsChars(b)); }

// A voucher signer of key type `alg` under the (P-256) manufacturer root.
Signer SignerOf(const test::Pki& pki, SignatureAlg alg, const CertSpec& spec = test::Spec("Signer")) {
  SigningKey key = *SigningKey::Generate(alg);
  return {key, {*IssueCertificate(pki.mfr_root, pki.mfr_root_key, key, spec), pki.mfr_root}};
}

// A flattened JWS over `payload` whose header says `alg`, signed by `key` whatever alg says.
std::string JwsClaiming(const std::string& alg, const SigningKey& key, const std::vector<Certificate>& x5c, ByteView payload) {
  nlohmann::ordered_json header = {{"alg", alg}};
  if (!x5c.empty()) {
    header["x5c"] = nlohmann::json::array();
    for (const auto& c : x5c) header["x5c"].push_back(Base64Encode(c.Der()));
  }
  std::string h64 = Base64UrlEncode(AsBytes(header.dump())), p64 = Base64UrlEncode(payload);
  Bytes sig = *key.Sign(AsBytes(h64 + "." + p64));
  return R"({"payload":")" + p64 + R"(","protected":")" + h64 + R"(","signature":")" + Base64UrlEncode(sig) + R"("})";
}

// The digest and signature algorithm short names of a CMS envelope's only SignerInfo.
std::pair<std::string, std::string> CmsAlgorithms(ByteView der) {
  const unsigned char* p = der.data();
  CMS_ContentInfo* cms = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size()));
  REQUIRE(cms);
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
  X509_ALGOR *digest = nullptr, *signature = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest, &signature);
  const ASN1_OBJECT *d = nullptr, *s = nullptr;
  X509_ALGOR_get0(&d, nullptr, nullptr, digest);
  X509_ALGOR_get0(&s, nullptr, nullptr, signature);
  std::pair<std::string, std::string> out{OBJ_nid2sn(OBJ_obj2nid(d)), OBJ_nid2sn(OBJ_obj2nid(s))};
  CMS_ContentInfo_free(cms);
  return out;
}

std::string Flip(std::string s, size_t at) {
  s[at] = s[at] == 'A' ? 'B' : 'A';
  return s;
}

}  // namespace

TEST_CASE("every signing key signs JWS vouchers that name its alg and verify", "[signature-algs]") {
  test::Pki pki = test::Pki::Make();
  Bytes payload = SampleVoucher(pki);
  for (SignatureAlg alg : kSignatureAlgs) {
    INFO(KeyTypeName(alg));
    Signer signer = SignerOf(pki, alg);
    auto env = SignJws(payload, signer);
    REQUIRE(env.ok());
    auto doc = nlohmann::json::parse(S(*env));
    auto header = nlohmann::json::parse(S(*Base64UrlDecode(doc["signatures"][0]["protected"].get<std::string>())));
    CHECK(header["alg"] == JwsAlgName(alg));
    CHECK(Base64UrlDecode(doc["signatures"][0]["signature"].get<std::string>())->size() == SignatureSize(alg));
    auto v = VerifyVoucher(*env, {pki.mfr_root}, TimePolicy::Now());
    REQUIRE(v.ok());
    CHECK(v->envelope.signer == signer.chain[0]);
    CHECK(v->envelope.payload == payload);

    // A path made of this key type only: a self-signed root of it issues the signer.
    SigningKey root_key = *SigningKey::Generate(alg);
    Certificate root = *SelfSign(root_key, test::Spec("Root", "", true));
    SigningKey leaf_key = *SigningKey::Generate(alg);
    Signer leaf{leaf_key, {*IssueCertificate(root, root_key, leaf_key, test::Spec("Leaf")), root}};
    CHECK(VerifyEnvelope(*SignJws(payload, leaf), {root}, TimePolicy::Now()).ok());
    // With no x5c, the anchor's own key verifies, when its type is the header's.
    CHECK(VerifyJws(AsBytes(JwsClaiming(std::string(JwsAlgName(alg)), root_key, {}, payload)), {pki.mfr_root, root},
                    TimePolicy::Now()).ok());
  }
}

TEST_CASE("a JWS whose alg is not its signer key's is refused, with or without x5c", "[signature-algs]") {
  test::Pki pki = test::Pki::Make();
  Bytes payload = SampleVoucher(pki);
  for (SignatureAlg alg : kSignatureAlgs) {
    Signer signer = SignerOf(pki, alg);
    SigningKey anchor_key = *SigningKey::Generate(alg);
    Certificate anchor = *SelfSign(anchor_key, test::Spec("Anchor", "", true));
    for (std::string claimed : {"ES256", "ES384", "EdDSA"}) {
      if (claimed == JwsAlgName(alg)) continue;
      INFO(KeyTypeName(alg) << " key, header alg " << claimed);
      // The signature is genuine, made by the certificate's key: only the claim is false.
      auto v = VerifyJws(AsBytes(JwsClaiming(claimed, signer.key, signer.chain, payload)), {pki.mfr_root}, TimePolicy::Now());
      CHECK(v.status().code() == Code::kBadSignature);
      CHECK(v.status().message().find("does not match the signer's " + std::string(KeyTypeName(alg)) + " key") !=
            std::string::npos);
      // No x5c: an anchor of another key type is not tried under this alg.
      CHECK(VerifyJws(AsBytes(JwsClaiming(claimed, anchor_key, {}, payload)), {anchor}, TimePolicy::Now()).status().code() ==
            Code::kUntrustedSigner);
    }
    for (std::string claimed : {"none", "HS256", "RS256", "ES512", "Ed25519"}) {
      INFO(KeyTypeName(alg) << " key, header alg " << claimed);
      CHECK(VerifyJws(AsBytes(JwsClaiming(claimed, signer.key, signer.chain, payload)), {pki.mfr_root}, TimePolicy::Now())
                .status().code() == Code::kUnsupported);
    }
  }
  // alg "none" with an empty signature (RFC 7518 3.6, an unsecured JWS): refused before any
  // key is looked at.
  Signer ed = SignerOf(pki, SignatureAlg::kEd25519);
  std::string h64 = Base64UrlEncode(AsBytes(R"({"alg":"none","x5c":[")" + Base64Encode(ed.chain[0].Der()) + R"("]})"));
  std::string none = R"({"payload":")" + Base64UrlEncode(payload) + R"(","protected":")" + h64 + R"(","signature":""})";
  CHECK(VerifyJws(AsBytes(none), {pki.mfr_root}, TimePolicy::Now()).status().code() == Code::kUnsupported);
}

TEST_CASE("a changed payload or signature is refused for every JWS alg", "[signature-algs]") {
  test::Pki pki = test::Pki::Make();
  for (SignatureAlg alg : kSignatureAlgs) {
    INFO(KeyTypeName(alg));
    auto doc = nlohmann::json::parse(S(*SignJws(SampleVoucher(pki), SignerOf(pki, alg))));
    auto t1 = doc;
    t1["payload"] = Flip(doc["payload"].get<std::string>(), 20);
    CHECK(VerifyJws(AsBytes(t1.dump()), {pki.mfr_root}, TimePolicy::Now()).status().code() == Code::kBadSignature);
    auto t2 = doc;
    t2["signatures"][0]["signature"] = Flip(doc["signatures"][0]["signature"].get<std::string>(), 5);
    CHECK(VerifyJws(AsBytes(t2.dump()), {pki.mfr_root}, TimePolicy::Now()).status().code() == Code::kBadSignature);
  }
}

TEST_CASE("CMS vouchers are signed ES256 with P-256 keys and ES384 with P-384 keys", "[signature-algs]") {
  test::Pki pki = test::Pki::Make();
  Bytes payload = SampleVoucher(pki);
  struct Case { SignatureAlg alg; const char* digest; const char* signature; };
  for (Case c : {Case{SignatureAlg::kEs256, "SHA256", "ecdsa-with-SHA256"}, Case{SignatureAlg::kEs384, "SHA384", "ecdsa-with-SHA384"}}) {
    INFO(KeyTypeName(c.alg));
    Signer signer = SignerOf(pki, c.alg);
    auto env = SignCms(payload, signer);
    REQUIRE(env.ok());
    CHECK(CmsAlgorithms(*env) == std::pair<std::string, std::string>{c.digest, c.signature});
    auto v = VerifyVoucher(*env, {pki.mfr_root}, TimePolicy::Now());
    REQUIRE(v.ok());
    CHECK(v->envelope.signer == signer.chain[0]);
    // A changed byte of the voucher inside: the signed digest no longer matches.
    Bytes tampered = *env;
    std::string text = S(tampered);
    size_t at = text.find("SN-1");
    REQUIRE(at != std::string::npos);
    tampered[at] = 'X';
    CHECK(VerifyCms(tampered, {pki.mfr_root}, TimePolicy::Now()).status().code() == Code::kBadSignature);
    // A changed signature: its last byte.
    Bytes sig_changed = *env;
    const unsigned char* p = env->data();
    CMS_ContentInfo* cms = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(env->size()));
    ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0));
    Bytes sig_der(ASN1_STRING_get0_data(sig), ASN1_STRING_get0_data(sig) + ASN1_STRING_length(sig));
    CMS_ContentInfo_free(cms);
    auto sig_at = std::search(sig_changed.begin(), sig_changed.end(), sig_der.begin(), sig_der.end());
    REQUIRE(sig_at != sig_changed.end());
    *(sig_at + static_cast<long>(sig_der.size()) - 1) ^= 1;
    CHECK(VerifyCms(sig_changed, {pki.mfr_root}, TimePolicy::Now()).status().code() == Code::kBadSignature);
  }
}

TEST_CASE("a CMS SignerInfo whose digest is not its key's is refused", "[signature-algs]") {
  test::Pki pki = test::Pki::Make();
  Bytes payload = SampleVoucher(pki);
  Signer p256 = SignerOf(pki, SignatureAlg::kEs256);
  Signer p384 = SignerOf(pki, SignatureAlg::kEs384);
  CHECK(VerifyCms(test::CmsSignedBy(payload, {p256}, EVP_sha256()), {pki.mfr_root}, TimePolicy::Now()).ok());
  CHECK(VerifyCms(test::CmsSignedBy(payload, {p384}, EVP_sha384()), {pki.mfr_root}, TimePolicy::Now()).ok());
  struct Case { const Signer* signer; const EVP_MD* md; };
  for (Case c : {Case{&p256, EVP_sha384()}, Case{&p256, EVP_sha1()}, Case{&p256, EVP_sha512()}, Case{&p384, EVP_sha256()},
                 Case{&p384, EVP_sha512()}}) {
    INFO(KeyTypeName(c.signer->key.alg()) << " with " << EVP_MD_get0_name(c.md));
    auto v = VerifyCms(test::CmsSignedBy(payload, {*c.signer}, c.md), {pki.mfr_root}, TimePolicy::Now());
    CHECK(v.status().code() == Code::kBadSignature);
    CHECK(v.status().message().find("signs with") != std::string::npos);
  }
}

TEST_CASE("EdDSA in CMS is refused as unsupported, signing and verifying", "[signature-algs]") {
  test::Pki pki = test::Pki::Make();
  Bytes payload = SampleVoucher(pki);
  for (SignatureAlg alg : {SignatureAlg::kEd25519, SignatureAlg::kEd448}) {
    INFO(KeyTypeName(alg));
    auto env = SignEnvelope(EnvelopeKind::kCms, payload, SignerOf(pki, alg));
    CHECK(env.status().code() == Code::kUnsupported);
    CHECK(env.status().message().find("OpenSSL 3.0") != std::string::npos);
  }
  // RFC 8419 SignedData made by another implementation (JDK 17 jarsigner: Ed25519 with
  // SHA-512, Ed448 with id-shake256-len 512; detached, over a jar's signature file).
  for (const char* file : {"jdk17-jarsigner-ed25519.p7s", "jdk17-jarsigner-ed448.p7s"}) {
    INFO(file);
    Bytes der = *ReadFile(test::VectorPath(file), kMaxVoucherSize);
    auto cms = ossl::SignedData::Parse(der, kMaxVoucherSize, file);
    REQUIRE(cms.ok());
    auto signer = cms->VerifySignatures();
    CHECK(signer.status().code() == Code::kUnsupported);
    CHECK(signer.status().message().find("OpenSSL 3.0") != std::string::npos);
  }
}

TEST_CASE("who may sign (DESIGN.md 3a) holds for every algorithm", "[signature-algs]") {
  test::Pki pki = test::Pki::Make();
  Bytes payload = SampleVoucher(pki);
  CertSpec server = test::Spec("TLS server");
  server.extended_key_usage = {"1.3.6.1.5.5.7.3.1"};
  CertSpec agreement = test::Spec("Key agreement");
  agreement.key_usage = key_usage::kKeyAgreement;
  CertSpec voucher_signer = test::Spec("Voucher signer");
  voucher_signer.extended_key_usage = {std::string(kVoucherSigningEku)};
  for (SignatureAlg alg : kSignatureAlgs) {
    std::vector<EnvelopeKind> kinds = {EnvelopeKind::kJws};
    if (alg == SignatureAlg::kEs256 || alg == SignatureAlg::kEs384) kinds.push_back(EnvelopeKind::kCms);
    for (EnvelopeKind kind : kinds) {
      INFO(KeyTypeName(alg) << " " << MediaType(kind));
      auto code = [&](const CertSpec& spec) {
        auto env = SignEnvelope(kind, payload, SignerOf(pki, alg, spec));
        REQUIRE(env.ok());
        return VerifyEnvelope(*env, {pki.mfr_root}, TimePolicy::Now()).status().code();
      };
      CHECK(code(server) == Code::kSignerNotAuthorized);
      CHECK(code(agreement) == Code::kSignerNotAuthorized);
      CHECK(code(voucher_signer) == Code::kOk);
    }
  }
}
