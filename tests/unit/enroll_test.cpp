#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <map>

#include "device/fetch.h"
#include "device/judge.h"
#include "device/protocol.h"
#include "formats/envelope.h"
#include "formats/voucher_json.h"
#include "libvoucher/authority.h"
#include "libvoucher/cogen.h"
#include "libvoucher/device_state.h"
#include "libvoucher/eddsa.h"
#include "libvoucher/encoding.h"
#include "libvoucher/file.h"
#include "libvoucher/group.h"
#include "libvoucher/hpke.h"
#include "libvoucher/montgomery.h"
#include "libvoucher/suite.h"
#include "libvoucher/ossl/handles.h"
#include "libvoucher/ossl/p256.h"
#include "pki.h"
#include "testutil.h"

using namespace vouch;
namespace fs = std::filesystem;

namespace {

// Every file's bytes and every link's target under a directory: "byte-for-byte unchanged".
std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    std::string rel = fs::relative(e.path(), dir).string();
    if (fs::is_symlink(e.symlink_status())) out[rel] = "-> " + fs::read_symlink(e.path()).string();
    else if (e.is_regular_file()) out[rel] = test::ReadText(e.path());
    else out[rel] = "dir";
  }
  return out;
}

struct Fixture {
  test::TempDir tmp;
  test::Pki pki = test::Pki::Make();
  DeviceState device;
  std::string serial = "SN-42";

  explicit Fixture(bool trusted_clock = true, Group group = Group::kP256) {
    InitOptions o;
    o.group = group;
    o.serial_number = serial;
    o.anchors = {pki.mfr_root};
    o.trusted_clock = trusted_clock;
    device = *DeviceState::Init(tmp / "state", o);
  }

  DraftRequest Request() const { return pki.Request(device.identity().key.Public(), serial); }

  Bytes Sign(const Voucher& v, const formats::Signer& signer, formats::EnvelopeKind k = formats::EnvelopeKind::kJws) {
    return formats::SignVoucher(v, k, signer)->bytes;
  }
  Bytes Issue(DraftRequest r) { return Sign(DraftVoucher(r)->voucher, pki.Manufacturer()); }
  Bytes Issue() { return Issue(Request()); }

  device::EnrollReport Accept(const Bytes& envelope, bool dry_run = false) {
    auto r = device::Enroll(device, {{"test", envelope}}, dry_run);
    REQUIRE(r.ok());
    return *r;
  }
  // The refusal code of one envelope, after checking the state did not change at all.
  Code Refusal(const Bytes& envelope) {
    auto before = Snapshot(tmp / "state");
    auto r = Accept(envelope);
    CHECK(Snapshot(tmp / "state") == before);
    CHECK(r.outcome == device::EnrollReport::Outcome::kAllRefused);
    return r.candidates.at(0).status.code();
  }
};

}  // namespace

TEST_CASE("a fetch parses each envelope once, the one it applies included", "[enroll]") {
  Fixture f;
  std::vector<device::Found> found;
  for (int i = 0; i < 5; ++i) found.push_back({"stick/" + std::to_string(i), f.Issue()});
  found.push_back({"stick/other", f.Issue(f.pki.Request(PrivateKey::Generate()->Public(), "SN-9"))});  // refused
  found.push_back({"stick/copy", found[0].envelope});     // the same voucher: judged once
  found.push_back({"stick/junk", Bytes{'n', 'o', 'p', 'e'}});  // not an envelope: never parsed
  uint64_t parses = formats::EnvelopeParses();
  auto r = device::Enroll(f.device, found, false);
  REQUIRE(r.ok());
  CHECK(r->outcome == device::EnrollReport::Outcome::kEnrolled);
  // Verified once as they came; the decision under the lock re-judges the kept ones without
  // parsing them again.
  CHECK(formats::EnvelopeParses() - parses == 6);
}

TEST_CASE("a device re-initialised while a fetch judged verifies what it kept again", "[enroll]") {
  Fixture f(/*trusted_clock=*/false);
  // A signer whose certificate expired: fine for a device without a clock.
  PrivateKey old_key = *PrivateKey::Generate();
  CertSpec spec = test::Spec("Expired Voucher Signer");
  spec.not_before = Instant::Now().Plus(-400 * 86400);
  spec.days = 1;
  Certificate expired = *IssueCertificate(f.pki.mfr_root, f.pki.mfr_root_key, old_key.Public(), spec);
  Bytes envelope = f.Sign(DraftVoucher(f.Request())->voucher, {old_key, {expired, f.pki.mfr_root}});
  device::Judge judge(f.device);
  judge.Consider("stick/a", envelope);
  // Reset to a trusted clock between the judging and the decision under the lock: what was
  // kept is verified again, under the clock, rather than applied on the old verdict.
  InitOptions o;
  o.serial_number = f.serial;
  o.anchors = {f.pki.mfr_root};
  o.trusted_clock = true;
  o.reset = ResetMode::kKeepKey;
  auto fresh = DeviceState::Init(f.tmp / "state", o);
  REQUIRE(fresh.ok());
  auto r = judge.Finish(*fresh, false);
  REQUIRE(r.ok());
  CHECK(r->outcome == device::EnrollReport::Outcome::kAllRefused);
  REQUIRE(r->candidates.size() == 1);
  CHECK(r->candidates[0].status.code() == Code::kExpired);
  CHECK(!fresh->current());
}

TEST_CASE("a new owner applied while a fetch judged: what was kept is verified against the new anchors", "[enroll]") {
  Fixture f;
  // D2, a domain CA the manufacturer certified, and S, a voucher signer under D2.
  PrivateKey d2_key = *PrivateKey::Generate(), s_key = *PrivateKey::Generate();
  Certificate d2 = *IssueCertificate(f.pki.mfr_root, f.pki.mfr_root_key, d2_key.Public(), test::Spec("Owner Two CA", "", true));
  CertSpec s_spec = test::Spec("Owner Two Voucher Signer");
  s_spec.extended_key_usage = {std::string(kVoucherSigningEku)};
  Certificate s = *IssueCertificate(d2, d2_key, s_key.Public(), s_spec);
  // Judged against the unowned device, S's voucher pinning another owner chains to the
  // factory anchor through D2: acceptable, kept.
  DraftRequest later = f.Request();
  later.created_on = Instant::Now().Plus(60);
  device::Judge judge(f.device);
  judge.Consider("stick/s", f.Sign(DraftVoucher(later)->voucher, {s_key, {s, d2}}));
  // Meanwhile another fetch applies a voucher that makes D2 the owner.
  DraftRequest to_d2 = f.Request();
  to_d2.domain_ca = d2;
  to_d2.domain_ca_key = d2_key;
  auto other = DeviceState::Open(f.tmp / "state");
  REQUIRE(other.ok());
  REQUIRE(device::Enroll(*other, {{"other", f.Issue(to_d2)}}, false)->outcome == device::EnrollReport::Outcome::kEnrolled);
  // Under the lock the owner's certificate D2 is an anchor: the path ends there and the
  // owner's rules apply. S is only D2's voucher signer, and its voucher pinning another owner
  // would give the device away, which only D2 itself may do.
  auto fresh = DeviceState::Open(f.tmp / "state");
  REQUIRE(fresh.ok());
  auto r = judge.Finish(*fresh, false);
  REQUIRE(r.ok());
  CHECK(r->outcome == device::EnrollReport::Outcome::kAllRefused);
  REQUIRE(r->candidates.size() == 1);
  CHECK(r->candidates[0].status.code() == Code::kSignerNotAuthorized);
  CHECK(fresh->current()->domain_ca == d2);
}

