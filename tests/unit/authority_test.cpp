// Who may sign a voucher (DESIGN.md section 3a): the signer rules every verifier applies, in
// JWS and in CMS, and the stricter owner rule a device applies once it has an owner.
#include <catch2/catch.hpp>

#include "formats/envelope.h"
#include "formats/request.h"
#include "formats/voucher_json.h"
#include "libvoucher/authority.h"
#include "libvoucher/enroll.h"
#include "libvoucher/file.h"
#include "pki.h"
#include "testutil.h"

using namespace vouch;
using formats::EnvelopeKind;

namespace {

constexpr EnvelopeKind kKinds[] = {EnvelopeKind::kJws, EnvelopeKind::kCms};
const char* Name(EnvelopeKind k) { return k == EnvelopeKind::kJws ? "jws" : "cms"; }

const std::string kServerAuth = "1.3.6.1.5.5.7.3.1";

CertSpec Spec(const std::string& cn, std::optional<unsigned> ku, std::vector<std::string> eku = {}, bool ca = false) {
  CertSpec s = test::Spec(cn, "", ca);
  s.key_usage = ku;
  s.extended_key_usage = std::move(eku);
  return s;
}

// A signer whose certificate the manufacturer root issued with `spec`.
formats::Signer UnderRoot(const test::Pki& pki, const CertSpec& spec) {
  PrivateKey key = *PrivateKey::Generate();
  return {key, {*IssueCertificate(pki.mfr_root, pki.mfr_root_key, key.Public(), spec), pki.mfr_root}};
}

Bytes SampleVoucher(const test::Pki& pki) {
  return *formats::EncodeVoucher(DraftVoucher(pki.Request(PrivateKey::Generate()->Public(), "SN-1"))->voucher);
}

// The code VerifyEnvelope answers for a voucher `signer` made in `kind`, against `anchors`.
Code Verify(const test::Pki& pki, const formats::Signer& signer, EnvelopeKind kind, const std::vector<Certificate>& anchors) {
  auto env = formats::SignEnvelope(kind, SampleVoucher(pki), signer);
  REQUIRE(env.ok());
  return formats::VerifyEnvelope(*env, anchors, TimePolicy::Now()).status().code();
}

}  // namespace

TEST_CASE("a signer under a factory anchor needs digitalSignature and, with an EKU, the voucher-signing one",
          "[authority]") {
  test::Pki pki = test::Pki::Make();
  using namespace key_usage;
  struct Case {
    const char* what;
    CertSpec spec;
    Code want;
  };
  const Case cases[] = {
      {"keyAgreement only", Spec("ka", kKeyAgreement), Code::kSignerNotAuthorized},
      {"keyEncipherment only", Spec("ke", kKeyEncipherment), Code::kSignerNotAuthorized},
      {"nonRepudiation only", Spec("nr", kNonRepudiation), Code::kSignerNotAuthorized},
      {"serverAuth only", Spec("tls", kDigitalSignature, {kServerAuth}), Code::kSignerNotAuthorized},
      {"clientAuth only", Spec("client", kDigitalSignature, {std::string(kClientAuthEku)}), Code::kSignerNotAuthorized},
      {"an intermediate CA with keyCertSign only", Spec("sub CA", kKeyCertSign | kCrlSign, {}, true),
       Code::kSignerNotAuthorized},
      // What real MASA certificates carry (tests/vectors): neither keyUsage nor EKU.
      {"no keyUsage, no EKU", Spec("plain", 0), Code::kOk},
      {"digitalSignature", Spec("ds", kDigitalSignature), Code::kOk},
      {"digitalSignature and nonRepudiation", Spec("ds+nr", kDigitalSignature | kNonRepudiation), Code::kOk},
      {"the voucher-signing EKU", Spec("vs", kDigitalSignature, {std::string(kVoucherSigningEku)}), Code::kOk},
      {"serverAuth beside the voucher-signing EKU", Spec("vs+tls", 0, {kServerAuth, std::string(kVoucherSigningEku)}),
       Code::kOk},
      {"anyExtendedKeyUsage", Spec("any", kDigitalSignature, {"2.5.29.37.0"}), Code::kOk},
      {"an intermediate CA with digitalSignature", Spec("signing CA", kKeyCertSign | kDigitalSignature, {}, true),
       Code::kOk},
  };
  for (const Case& c : cases) {
    formats::Signer signer = UnderRoot(pki, c.spec);
    CHECK((CheckSignerAuthority(signer.chain[0]).code() == c.want));
    for (EnvelopeKind k : kKinds) {
      INFO(c.what << " in " << Name(k));
      Code got = Verify(pki, signer, k, {pki.mfr_root});
      CHECK(CodeName(got) == std::string(CodeName(c.want)));
    }
  }
}