TEST_CASE("a device enrolls: z is x + y, Z is certified, state is 0600 where secret", "[enroll]") {
  Fixture f;
  Bytes env = f.Issue();
  auto r = f.Accept(env);
  REQUIRE(r.outcome == device::EnrollReport::Outcome::kEnrolled);
  CHECK(r.generation == 1);
  fs::path gen = f.tmp / "state" / "current";
  auto z = LoadPrivateKey(gen / "z.key");
  REQUIRE(z.ok());
  auto v = *formats::DecodeVoucher(formats::OpenEnvelopeUnverified(env)->payload);
  CHECK(z->Public().SpkiDer() == v.enrollment->combined_key);
  CHECK(z->Public().Fingerprint() == r.combined_key);
  auto cert = LoadCertificates(gen / "certificate.pem");
  REQUIRE(cert.ok());
  CHECK((*cert)[0].Key().value() == z->Public());
  struct stat st;
  REQUIRE(::stat((gen / "z.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((f.tmp / "state").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  // Reopening reads the same state back.
  auto reopened = DeviceState::Open(f.tmp / "state");
  REQUIRE(reopened.ok());
  CHECK(reopened->current()->voucher_id == formats::VoucherId(formats::EnvelopeKind::kJws, env));
}

TEST_CASE("the same voucher again is a no-op, an older one is a rollback", "[enroll]") {
  Fixture f;
  DraftRequest older = f.Request();
  older.created_on = Instant::Now().Plus(-3600);
  Bytes old_env = f.Issue(older);
  Bytes new_env = f.Issue();
  REQUIRE(f.Accept(new_env).outcome == device::EnrollReport::Outcome::kEnrolled);
  auto before = Snapshot(f.tmp / "state");
  CHECK(f.Accept(new_env).outcome == device::EnrollReport::Outcome::kAlreadyCurrent);
  CHECK(Snapshot(f.tmp / "state") == before);
  CHECK(f.Refusal(old_env) == Code::kRollback);
}

TEST_CASE("of several acceptable vouchers the newest is applied", "[enroll]") {
  Fixture f;
  DraftRequest a = f.Request(), b = f.Request(), c = f.Request();
  a.created_on = Instant::Now().Plus(-300);
  c.created_on = Instant::Now().Plus(-600);
  auto r = device::Enroll(f.device, {{"a", f.Issue(a)}, {"b", f.Issue(b)}, {"c", f.Issue(c)}}, false);
  REQUIRE(r.ok());
  CHECK(r->outcome == device::EnrollReport::Outcome::kEnrolled);
  CHECK(r->candidates[1].applied);
  CHECK_FALSE(r->candidates[0].applied);
  CHECK(f.device.current()->created_on == b.created_on.WholeSeconds());  // drafts are whole seconds
}

TEST_CASE("refusals carry stable codes and leave the state unchanged", "[enroll]") {
  // Every refusal, for every suite (DESIGN.md 3).
  const Group g = GENERATE(Group::kP256, Group::kEd25519, Group::kEd448);
  INFO(GroupName(g));
  Fixture f(true, g);
  Bytes good = f.Issue();
  SECTION("unknown anchor") { CHECK(f.Refusal(f.Sign(DraftVoucher(f.Request())->voucher, f.pki.Stranger())) == Code::kUntrustedSigner); }
  SECTION("tampered payload") {
    auto doc = nlohmann::json::parse(std::string(AsChars(good)));
    std::string p = doc["payload"];
    p[40] = p[40] == 'A' ? 'B' : 'A';
    doc["payload"] = p;
    CHECK(f.Refusal(ToBytes(doc.dump())) == Code::kBadSignature);
  }
  SECTION("tampered signature") {
    auto doc = nlohmann::json::parse(std::string(AsChars(good)));
    std::string s = doc["signatures"][0]["signature"];
    s[10] = s[10] == 'A' ? 'B' : 'A';
    doc["signatures"][0]["signature"] = s;
    CHECK(f.Refusal(ToBytes(doc.dump())) == Code::kBadSignature);
  }
  SECTION("truncated and non-JSON input") {
    CHECK(f.Refusal(Bytes(good.begin(), good.begin() + good.size() / 2)) == Code::kMalformed);
    CHECK(f.Refusal(ToBytes("hello")) == Code::kMalformed);
    CHECK(f.Refusal(Bytes{}) == Code::kMalformed);
  }
  SECTION("oversize input") { CHECK(f.Refusal(Bytes(formats::kMaxVoucherSize + 1, '{')) == Code::kTooLarge); }
  SECTION("wrong device key") {
    DraftRequest r = f.Request();
    r.device_key = PrivateKey::Generate(g)->Public();
    CHECK(f.Refusal(f.Issue(r)) == Code::kWrongDevice);
  }
  SECTION("wrong serial") {
    DraftRequest r = f.Request();
    r.serial_number = "SN-43";
    CHECK(f.Refusal(f.Issue(r)) == Code::kWrongSerial);
  }
  SECTION("expired voucher with a trusted clock") {
    DraftRequest r = f.Request();
    r.created_on = Instant::Now().Plus(-7200);
    r.expires_on = Instant::Now().Plus(-3600);
    CHECK(f.Refusal(f.Issue(r)) == Code::kExpired);
  }
  SECTION("voucher from the future with a trusted clock") {
    DraftRequest r = f.Request();
    r.created_on = Instant::Now().Plus(3600);
    CHECK(f.Refusal(f.Issue(r)) == Code::kNotYetValid);
  }
  SECTION("an owner that lies about Z") {
    Voucher v = DraftVoucher(f.Request())->voucher;
    v.enrollment->combined_key = PrivateKey::Generate(g)->Public().SpkiDer();
    v.enrollment->certificate.reset();
    CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kCombinedKeyMismatch);
  }
  SECTION("a contribution whose Y_i is not its y_i's (Z made to match the false Y_i)") {
    Voucher v = DraftVoucher(f.Request())->voucher;
    PublicKey fake = PrivateKey::Generate(g)->Public();
    v.enrollment->contributions[0].key = fake.SpkiDer();
    v.enrollment->combined_key = cogen::CombinePublic(f.device.identity().key.Public(), fake)->SpkiDer();
    v.enrollment->certificate.reset();
    CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kContributionMismatch);
  }
  SECTION("a missing contribution") {
    DraftRequest r = f.Request();
    for (int i = 0; i < 2; ++i) {
      auto c = *cogen::Contribute(r.device_key);
      r.contributions.push_back(*cogen::Seal(r.device_key, r.device_key.Fingerprint(), c.y));
    }
    Voucher v = DraftVoucher(r)->voucher;
    REQUIRE(v.enrollment->contributions.size() == 3);
    v.enrollment->contributions.erase(v.enrollment->contributions.begin() + 1);
    CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kCombinedKeyMismatch);
  }
  SECTION("a contribution sealed to another device key") {
    DraftRequest r = f.Request();
    PublicKey other = PrivateKey::Generate(g)->Public();
    auto c = *cogen::Contribute(other);
    // Y_i is honest, its proof is for this X and Z = X + sum Y_i holds, but the device cannot
    // open this y_i.
    SealedContribution sealed = *cogen::Seal(other, r.device_key.Fingerprint(), c.y);
    sealed.proof = *cogen::ProvePossession(c.y, r.device_key);
    r.contributions.push_back(sealed);
    CHECK(f.Refusal(f.Issue(r)) == Code::kDecryptFailed);
  }
  SECTION("mixed suites in one voucher") {
    const Group other = g == Group::kP256 ? Group::kEd25519 : Group::kP256;
    Voucher v = DraftVoucher(f.Request())->voucher;
    v.enrollment->contributions[0].key = PrivateKey::Generate(other)->Public().SpkiDer();
    CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kMalformed);
    v = DraftVoucher(f.Request())->voucher;
    v.enrollment->combined_key = PrivateKey::Generate(other)->Public().SpkiDer();
    CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kMalformed);
  }
  SECTION("more contributions than the cap") {
    Voucher v = DraftVoucher(f.Request())->voucher;
    while (v.enrollment->contributions.size() <= cogen::kMaxContributions) {
      v.enrollment->contributions.push_back(v.enrollment->contributions[0]);
    }
    CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kTooLarge);
  }
  SECTION("a certificate for Z whose construction names another device") {
    Voucher v = DraftVoucher(f.Request())->voucher;
    auto z = *PublicKey::FromSpkiDer(v.enrollment->combined_key);
    CertSpec spec = test::Spec("SN-42", "SN-42");
    spec.extended_key_usage = {std::string(kClientAuthEku)};
    PrivateKey other = *PrivateKey::Generate(g);
    auto c = *cogen::Contribute(other.Public());
    spec.construction = Construction{other.Public(), {c.y.Public()}, {*cogen::ProvePossession(c.y, other.Public())}};
    v.enrollment->certificate = IssueCertificate(f.pki.owner_ca, f.pki.owner_key, z, spec)->Der();
    CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kCertificateMismatch);
  }
  SECTION("ciphertext of y changed before signing") {
    Voucher v = DraftVoucher(f.Request())->voucher;
    v.enrollment->contributions[0].ct[3] ^= 1;
    CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kDecryptFailed);
  }
  SECTION("certificate whose key is not Z") {
    Voucher v = DraftVoucher(f.Request())->voucher;
    CertSpec spec = test::Spec("SN-42", "SN-42");
    v.enrollment->certificate = IssueCertificate(f.pki.owner_ca, f.pki.owner_key, PrivateKey::Generate(g)->Public(), spec)->Der();
    CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kCertificateMismatch);
  }
  SECTION("certificate not under the pinned domain certificate") {
    Voucher v = DraftVoucher(f.Request())->voucher;
    auto z = *PublicKey::FromSpkiDer(v.enrollment->combined_key);
    v.enrollment->certificate = IssueCertificate(f.pki.stranger, f.pki.stranger_key, z, test::Spec("SN-42"))->Der();
    CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kCertificateMismatch);
  }
  SECTION("unsupported suite") {
    Voucher v = DraftVoucher(f.Request())->voucher;
    v.enrollment->suite = "X9999-HPKE-SHA256-ROT13";
    CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kUnsupported);
  }
  SECTION("another suite than the device key's") {
    Voucher v = DraftVoucher(f.Request())->voucher;
    v.enrollment->suite = g == Group::kEd25519 ? "X448-HPKE-SHA512-AES256GCM" : "X25519-HPKE-SHA256-CHACHA20POLY1305";
    CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kWrongDevice);
  }
  SECTION("a voucher without enrollment") {
    Voucher v = DraftVoucher(f.Request())->voucher;
    v.enrollment.reset();
    CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kUnsupported);
  }
  // After every refusal the good voucher still applies.
  CHECK(f.Accept(good).outcome == device::EnrollReport::Outcome::kEnrolled);
}