TEST_CASE("a CA certificate signs only with keyUsage digitalSignature, even as its own anchor", "[authority]") {
  // A lone anchor is a one-certificate path, which OpenSSL's strict checks do not hold to
  // RFC 5280's "a CA has keyUsage": the signer rule does.
  PrivateKey key = *PrivateKey::Generate();
  for (auto [ku, want] : {std::pair{0u, Code::kSignerNotAuthorized},
                          std::pair{key_usage::kKeyCertSign | key_usage::kCrlSign, Code::kSignerNotAuthorized},
                          std::pair{key_usage::kKeyCertSign | key_usage::kDigitalSignature, Code::kOk}}) {
    Certificate ca = *SelfSign(key, Spec("Lone CA", ku, {}, true));
    test::Pki pki = test::Pki::Make();
    for (EnvelopeKind k : kKinds) {
      INFO("keyUsage " << ku << " in " << Name(k));
      CHECK(CodeName(Verify(pki, {key, {ca}}, k, {ca})) == std::string(CodeName(want)));
    }
  }
}

TEST_CASE("the real MASA signers of the vectors carry what the signer rule asks", "[authority]") {
  for (const char* name : {"rfc8366bis-example-masa.crt", "anima-wg-masa-00-D0-E5-F2-00-02.crt"}) {
    INFO(name);
    auto certs = LoadCertificates(test::VectorPath(name));
    REQUIRE(certs.ok());
    CHECK(CheckSignerAuthority((*certs)[0]).ok());
    CHECK_FALSE(HasVoucherSigningEku((*certs)[0]));
  }
  for (auto [voucher, anchor] : {std::pair{"rfc8366bis-example-voucher.vjj", "rfc8366bis-example-masa.crt"},
                                 std::pair{"anima-wg-voucher_00-D0-E5-F2-00-02.vcj", "anima-wg-masa-00-D0-E5-F2-00-02.crt"}}) {
    INFO(voucher);
    Bytes env = *ReadFile(test::VectorPath(voucher), formats::kMaxVoucherSize);
    CHECK(formats::VerifyVoucher(env, *LoadCertificates(test::VectorPath(anchor)), TimePolicy::None()).ok());
  }
}

TEST_CASE("the certificate vouch issues for Z names clientAuth and may not sign vouchers", "[authority]") {
  test::Pki pki = test::Pki::Make();
  Draft d = *DraftVoucher(pki.Request(PrivateKey::Generate()->Public(), "SN-1"));
  Certificate z_cert = *Certificate::FromDer(*d.voucher.enrollment->certificate);
  auto refusal = CheckSignerAuthority(z_cert);
  CHECK(refusal.code() == Code::kSignerNotAuthorized);
  CHECK(refusal.message().find("extendedKeyUsage") != std::string::npos);
  CHECK_FALSE(HasVoucherSigningEku(z_cert));
  CHECK(CheckNoSigningAuthority(z_cert).ok());
}