TEST_CASE("without a trusted clock an expired voucher is accepted", "[enroll]") {
  Fixture f(/*trusted_clock=*/false);
  DraftRequest r = f.Request();
  r.created_on = Instant::Now().Plus(-7200);
  r.expires_on = Instant::Now().Plus(-3600);
  CHECK(f.Accept(f.Issue(r)).outcome == device::EnrollReport::Outcome::kEnrolled);
}

TEST_CASE("a dry run judges but writes nothing", "[enroll]") {
  Fixture f;
  auto before = Snapshot(f.tmp / "state");
  auto r = f.Accept(f.Issue(), /*dry_run=*/true);
  CHECK(r.outcome == device::EnrollReport::Outcome::kEnrolled);
  CHECK(Snapshot(f.tmp / "state") == before);
  CHECK_FALSE(f.device.current().has_value());
}

TEST_CASE("CMS vouchers enroll a device just as JWS ones do", "[enroll]") {
  Fixture f;
  Bytes env = f.Sign(DraftVoucher(f.Request())->voucher, f.pki.Manufacturer(), formats::EnvelopeKind::kCms);
  CHECK(f.Accept(env).outcome == device::EnrollReport::Outcome::kEnrolled);
  CHECK(fs::exists(f.tmp / "state" / "current" / "voucher.vcj"));
}

TEST_CASE("once enrolled, the owner can re-key its device without the manufacturer", "[enroll][owner]") {
  Fixture f;
  REQUIRE(f.Accept(f.Issue()).outcome == device::EnrollReport::Outcome::kEnrolled);
  std::string first_key = f.device.current()->combined_key.Fingerprint();
  DraftRequest r = f.Request();
  r.created_on = Instant::Now().Plus(1);
  Bytes rekey = f.Sign(DraftVoucher(r)->voucher, f.pki.Owner());
  auto rep = f.Accept(rekey);
  REQUIRE(rep.outcome == device::EnrollReport::Outcome::kEnrolled);
  CHECK(rep.generation == 2);
  CHECK(f.device.current()->combined_key.Fingerprint() != first_key);
  CHECK_FALSE(fs::exists(f.tmp / "state" / "gen-1"));  // the old generation is gone

  SECTION("an owner-signed voucher pinning a new owner is a transfer") {
    auto other_key = *PrivateKey::Generate();
    DraftRequest o = f.Request();
    o.created_on = Instant::Now().Plus(2);
    o.domain_ca = *SelfSign(other_key, test::Spec("Other Owner", "", true));
    o.domain_ca_key = other_key;
    auto t = f.Accept(f.Sign(DraftVoucher(o)->voucher, f.pki.Owner()));
    CHECK(t.outcome == device::EnrollReport::Outcome::kEnrolled);
    CHECK(t.change == "transferred");
  }
  SECTION("the manufacturer can still move the device to a new owner") {
    auto other_key = *PrivateKey::Generate();
    DraftRequest o = f.Request();
    o.created_on = Instant::Now().Plus(2);
    o.domain_ca = *SelfSign(other_key, test::Spec("Other Owner", "", true));
    o.domain_ca_key = other_key;
    CHECK(f.Accept(f.Issue(o)).outcome == device::EnrollReport::Outcome::kEnrolled);
    CHECK(f.device.current()->domain_ca.Subject() == "CN=Other Owner");
  }
}

TEST_CASE("an owner-signed voucher is refused by a device that has no owner", "[enroll][owner]") {
  Fixture f;
  CHECK(f.Refusal(f.Sign(DraftVoucher(f.Request())->voucher, f.pki.Owner())) == Code::kUntrustedSigner);
}

TEST_CASE("a factory reset forgets the owner and keeps the key", "[enroll][owner]") {
  Fixture f;
  REQUIRE(f.Accept(f.Issue()).outcome == device::EnrollReport::Outcome::kEnrolled);
  std::string udf = f.device.identity().udf;
  InitOptions o{f.serial, {f.pki.mfr_root}, true, ResetMode::kRefuse};
  CHECK(DeviceState::Init(f.tmp / "state", o).status().code() == Code::kExists);
  o.reset = ResetMode::kKeepKey;
  auto reset = DeviceState::Init(f.tmp / "state", o);
  REQUIRE(reset.ok());
  CHECK(reset->identity().udf == udf);
  CHECK_FALSE(reset->current().has_value());
  CHECK_FALSE(fs::exists(f.tmp / "state" / "current"));
  o.reset = ResetMode::kNewKey;
  CHECK(DeviceState::Init(f.tmp / "state", o)->identity().udf != udf);
}