TEST_CASE("a certificate for Z that could sign vouchers or issue certificates is refused", "[authority]") {
  test::Pki pki = test::Pki::Make();
  PrivateKey x = *PrivateKey::Generate();
  Draft d = *DraftVoucher(pki.Request(x.Public(), "SN-1"));
  PublicKey z = *PublicKey::FromSpkiDer(d.voucher.enrollment->combined_key);
  auto issue = [&](const CertSpec& s) { return IssueCertificate(pki.owner_ca, pki.owner_key, z, s)->Der(); };
  for (const CertSpec& s : {Spec("SN-1", key_usage::kDigitalSignature, {std::string(kVoucherSigningEku)}),
                            Spec("SN-1", key_usage::kDigitalSignature, {"2.5.29.37.0"}),
                            Spec("SN-1", std::nullopt, {}, true)}) {
    Bytes der = issue(s);
    CHECK(CheckCertificateForZ(der, z, pki.owner_ca).status().code() == Code::kCertificateMismatch);
    // A manufacturer's `vouch sign` checks the same before it signs an owner's draft.
    Voucher v = d.voucher;
    v.enrollment->certificate = der;
    CHECK(CheckDraft(v, x.Public(), d.contribution).code() == Code::kCertificateMismatch);
  }
  // What older vouch issued (no EKU) is still a valid certificate for Z: the owner rule, not
  // this check, keeps it from signing.
  CHECK(CheckCertificateForZ(issue(Spec("SN-1", std::nullopt)), z, pki.owner_ca).ok());
}

namespace {

// Two devices of one owner's fleet, both enrolled by the manufacturer: the setting in which
// one device's certificate for Z could re-key its sibling.
struct Fleet {
  test::Pki pki = test::Pki::Make();
  struct Device {
    DeviceIdentity identity;
    std::optional<Applied> current;
    Enrolled enrolled;
  };
  Device one = Enroll("SN-1"), two = Enroll("SN-2");
  Instant now = Instant::Now();

  Device Enroll(const std::string& serial) {
    PrivateKey x = *PrivateKey::Generate();
    DeviceIdentity id{x, x.Public().Fingerprint(), serial, {pki.mfr_root}, true};
    DraftRequest r = pki.Request(x.Public(), serial);
    r.created_on = Instant::Now().Plus(-60);
    Voucher v = DraftVoucher(r)->voucher;
    auto d = Evaluate(id, std::nullopt, Candidate{&v, "first", pki.mfr_root, pki.mfr_signer}, Instant::Now());
    REQUIRE(d.ok());
    REQUIRE(d->enrolled);
    Applied a{"first", v.created_on, pki.owner_ca, d->enrolled->combined_key, Instant::Now()};
    return {id, a, *d->enrolled};
  }

  // A fresh voucher for device two, pinning the same owner, made with the owner's CA key.
  Voucher ForTwo() const {
    DraftRequest r = pki.Request(two.identity.key.Public(), two.identity.serial_number);
    return DraftVoucher(r)->voucher;
  }

  Result<Decision> JudgeByTwo(const Voucher& v, std::optional<Certificate> signer) const {
    return Evaluate(two.identity, two.current, Candidate{&v, "new", pki.owner_ca, std::move(signer)}, now);
  }
};

}  // namespace