TEST_CASE("a generation left behind by a crash is ignored and cleaned up", "[enroll][crash]") {
  Fixture f;
  REQUIRE(f.Accept(f.Issue()).outcome == device::EnrollReport::Outcome::kEnrolled);
  // A crash after writing gen-2 but before swapping `current`: gen-2 exists, current -> gen-1.
  fs::create_directory(f.tmp / "state" / "gen-2");
  fs::create_directory(f.tmp / "state" / ".gen-3.tmp-1");
  auto reopened = DeviceState::Open(f.tmp / "state");
  REQUIRE(reopened.ok());
  CHECK(reopened->generation() == 1);
  DraftRequest r = f.Request();
  r.created_on = Instant::Now().Plus(1);
  auto rep = device::Enroll(*reopened, {{"new", f.Issue(r)}}, false);
  REQUIRE(rep.ok());
  CHECK(rep->generation == 3);
  CHECK(fs::read_symlink(f.tmp / "state" / "current") == "gen-3");
  CHECK_FALSE(fs::exists(f.tmp / "state" / "gen-2"));
  CHECK_FALSE(fs::exists(f.tmp / "state" / ".gen-3.tmp-1"));
}

// A stand-in for vouch-medium-reader: a shell script that writes `stream` (protocol records)
// and then does `then` (exit 0, a crash, a hang).
namespace {

std::filesystem::path FakeReader(const test::TempDir& tmp, const std::string& name, const Bytes& stream,
                                 const std::string& then) {
  fs::path data = tmp / (name + ".bin");
  REQUIRE(WriteFileAtomic(data, stream).ok());
  fs::path script = tmp / name;
  std::string text = "#!/bin/sh\ncat '" + data.string() + "'\n" + then + "\n";
  REQUIRE(WriteFileAtomic(script, AsBytes(text), 0755).ok());
  return script;
}

Bytes Stream(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST_CASE("a reader that crashes, hangs or lies is a refusal, never a changed state", "[enroll][reader]") {
  Fixture f;
  Bytes env = f.Issue();
  Bytes good = Stream({*device::EncodeVoucher("stick/x.vjj", env)});
  fs::create_directory(f.tmp / "stick");
  auto fetch = [&](const fs::path& reader, int deadline_ms = 15000) {
    device::FetchOptions o;
    o.reader = reader;
    o.deadline = std::chrono::milliseconds(deadline_ms);
    auto before = Snapshot(f.tmp / "state");
    auto r = device::Fetch(f.tmp / "state", {(f.tmp / "stick").string()}, o);
    REQUIRE(r.ok());
    return std::make_pair(*r, before);
  };
  auto refused = [&](const fs::path& reader, const std::string& why, int deadline_ms = 15000) {
    auto [r, before] = fetch(reader, deadline_ms);
    CHECK(r.outcome == device::EnrollReport::Outcome::kAllRefused);
    bool said = false;
    for (const auto& c : r.candidates) {
      CHECK_FALSE(c.applied);
      if (c.status.code() == Code::kReaderFailed && c.status.message().find(why) != std::string::npos) said = true;
    }
    CHECK(said);
    auto after = Snapshot(f.tmp / "state");
    after.erase("lock");
    before.erase("lock");
    CHECK(after == before);
  };
  // The control: the same voucher, and the end record, from a reader that exits 0, enrolls.
  SECTION("a well-behaved reader") {
    auto [r, before] = fetch(FakeReader(f.tmp, "ok", Stream({good, device::EncodeEnd()}), "exit 0"));
    CHECK(r.outcome == device::EnrollReport::Outcome::kEnrolled);
  }
  // A genuine voucher sent, then the reader dies: nothing it sent is applied.
  SECTION("killed after a good voucher") { refused(FakeReader(f.tmp, "kill", good, "kill -KILL $$"), "signal 9"); }
  SECTION("aborted after its end record") {
    refused(FakeReader(f.tmp, "abrt", Stream({good, device::EncodeEnd()}), "kill -ABRT $$"), "signal 6");
  }
  SECTION("exits non-zero") { refused(FakeReader(f.tmp, "exit", Stream({good, device::EncodeEnd()}), "exit 3"), "exit status 3"); }
  SECTION("ends without its end record") { refused(FakeReader(f.tmp, "short", good, "exit 0"), "without its end record"); }
  SECTION("breaks the protocol") {
    refused(FakeReader(f.tmp, "junk", Stream({good, Bytes{'Z', 0, 0, 0, 0}, device::EncodeEnd()}), "exit 0"), "protocol");
  }
  SECTION("hangs past its deadline") { refused(FakeReader(f.tmp, "hang", good, "exec sleep 30"), "did not finish", 1000); }
  SECTION("closes its pipe, then sleeps on") {
    refused(FakeReader(f.tmp, "closed", good, "exec 1>&-; exec sleep 30"), "did not finish", 1000);
  }
  // A medium reader that saw git caches: the git reader is started after it, and what either
  // sent is judged together; the git reader may not ask for another.
  auto with_git = [&](const Bytes& git_stream, const std::string& then) {
    device::FetchOptions o;
    o.reader = FakeReader(f.tmp, "medium", Stream({device::EncodeGit(), device::EncodeEnd()}), "exit 0");
    o.git_reader = FakeReader(f.tmp, "git", git_stream, then);
    auto r = device::Fetch(f.tmp / "state", {(f.tmp / "stick").string()}, o);
    REQUIRE(r.ok());
    return *r;
  };
  SECTION("a git reader after the medium reader") {
    CHECK(with_git(Stream({good, device::EncodeEnd()}), "exit 0").outcome == device::EnrollReport::Outcome::kEnrolled);
  }
  SECTION("a git reader that fails, or sends a git record") {
    CHECK(with_git(Stream({good, device::EncodeEnd()}), "exit 3").outcome == device::EnrollReport::Outcome::kAllRefused);
    CHECK(with_git(Stream({good, device::EncodeGit(), device::EncodeEnd()}), "exit 0").outcome ==
          device::EnrollReport::Outcome::kAllRefused);
  }
}

namespace {

// -k, in the group's scalar encoding (P-256 through OpenSSL, the Edwards groups through group.h).
SecretBytes Negated(Group g, const SecretBytes& k) {
  if (g != Group::kP256) return group::NegateScalar(g, k.view()).value();
  auto bk = p256::DecodeScalar(k.view()).value();
  ossl::SecretBnPtr neg(BN_secure_new());
  REQUIRE(BN_sub(neg.get(), p256::Order(), bk.get()) == 1);
  return p256::EncodeScalar(neg.get());
}

}  // namespace

// Review: a voucher of the older form names no Y, so the device cannot compare a
// certificate's construction with the voucher's contributions; it checked only that the
// construction starts from X and sums to Z. Any split of Z - X into several keys passes, and
// the certificate the device keeps then names contributors (an "escrow") that were never in
// the voucher. With one contribution, X + Y = Z forces Y = y*G, so that is all a certificate
// of an older-form voucher may name.
TEST_CASE("an older-form voucher's certificate cannot name contributions the voucher lacks", "[enroll]") {
  const Group g = Group::kP256;  // the older form is the first release's, P-256 only (below)
  INFO(GroupName(g));
  Fixture f(true, g);
  Voucher v = DraftVoucher(f.Request())->voucher;
  PublicKey x = f.device.identity().key.Public();
  PublicKey y = *PublicKey::FromSpkiDer(*v.enrollment->contributions[0].key);
  PublicKey z = *PublicKey::FromSpkiDer(v.enrollment->combined_key);
  v.enrollment->contributions[0].key.reset();  // the older form: enc and ct only
  // Y = (Y + K) + (-K): an invented "escrow" key and its complement, no y known for either.
  SecretBytes k = group::RandomScalar(g).value();
  PublicKey escrow = *cogen::CombinePublic(y, PrivateKey::FromScalar(g, k.view())->Public());
  PublicKey rest = PrivateKey::FromScalar(g, Negated(g, k).view())->Public();
  REQUIRE(*cogen::CombinePublic(x, std::vector<PublicKey>{escrow, rest}) == z);
  CertSpec spec = test::Spec("SN-42", "SN-42");
  spec.extended_key_usage = {std::string(kClientAuthEku)};
  spec.construction = Construction{x, {escrow, rest}, {Bytes(64, 1), Bytes(64, 2)}};
  v.enrollment->certificate = IssueCertificate(f.pki.owner_ca, f.pki.owner_key, z, spec)->Der();
  CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kCertificateMismatch);
  // A certificate without a construction (as the first release issued them) still enrolls.
  spec.construction.reset();
  v.enrollment->certificate = IssueCertificate(f.pki.owner_ca, f.pki.owner_key, z, spec)->Der();
  CHECK(f.Accept(f.Sign(v, f.pki.Manufacturer())).outcome == device::EnrollReport::Outcome::kEnrolled);
}

// Review: DESIGN.md 3b says a relying party that checks Z = X + sum Y_i knows that only the
// device can hold z. Additive aggregation alone is open to a rogue key: whoever names the last
// Y_i names Y = W - X (negating a point needs no secret: flip the Edwards sign bit), so Z = W,
// whose w it knows. Each Y_i therefore carries a proof of possession (cogen.h), which nobody
// can make for W - X without x.
TEST_CASE("a construction whose Y cancels X does not verify as device-bound", "[enroll]") {
  const Group g = GENERATE(Group::kEd25519, Group::kEd448);
  INFO(GroupName(g));
  test::Pki pki = test::Pki::Make();
  PublicKey x = PrivateKey::Generate(g)->Public();  // the device's: x is not known here
  PrivateKey w = *PrivateKey::Generate(g);          // the issuer's own
  Bytes minus_x_point = x.point();
  minus_x_point.back() ^= 0x80;  // -X
  PublicKey minus_x = *PublicKey::FromPoint(g, minus_x_point);
  PublicKey rogue = *cogen::CombinePublic(w.Public(), minus_x);  // Y = W - X
  PublicKey z = *cogen::CombinePublic(x, rogue);
  REQUIRE(z == w.Public());  // the issuer holds z
  CertSpec spec = test::Spec("SN-42", "SN-42");
  spec.extended_key_usage = {std::string(kClientAuthEku)};
  // The best the issuer can offer: proofs by w (for W, not for W - X), or by nobody.
  for (const Bytes& proof : {*cogen::ProvePossession(w, x), Bytes(g == Group::kEd25519 ? 64 : 114, 0)}) {
    spec.construction = Construction{x, {rogue}, {proof}};
    Certificate cert = *IssueCertificate(pki.owner_ca, pki.owner_key, z, spec);
    CHECK(VerifyConstruction(cert, &x).status().code() == Code::kContributionMismatch);
  }
}

// Review: a y_i is only ever added to x; it is never used as an X25519/X448 key. But the
// device made each y_i (and each partial sum) a PrivateKey, which insists on an RFC 7748 key
// for it (montgomery.h), and a scalar with neither sign usable was refused as
// contribution-mismatch although y_i is in [1, L-1] and y_i*G = Y_i: every public check
// passes and the device refuses. Such scalars are rare at random (2^-126) but any
// contributor can write one down: y = 2^255 mod L (Ed25519), y = 2^447 - 4 mod L (Ed448).
TEST_CASE("a contribution y_i that has no RFC 7748 key of its own still enrolls", "[enroll]") {
  const Group g = GENERATE(Group::kEd25519, Group::kEd448);
  INFO(GroupName(g));
  Fixture f(true, g);
  SecretBytes wide(g == Group::kEd25519 ? 32 : 56);
  if (g == Group::kEd25519) {
    wide[31] = 0x80;  // 2^255
  } else {
    wide[0] = 0xfc;  // 2^447 - 4
    for (size_t i = 1; i < 55; ++i) wide[i] = 0xff;
    wide[55] = 0x7f;
  }
  SecretBytes y = group::ReduceWide(g, wide.view()).value();
  REQUIRE(group::CheckScalar(g, y.view()).ok());
  REQUIRE_FALSE(montgomery::PrivateKeyFor(g, y.view()).ok());  // neither sign has a key
  PublicKey big_y = *PublicKey::FromPoint(g, *group::MulBase(g, y.view()));
  PublicKey x = f.device.identity().key.Public();
  const auto& suite = g == Group::kEd25519 ? hpke::kX25519Sha256ChaCha20Poly1305 : hpke::kX448Sha512Aes256Gcm;
  auto sealed = *hpke::Seal(suite, x.KemKey(), AsBytes(kHpkeInfo), AsBytes(x.Fingerprint()), y.view());
  DraftRequest r = f.Request();
  // Its proof of possession, by y as an expanded EdDSA key (any prefix will do), over the
  // message cogen.h gives.
  Bytes msg = ToBytes("vouch contribution proof v1");
  for (const Bytes& k : {x.SpkiDer(), big_y.SpkiDer()}) msg.insert(msg.end(), k.begin(), k.end());
  eddsa::ExpandedKey expanded{SecretBytes(y.view()), SecretBytes(Bytes(g == Group::kEd25519 ? 32 : 57, 9))};
  Bytes proof = *eddsa::SignExpanded(g, expanded, big_y.point(), msg);
  r.contributions.push_back(SealedContribution{big_y.SpkiDer(), sealed.enc, sealed.ct, proof});
  CHECK(f.Accept(f.Issue(r)).outcome == device::EnrollReport::Outcome::kEnrolled);
}

// Review: the older form (one contribution, no Y) is the first release's, which had the P-256
// suite only. Accepted in the Edwards suites it lets a new voucher opt out of every public
// check of Z (CheckEnrollment, `vouch verify`, CheckDraft) and of the comparison of its
// certificate's construction with its contributions.
TEST_CASE("the older form exists for P-256 only", "[enroll]") {
  const Group g = GENERATE(Group::kEd25519, Group::kEd448);
  INFO(GroupName(g));
  Fixture f(true, g);
  Voucher v = DraftVoucher(f.Request())->voucher;
  v.enrollment->contributions[0].key.reset();
  v.enrollment->certificate.reset();
  CHECK(f.Refusal(f.Sign(v, f.pki.Manufacturer())) == Code::kMalformed);
}

namespace {

// The device's current generation, as files: what a renewal must keep and what it must change.
struct GenerationFiles {
  std::string z_key, z_pub, certificate;
};
GenerationFiles CurrentFiles(const fs::path& state) {
  fs::path gen = state / "current";
  return {test::ReadText(gen / "z.key"), test::ReadText(gen / "z.pub"), test::ReadText(gen / "certificate.pem")};
}

RenewalRequest Renewal(const Fixture& f, Instant created_on) {
  RenewalRequest r;
  r.device_key = f.device.identity().key.Public();
  r.combined_key = f.device.current()->combined_key;
  r.serial_number = f.serial;
  r.domain_ca = f.pki.owner_ca;
  r.domain_ca_key = f.pki.owner_key;
  r.created_on = created_on;
  // The construction of the certificate being renewed, as `vouch renew --previous-cert` copies it.
  auto held = LoadCertificates(f.device.CurrentDir() / "certificate.pem");
  if (held.ok()) r.construction = ReadConstruction((*held)[0]).value();
  return r;
}

}  // namespace

TEST_CASE("a renewal keeps z and installs a new certificate as a new generation", "[enroll][renewal]") {
  for (Group g : {Group::kP256, Group::kEd25519, Group::kEd448}) {
    Fixture f(true, g);
    REQUIRE(f.Accept(f.Issue()).outcome == device::EnrollReport::Outcome::kEnrolled);
    GenerationFiles before = CurrentFiles(f.tmp / "state");
    // The construction of the certificate being renewed travels on.
    auto previous = LoadCertificates(f.tmp / "state" / "current" / "certificate.pem");
    RenewalRequest r = Renewal(f, Instant::Now().Plus(1));
    r.construction = **ReadConstruction((*previous)[0]);
    auto renewal = DraftRenewal(r);
    REQUIRE(renewal.ok());
    CHECK(renewal->enrollment->contributions.empty());
    auto rep = f.Accept(f.Sign(*renewal, f.pki.Owner()));
    REQUIRE(rep.outcome == device::EnrollReport::Outcome::kEnrolled);
    CHECK(rep.change == "renewed");
    CHECK(rep.generation == 2);
    GenerationFiles after = CurrentFiles(f.tmp / "state");
    CHECK(after.z_pub == before.z_pub);
    CHECK(after.certificate != before.certificate);
    // z is the same key (its PEM bytes may differ only if encoding did; here they do not).
    auto z = LoadPrivateKey(f.tmp / "state" / "current" / "z.key", &f.device.current()->combined_key);
    REQUIRE(z.ok());
    CHECK(z->Public() == f.device.current()->combined_key);
    CHECK(fs::status(f.tmp / "state" / "current" / "z.key").permissions() == (fs::perms::owner_read | fs::perms::owner_write));
    auto cert = LoadCertificates(f.tmp / "state" / "current" / "certificate.pem");
    CHECK((*cert)[0].Key().value() == z->Public());
    CHECK(VerifyConstruction((*cert)[0], &f.device.identity().key.Public()).ok());
    // The same renewal again is a no-op; a second one later is a third generation.
    CHECK(f.Accept(f.Sign(*DraftRenewal(Renewal(f, Instant::Now().Plus(2))), f.pki.Manufacturer())).generation == 3);
  }
}

TEST_CASE("renewals are refused for another key, another owner, no enrollment, or out of order", "[enroll][renewal]") {
  Fixture f;
  SECTION("a device that has not enrolled holds no Z to renew") {
    RenewalRequest r;
    r.device_key = f.device.identity().key.Public();
    r.combined_key = PrivateKey::Generate()->Public();
    r.serial_number = f.serial;
    r.domain_ca = f.pki.owner_ca;
    r.domain_ca_key = f.pki.owner_key;
    CHECK(f.Refusal(f.Sign(*DraftRenewal(r), f.pki.Manufacturer())) == Code::kCombinedKeyMismatch);
    return;
  }
  REQUIRE(f.Accept(f.Issue()).outcome == device::EnrollReport::Outcome::kEnrolled);
  SECTION("for a Z that is not the device's current key") {
    RenewalRequest r = Renewal(f, Instant::Now().Plus(1));
    r.combined_key = PrivateKey::Generate()->Public();
    CHECK(f.Refusal(f.Sign(*DraftRenewal(r), f.pki.Owner())) == Code::kCombinedKeyMismatch);
  }
  SECTION("pinning another owner: a transfer must re-key") {
    auto other_key = *PrivateKey::Generate();
    RenewalRequest r = Renewal(f, Instant::Now().Plus(1));
    r.domain_ca = *SelfSign(other_key, test::Spec("Other Owner", "", true));
    r.domain_ca_key = other_key;
    CHECK(f.Refusal(f.Sign(*DraftRenewal(r), f.pki.Owner())) == Code::kDomainMismatch);
    CHECK(f.Refusal(f.Sign(*DraftRenewal(r), f.pki.Manufacturer())) == Code::kDomainMismatch);
  }
  SECTION("older than the voucher applied") {
    CHECK(f.Refusal(f.Sign(*DraftRenewal(Renewal(f, Instant::Now().Plus(-3600))), f.pki.Owner())) == Code::kRollback);
  }
  SECTION("a certificate that is not for Z") {
    Voucher v = *DraftRenewal(Renewal(f, Instant::Now().Plus(1)));
    v.enrollment->certificate = IssueCertificate(f.pki.owner_ca, f.pki.owner_key, PrivateKey::Generate()->Public(),
                                                 test::Spec("SN-42"))->Der();
    CHECK(f.Refusal(f.Sign(v, f.pki.Owner())) == Code::kCertificateMismatch);
  }
  SECTION("a construction of another device") {
    Fixture other;
    REQUIRE(other.Accept(other.Issue()).outcome == device::EnrollReport::Outcome::kEnrolled);
    auto theirs = LoadCertificates(other.tmp / "state" / "current" / "certificate.pem");
    // Their construction sums to their Z: certified for this device's Z, it names another X.
    CertSpec spec = test::Spec("SN-42");
    spec.construction = **ReadConstruction((*theirs)[0]);
    Voucher v = *DraftRenewal(Renewal(f, Instant::Now().Plus(1)));
    v.enrollment->certificate = IssueCertificate(f.pki.owner_ca, f.pki.owner_key, f.device.current()->combined_key, spec)->Der();
    CHECK(f.Refusal(f.Sign(v, f.pki.Owner())) == Code::kCertificateMismatch);
    // And the issuer refuses to copy it in the first place.
    RenewalRequest r = Renewal(f, Instant::Now().Plus(1));
    r.construction = **ReadConstruction((*theirs)[0]);
    CHECK(DraftRenewal(r).status().code() == Code::kCombinedKeyMismatch);
  }
  SECTION("signed by the device's own certificate for Z") {
    auto cert = LoadCertificates(f.tmp / "state" / "current" / "certificate.pem");
    auto z = LoadPrivateKey(f.tmp / "state" / "current" / "z.key");
    CHECK(f.Refusal(f.Sign(*DraftRenewal(Renewal(f, Instant::Now().Plus(1))), {*z, {(*cert)[0], f.pki.owner_ca}})) ==
          Code::kSignerNotAuthorized);
  }
}

TEST_CASE("a renewal without a certificate does not decode, and a request cannot carry one", "[enroll][renewal]") {
  Fixture f;
  REQUIRE(f.Accept(f.Issue()).outcome == device::EnrollReport::Outcome::kEnrolled);
  Voucher v = *DraftRenewal(Renewal(f, Instant::Now().Plus(1)));
  v.enrollment->certificate.reset();
  auto bytes = *formats::EncodeVoucher(v);
  CHECK(formats::DecodeVoucher(bytes).status().code() == Code::kMalformed);
  Voucher good = *DraftRenewal(Renewal(f, Instant::Now().Plus(1)));
  CHECK(CheckDraft(good, f.device.identity().key.Public(), f.device.current()->combined_key).code() == Code::kMalformed);
}

TEST_CASE("the owner transfers the device: a new key under the new owner, the old owner refused", "[enroll][transfer]") {
  Fixture f;
  REQUIRE(f.Accept(f.Issue()).outcome == device::EnrollReport::Outcome::kEnrolled);
  const PublicKey first_z = f.device.current()->combined_key;
  // B, the new owner: its own domain CA and its own fresh contribution.
  PrivateKey b_key = *PrivateKey::Generate();
  Certificate b_ca = *SelfSign(b_key, test::Spec("Owner B CA", "", true));
  DraftRequest to_b = f.Request();
  to_b.domain_ca = b_ca;
  to_b.domain_ca_key = b_key;
  to_b.created_on = Instant::Now().Plus(1);
  auto rep = f.Accept(f.Sign(DraftVoucher(to_b)->voucher, f.pki.Owner()));
  REQUIRE(rep.outcome == device::EnrollReport::Outcome::kEnrolled);
  CHECK(rep.change == "transferred");
  CHECK(f.device.current()->domain_ca == b_ca);
  CHECK(!(f.device.current()->combined_key == first_z));
  REQUIRE(f.device.current()->former_owners.size() == 1);
  // The state read back remembers whom the device left.
  auto reopened = DeviceState::Open(f.tmp / "state");
  REQUIRE(reopened.ok());
  REQUIRE(reopened->current()->former_owners.size() == 1);
  CHECK(reopened->current()->former_owners[0] == f.pki.owner_ca);

  SECTION("the former owner can no longer re-key, renew or transfer") {
    DraftRequest rekey = f.Request();  // pins A again
    rekey.created_on = Instant::Now().Plus(2);
    CHECK(f.Refusal(f.Sign(DraftVoucher(rekey)->voucher, f.pki.Owner())) == Code::kNotOwner);
    DraftRequest pin_b = to_b;
    pin_b.created_on = Instant::Now().Plus(2);
    CHECK(f.Refusal(f.Sign(DraftVoucher(pin_b)->voucher, f.pki.Owner())) == Code::kNotOwner);
    RenewalRequest renew = Renewal(f, Instant::Now().Plus(2));
    renew.domain_ca = b_ca;
    renew.domain_ca_key = b_key;
    CHECK(f.Refusal(f.Sign(*DraftRenewal(renew), f.pki.Owner())) == Code::kNotOwner);
  }
  SECTION("the new owner re-keys and renews; the manufacturer can still move it") {
    DraftRequest rekey = to_b;
    rekey.created_on = Instant::Now().Plus(2);
    CHECK(f.Accept(f.Sign(DraftVoucher(rekey)->voucher, {b_key, {b_ca}})).change == "re-keyed");
    RenewalRequest renew = Renewal(f, Instant::Now().Plus(3));
    renew.domain_ca = b_ca;
    renew.domain_ca_key = b_key;
    CHECK(f.Accept(f.Sign(*DraftRenewal(renew), {b_key, {b_ca}})).change == "renewed");
    // The manufacturer moves it back to A: A is the owner again, no longer a former one.
    DraftRequest back = f.Request();
    back.created_on = Instant::Now().Plus(4);
    CHECK(f.Accept(f.Issue(back)).change == "transferred");
    CHECK(f.device.current()->domain_ca == f.pki.owner_ca);
    REQUIRE(f.device.current()->former_owners.size() == 1);
    CHECK(f.device.current()->former_owners[0] == b_ca);
  }
  SECTION("a factory reset forgets every owner and keeps counting generations") {
    InitOptions o{f.serial, {f.pki.mfr_root}, true, ResetMode::kKeepKey};
    auto reset = DeviceState::Init(f.tmp / "state", o);
    REQUIRE(reset.ok());
    CHECK_FALSE(reset->current().has_value());
    f.device = std::move(*reset);
    // A's vouchers are a stranger's now (untrusted), not a former owner's.
    DraftRequest rekey = f.Request();
    rekey.created_on = Instant::Now().Plus(2);
    CHECK(f.Refusal(f.Sign(DraftVoucher(rekey)->voucher, f.pki.Owner())) == Code::kUntrustedSigner);
    CHECK(f.Accept(f.Issue(rekey)).generation == 3);
  }
}

TEST_CASE("a device's own certificate for Z cannot transfer it", "[enroll][transfer]") {
  Fixture f;
  REQUIRE(f.Accept(f.Issue()).outcome == device::EnrollReport::Outcome::kEnrolled);
  auto cert = LoadCertificates(f.tmp / "state" / "current" / "certificate.pem");
  auto z = LoadPrivateKey(f.tmp / "state" / "current" / "z.key");
  PrivateKey b_key = *PrivateKey::Generate();
  DraftRequest to_b = f.Request();
  to_b.domain_ca = *SelfSign(b_key, test::Spec("Owner B CA", "", true));
  to_b.domain_ca_key = b_key;
  to_b.created_on = Instant::Now().Plus(1);
  CHECK(f.Refusal(f.Sign(DraftVoucher(to_b)->voucher, {*z, {(*cert)[0], f.pki.owner_ca}})) == Code::kSignerNotAuthorized);
}

namespace {

// A manufacturer with an issuing CA under its root and a MASA signer under that, which carries
// no extendedKeyUsage (as real MASA signers do: DESIGN.md 3a).
struct IssuingCa {
  PrivateKey int_key = *PrivateKey::Generate(), masa_key = *PrivateKey::Generate();
  Certificate inter, masa;
  explicit IssuingCa(const test::Pki& p) {
    inter = *IssueCertificate(p.mfr_root, p.mfr_root_key, int_key.Public(), CertSpec{"Maker Issuing CA", "", "Maker", true});
    masa = *IssueCertificate(inter, int_key, masa_key.Public(), CertSpec{"Maker MASA", "", "Maker", false});
  }
  formats::Signer Signer(const test::Pki& p) const { return {masa_key, {masa, inter, p.mfr_root}}; }
};

}  // namespace

TEST_CASE("an owner cannot transfer the device to a certificate whose key it lacks", "[enroll][transfer]") {
  // The attack: pin a certificate of the manufacturer's own chain (public, in every factory
  // voucher's x5c), so that the manufacturer's next voucher is judged as an owner's, or as a
  // former owner's. A transfer must carry a certificate for Z' issued by what it pins.
  Fixture f;
  IssuingCa m(f.pki);
  REQUIRE(f.Accept(f.Sign(DraftVoucher(f.Request())->voucher, m.Signer(f.pki))).change == "enrolled");
  for (const Certificate& pinned : {m.inter, m.masa, f.pki.mfr_signer}) {
    DraftRequest t = f.Request();
    t.domain_ca = pinned;
    t.domain_ca_key.reset();  // nobody but the manufacturer could certify Z' under it
    t.created_on = Instant::Now().Plus(1);
    CHECK(f.Refusal(f.Sign(DraftVoucher(t)->voucher, f.pki.Owner())) == Code::kCertificateMismatch);
  }
  // A certificate for Z' issued by another key than the pinned one is no proof either.
  PrivateKey b_key = *PrivateKey::Generate();
  DraftRequest t = f.Request();
  t.domain_ca = *SelfSign(b_key, test::Spec("Owner B CA", "", true));
  t.domain_ca_key = b_key;
  t.created_on = Instant::Now().Plus(1);
  Voucher v = DraftVoucher(t)->voucher;
  t.domain_ca = m.inter;
  v.pinned_domain_cert = m.inter.Der();
  CHECK(f.Refusal(f.Sign(v, f.pki.Owner())) == Code::kCertificateMismatch);
  // The manufacturer still moves the device, through its MASA signer.
  DraftRequest to_b = f.Request();
  to_b.domain_ca = *SelfSign(b_key, test::Spec("Owner B CA", "", true));
  to_b.domain_ca_key = b_key;
  to_b.created_on = Instant::Now().Plus(2);
  CHECK(f.Accept(f.Sign(DraftVoucher(to_b)->voucher, m.Signer(f.pki))).change == "transferred");
}

TEST_CASE("a delegated voucher signer re-keys for the owner but cannot give the device away", "[enroll][transfer]") {
  Fixture f;
  REQUIRE(f.Accept(f.Issue()).change == "enrolled");
  PrivateKey ops_key = *PrivateKey::Generate();
  CertSpec ops = test::Spec("Owner ops signer");
  ops.extended_key_usage = {std::string(kVoucherSigningEku)};
  Certificate ops_cert = *IssueCertificate(f.pki.owner_ca, f.pki.owner_key, ops_key.Public(), ops);
  PrivateKey e_key = *PrivateKey::Generate();
  DraftRequest t = f.Request();
  t.domain_ca = *SelfSign(e_key, test::Spec("Attacker CA", "", true));
  t.domain_ca_key = e_key;
  t.created_on = Instant::Now().Plus(1);
  CHECK(f.Refusal(f.Sign(DraftVoucher(t)->voucher, {ops_key, {ops_cert, f.pki.owner_ca}})) == Code::kSignerNotAuthorized);
  DraftRequest rekey = f.Request();
  rekey.created_on = Instant::Now().Plus(2);
  CHECK(f.Accept(f.Sign(DraftVoucher(rekey)->voucher, {ops_key, {ops_cert, f.pki.owner_ca}})).change == "re-keyed");
}

TEST_CASE("a former owner is refused by its key: another certificate for it, or a delegate under it", "[enroll][transfer]") {
  Fixture f;
  PrivateKey o_key = *PrivateKey::Generate();
  // O's domain CA is certified by the manufacturer, twice for one key (a routine CA renewal).
  Certificate o1 = *IssueCertificate(f.pki.mfr_root, f.pki.mfr_root_key, o_key.Public(), CertSpec{"Owner O CA", "", "O", true});
  Certificate o2 = *IssueCertificate(f.pki.mfr_root, f.pki.mfr_root_key, o_key.Public(), CertSpec{"Owner O CA", "", "O", true});
  DraftRequest r = f.Request();
  r.domain_ca = o1;
  r.domain_ca_key = o_key;
  REQUIRE(f.Accept(f.Issue(r)).change == "enrolled");
  PrivateKey b_key = *PrivateKey::Generate();
  DraftRequest to_b = f.Request();
  to_b.domain_ca = *SelfSign(b_key, test::Spec("Owner B CA", "", true));
  to_b.domain_ca_key = b_key;
  to_b.created_on = Instant::Now().Plus(1);
  REQUIRE(f.Accept(f.Sign(DraftVoucher(to_b)->voucher, {o_key, {o1}})).change == "transferred");
  DraftRequest back = r;
  back.created_on = Instant::Now().Plus(2);
  CHECK(f.Refusal(f.Sign(DraftVoucher(back)->voucher, {o_key, {o1}})) == Code::kNotOwner);
  // Through the factory root, with the other certificate for O's key: still O.
  CHECK(f.Refusal(f.Sign(DraftVoucher(back)->voucher, {o_key, {o2, f.pki.mfr_root}})) == Code::kNotOwner);
  // A delegate under O, chaining on to the factory root: still under O.
  PrivateKey d_key = *PrivateKey::Generate();
  CertSpec ds = test::Spec("O delegate");
  ds.extended_key_usage = {std::string(kVoucherSigningEku)};
  Certificate d = *IssueCertificate(o2, o_key, d_key.Public(), ds);
  CHECK(f.Refusal(f.Sign(DraftVoucher(back)->voucher, {d_key, {d, o2, f.pki.mfr_root}})) == Code::kNotOwner);
  // The manufacturer's own signer is not O: it still moves the device.
  DraftRequest to_c = f.Request();
  to_c.created_on = Instant::Now().Plus(3);
  CHECK(f.Accept(f.Issue(to_c)).change == "transferred");
}

TEST_CASE("a renewal keeps the construction of the certificate it renews", "[enroll][renewal]") {
  Fixture f;
  DraftRequest two = f.Request();  // the owner's contribution and an escrow's
  {
    auto escrow = cogen::Contribute(two.device_key);
    two.contributions.push_back(*cogen::Seal(two.device_key, two.device_key.Fingerprint(), escrow->y));
  }
  REQUIRE(f.Accept(f.Issue(two)).change == "enrolled");
  // Another split of Z - X with valid proofs: refused as well.
  auto previous = LoadCertificates(f.tmp / "state" / "current" / "certificate.pem");
  Construction made = **ReadConstruction((*previous)[0]);
  // Y_1 + W and Y_2 - W would sum alike, but nobody can prove possession of those; what
  // can be built is the same contributions in another order, which still verifies alone.
  REQUIRE(made.contributions.size() == 2);
  std::reverse(made.contributions.begin(), made.contributions.end());
  std::reverse(made.proofs.begin(), made.proofs.end());
  CertSpec spec = test::Spec("SN-42");
  spec.construction = made;
  Voucher v = *DraftRenewal(Renewal(f, Instant::Now().Plus(1)));
  v.enrollment->certificate = IssueCertificate(f.pki.owner_ca, f.pki.owner_key, f.device.current()->combined_key, spec)->Der();
  CHECK(VerifyConstruction(*Certificate::FromDer(*v.enrollment->certificate), &f.device.identity().key.Public()).ok());
  CHECK(f.Refusal(f.Sign(v, f.pki.Owner())) == Code::kCertificateMismatch);
  // With it, applied; and without one (a batch renewal copies none), applied too: it claims nothing.
  RenewalRequest good = Renewal(f, Instant::Now().Plus(2));
  good.construction = **ReadConstruction((*previous)[0]);
  CHECK(f.Accept(f.Sign(*DraftRenewal(good), f.pki.Owner())).change == "renewed");
  RenewalRequest bare = Renewal(f, Instant::Now().Plus(3));
  bare.construction.reset();
  CHECK(f.Accept(f.Sign(*DraftRenewal(bare), f.pki.Owner())).change == "renewed");
}

TEST_CASE("a factory reset that keeps the key keeps the ordering: an old voucher cannot re-enroll it", "[enroll][owner]") {
  Fixture f;
  Bytes first = f.Issue();
  REQUIRE(f.Accept(first).change == "enrolled");
  InitOptions o{f.serial, {f.pki.mfr_root}, true, ResetMode::kKeepKey};
  f.device = *DeviceState::Init(f.tmp / "state", o);
  CHECK(f.Refusal(first) == Code::kRollback);
  // A reset again keeps the floor; a newer voucher enrolls, numbered past the old generations.
  f.device = *DeviceState::Init(f.tmp / "state", o);
  DraftRequest later = f.Request();
  later.created_on = Instant::Now().Plus(1);
  auto rep = f.Accept(f.Issue(later));
  CHECK(rep.change == "enrolled");
  CHECK(rep.generation == 2);
  // A reset to a new key is a new device: no floor.
  o.reset = ResetMode::kNewKey;
  f.device = *DeviceState::Init(f.tmp / "state", o);
  CHECK_FALSE(fs::exists(f.tmp / "state" / "reset-floor"));
  CHECK_FALSE(f.device.identity().reset_floor.has_value());
  // A floor that does not parse stops the device rather than being read as none.
  o.reset = ResetMode::kKeepKey;
  REQUIRE(f.Accept(f.Issue(f.Request())).change == "enrolled");
  f.device = *DeviceState::Init(f.tmp / "state", o);
  REQUIRE(WriteFileAtomic(f.tmp / "state" / "reset-floor", AsBytes(std::string("{\"generation\":\"x\"}")), 0600).ok());
  CHECK(DeviceState::Open(f.tmp / "state").status().code() == Code::kMalformed);
}