TEST_CASE("a device's certificate for Z cannot sign a voucher for a sibling", "[authority]") {
  Fleet f;
  Voucher v = f.ForTwo();
  Certificate z1 = *f.one.enrolled.certificate;
  formats::Signer device_one{*f.one.enrolled.z, {z1}};
  std::vector<Certificate> anchors = AcceptedAnchors(f.two.identity, f.two.current);
  for (EnvelopeKind k : kKinds) {
    INFO(Name(k));
    // The certificate vouch issues for Z names clientAuth: refused by every verifier.
    auto env = formats::SignVoucher(v, k, device_one);
    REQUIRE(env.ok());
    CHECK(formats::VerifyVoucher(*env, anchors, TimePolicy::Now()).status().code() == Code::kSignerNotAuthorized);
  }
  // A certificate for Z made without any EKU (older vouch, other tools) passes the signer rule
  // and verifies to the owner's certificate, so the device's owner rule must refuse it.
  CertSpec plain = test::Spec("SN-1", "SN-1");
  Certificate legacy = *IssueCertificate(f.pki.owner_ca, f.pki.owner_key, f.one.enrolled.combined_key, plain);
  for (EnvelopeKind k : kKinds) {
    INFO(Name(k));
    auto env = formats::SignVoucher(v, k, {*f.one.enrolled.z, {legacy}});
    auto verified = formats::VerifyVoucher(*env, anchors, TimePolicy::Now());
    REQUIRE(verified.ok());
    CHECK(verified->envelope.anchor == f.pki.owner_ca);
    auto d = f.JudgeByTwo(verified->voucher, verified->envelope.signer);
    CHECK(d.status().code() == Code::kSignerNotAuthorized);
  }
  CHECK(f.JudgeByTwo(v, z1).status().code() == Code::kSignerNotAuthorized);
}

TEST_CASE("under the owner, the domain certificate or an explicit voucher signer may sign", "[authority]") {
  Fleet f;
  Voucher v = f.ForTwo();
  CHECK(f.JudgeByTwo(v, f.pki.owner_ca).ok());
  PrivateKey key = *PrivateKey::Generate();
  auto issued = [&](const CertSpec& s) { return *IssueCertificate(f.pki.owner_ca, f.pki.owner_key, key.Public(), s); };
  CHECK(f.JudgeByTwo(v, issued(Spec("owner's signer", key_usage::kDigitalSignature, {std::string(kVoucherSigningEku)}))).ok());
  // anyExtendedKeyUsage is enough under a manufacturer, not under an owner that issues
  // certificates for other purposes.
  CHECK(f.JudgeByTwo(v, issued(Spec("any", key_usage::kDigitalSignature, {"2.5.29.37.0"}))).status().code() ==
        Code::kSignerNotAuthorized);
  CHECK(f.JudgeByTwo(v, issued(Spec("plain", std::nullopt))).status().code() == Code::kSignerNotAuthorized);
  // A caller that does not say who signed gets a refusal, not the benefit of the doubt.
  CHECK(f.JudgeByTwo(v, std::nullopt).status().code() == Code::kSignerNotAuthorized);
  // The factory path is unchanged: the manufacturer's signer needs no owner rule.
  auto factory = Evaluate(f.two.identity, f.two.current, Candidate{&v, "new", f.pki.mfr_root, f.pki.mfr_signer}, f.now);
  CHECK(factory.ok());
  // The device applies the signer rule itself, whichever verifier ran before it.
  PrivateKey ka_key = *PrivateKey::Generate();
  Certificate ka = *IssueCertificate(f.pki.mfr_root, f.pki.mfr_root_key, ka_key.Public(),
                                     Spec("ka", key_usage::kKeyAgreement));
  CHECK(Evaluate(f.two.identity, f.two.current, Candidate{&v, "new", f.pki.mfr_root, ka}, f.now).status().code() ==
        Code::kSignerNotAuthorized);
}

TEST_CASE("a voucher request must be signed by the domain certificate it pins", "[authority]") {
  test::Pki pki = test::Pki::Make();
  PrivateKey x = *PrivateKey::Generate();
  Draft d = *DraftVoucher(pki.Request(x.Public(), "SN-1"));
  CHECK(formats::OpenRequest(*formats::EncodeRequest(d, pki.Owner()), {}, TimePolicy::Now()).ok());
  // A certificate the owner issued (here one for another purpose) chains to the domain
  // certificate, but does not speak for the owner.
  PrivateKey key = *PrivateKey::Generate();
  Certificate leaf = *IssueCertificate(pki.owner_ca, pki.owner_key, key.Public(), test::Spec("device"));
  auto r = formats::OpenRequest(*formats::EncodeRequest(d, {key, {leaf, pki.owner_ca}}), {}, TimePolicy::Now());
  CHECK(r.status().code() == Code::kSignerNotAuthorized);
}
