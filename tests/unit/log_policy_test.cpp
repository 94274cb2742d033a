// Devices that insist on a transparency log (device/log_policy.h, docs/device-state.md "Log
// policy"): a real voucher, a real in-memory log built with formats/tlog, and the judge.
#include <catch2/catch.hpp>

#include <map>

#include "device/fetch.h"
#include "device/judge.h"
#include "device/log_policy.h"
#include "formats/envelope.h"
#include "formats/tlog/proof.h"
#include "formats/voucher_json.h"
#include "libvoucher/device_state.h"
#include "libvoucher/file.h"
#include "pki.h"
#include "testutil.h"

using namespace vouch;
using namespace vouch::formats::tlog;
namespace fs = std::filesystem;
using Outcome = device::EnrollReport::Outcome;

namespace {

std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    std::string rel = fs::relative(e.path(), dir).string();
    if (rel == "lock") continue;  // created by the first locked decision; never written
    if (fs::is_symlink(e.symlink_status())) out[rel] = "-> " + fs::read_symlink(e.path()).string();
    else if (e.is_regular_file()) out[rel] = test::ReadText(e.path());
    else out[rel] = "dir";
  }
  return out;
}

uint64_t Now() { return static_cast<uint64_t>(Instant::Now().seconds()); }

// A log holding some entries, its checkpoint signed and cosigned as a test asks.
struct Log {
  NoteSigner key = *NoteSigner::Make("log.example/vouchers", *ed25519::PrivateKey::Generate());
  Cosigner w1 = *Cosigner::Make("witness.example/w1", *ed25519::PrivateKey::Generate());
  Cosigner w2 = *Cosigner::Make("witness.example/w2", *ed25519::PrivateKey::Generate());
  Cosigner w3 = *Cosigner::Make("witness.example/w3", *ed25519::PrivateKey::Generate());
  std::vector<Bytes> entries;

  size_t Add(Bytes entry) {
    entries.push_back(std::move(entry));
    return entries.size() - 1;
  }
  std::vector<Hash> Leaves() const {
    std::vector<Hash> out;
    for (const auto& e : entries) out.push_back(*LeafHash(e));
    return out;
  }
  // The checkpoint of every entry so far, signed by `signer` (the log's key by default) and
  // cosigned by each of `by` at `time`.
  std::string Checkpoint(std::vector<const Cosigner*> by, uint64_t time, const NoteSigner* signer = nullptr) const {
    auto leaves = Leaves();
    formats::tlog::Checkpoint c{(signer ? *signer : key).name, leaves.size(), *TreeRoot(leaves), {}};
    const std::string text = *FormatCheckpoint(c);
    std::vector<NoteSigner> signers{signer ? *signer : key};
    Note note = *ParseNote(*SignNote(text, signers));
    for (const Cosigner* w : by) note.signatures.push_back(*w->Cosign(text, time));
    return FormatNote(note);
  }
  Proof ProofOf(size_t index, const std::string& checkpoint) const {
    auto leaves = Leaves();
    return Proof{std::nullopt, index, *InclusionProof(leaves, index, leaves.size()), checkpoint};
  }
  Bytes Text(size_t index, std::vector<const Cosigner*> by, uint64_t time, const NoteSigner* signer = nullptr) const {
    return ToBytes(FormatProof(ProofOf(index, Checkpoint(std::move(by), time, signer))));
  }
  Bytes Good(size_t index) const { return Text(index, {&w1, &w2}, Now()); }

  // 2 of {w1, w2}, optionally with a max age.
  LogPolicy Policy(std::optional<uint64_t> max_age = std::nullopt, size_t quorum = 2) const {
    return *device::MakeLogPolicy(key.Verifier().Text(), {w1.Verifier().Text(), w2.Verifier().Text()}, quorum, max_age);
  }
};

struct Fixture {
  test::TempDir tmp;
  test::Pki pki = test::Pki::Make();
  Log log;
  DeviceState device;
  std::string serial = "SN-7";

  // `insist`: initialised with the log's policy (2 of 2, `max_age`), as `init --log-key` does.
  explicit Fixture(bool insist, std::optional<uint64_t> max_age = std::nullopt, bool trusted_clock = true) {
    InitOptions o;
    o.serial_number = serial;
    o.anchors = {pki.mfr_root};
    o.trusted_clock = trusted_clock;
    if (insist) o.log_policy = device::FormatLogPolicy(log.Policy(max_age));
    device = *DeviceState::Init(tmp / "state", o);
    // Other vouchers in the log, before and after ours: proofs have hashes to check.
    for (int i = 0; i < 5; ++i) log.Add(ToBytes("someone else's voucher " + std::to_string(i)));
  }
  Fixture() : Fixture(false) {}

  Bytes Issue() {
    DraftRequest r = pki.Request(device.identity().key.Public(), serial);
    return formats::SignVoucher(DraftVoucher(r)->voucher, formats::EnvelopeKind::kJws, pki.Manufacturer())->bytes;
  }
  device::EnrollReport Accept(const Bytes& envelope, std::optional<Bytes> proof) {
    auto r = device::Enroll(device, {{"stick/v.vjj", envelope, std::move(proof)}}, false);
    REQUIRE(r.ok());
    return *r;
  }
  // The refusal code, after checking the state did not change at all.
  Code Refusal(const Bytes& envelope, std::optional<Bytes> proof) {
    auto before = Snapshot(tmp / "state");
    int generation = device.generation();
    auto r = Accept(envelope, std::move(proof));
    CHECK(Snapshot(tmp / "state") == before);
    CHECK(r.outcome == Outcome::kAllRefused);
    CHECK(device.generation() == generation);
    return r.candidates.at(0).status.code();
  }
};

// A device requiring 2 of {w1, w2}, with a max age of an hour, and a trusted clock.
struct Insisting : Fixture {
  Insisting() : Fixture(true, 3600) {}
};

}  // namespace

TEST_CASE("a device requiring 2 of 2 witnesses enrolls with a good proof", "[log-policy]") {
  Insisting f;
  Bytes v = f.Issue();
  size_t at = f.log.Add(v);
  f.log.Add(ToBytes("a later voucher"));
  auto r = f.Accept(v, f.log.Good(at));
  CHECK(r.outcome == Outcome::kEnrolled);
  CHECK(r.candidates.at(0).logged);
  CHECK(f.device.generation() == 1);
}

TEST_CASE("a device that insists refuses, with the proof's code and its state unchanged", "[log-policy]") {
  Insisting f;
  Bytes v = f.Issue();
  size_t at = f.log.Add(v);
  f.log.Add(ToBytes("a later voucher"));
  SECTION("no proof") { CHECK(f.Refusal(v, std::nullopt) == Code::kNotLogged); }
  SECTION("a proof for another leaf") { CHECK(f.Refusal(v, f.log.Good(at - 1)) == Code::kBadSignature); }
  SECTION("a proof of another voucher's bytes at this index") {
    Bytes other = f.Issue();  // a second voucher for this device, never logged
    CHECK(f.Refusal(other, f.log.Good(at)) == Code::kBadSignature);
  }
  SECTION("a checkpoint signed by another key of the same name") {
    NoteSigner impostor = *NoteSigner::Make("log.example/vouchers", *ed25519::PrivateKey::Generate());
    CHECK(f.Refusal(v, f.log.Text(at, {&f.log.w1, &f.log.w2}, Now(), &impostor)) == Code::kUntrustedSigner);
  }
  SECTION("a checkpoint of another log") {
    NoteSigner other = *NoteSigner::Make("other.example/log", *ed25519::PrivateKey::Generate());
    CHECK(f.Refusal(v, f.log.Text(at, {&f.log.w1, &f.log.w2}, Now(), &other)) == Code::kUntrustedSigner);
  }
  SECTION("one witness's cosignature repeated counts once") {
    CHECK(f.Refusal(v, f.log.Text(at, {&f.log.w1, &f.log.w1}, Now())) == Code::kTooFewWitnesses);
  }
  SECTION("a cosignature by a witness the device does not trust counts for nothing") {
    CHECK(f.Refusal(v, f.log.Text(at, {&f.log.w1, &f.log.w3}, Now())) == Code::kTooFewWitnesses);
  }
  SECTION("a truncated proof") {
    Bytes good = f.log.Good(at);
    CHECK(f.Refusal(v, Bytes(good.begin(), good.begin() + static_cast<long>(good.size() / 2))) == Code::kMalformed);
    CHECK(f.Refusal(v, Bytes{}) == Code::kMalformed);
  }
  SECTION("a proof with a hash left out") {
    Proof p = f.log.ProofOf(at, f.log.Checkpoint({&f.log.w1, &f.log.w2}, Now()));
    p.hashes.pop_back();
    CHECK(f.Refusal(v, ToBytes(FormatProof(p))) == Code::kMalformed);
  }
  SECTION("a proof with its hashes reordered") {
    Proof p = f.log.ProofOf(at, f.log.Checkpoint({&f.log.w1, &f.log.w2}, Now()));
    REQUIRE(p.hashes.size() >= 2);
    std::swap(p.hashes[0], p.hashes[1]);
    CHECK(f.Refusal(v, ToBytes(FormatProof(p))) == Code::kBadSignature);
  }
  SECTION("a checkpoint last cosigned two hours ago, with a trusted clock and a max age of one") {
    CHECK(f.Refusal(v, f.log.Text(at, {&f.log.w1, &f.log.w2}, Now() - 7200)) == Code::kLogStale);
  }
  SECTION("a proof over the cap") {
    CHECK(f.Refusal(v, Bytes(kMaxProofSize + 1, 'x')) == Code::kTooLarge);
  }
  // After every refusal the good proof still enrolls the device.
  CHECK(f.Accept(v, f.log.Good(at)).outcome == Outcome::kEnrolled);
}

TEST_CASE("a voucher refused for its proof is judged again when it comes again with another", "[log-policy]") {
  Insisting f;
  Bytes v = f.Issue();
  size_t at = f.log.Add(v);
  auto r = device::Enroll(f.device, {{"stick/vouchers/.../v.vjj", v, std::nullopt},
                                     {"stick/a.vbundle:v.vjj", v, f.log.Text(at, {&f.log.w1}, Now())},
                                     {"stick/b.vbundle:v.vjj", v, f.log.Good(at)},
                                     {"stick/c.vbundle:v.vjj", v, f.log.Good(at)}},
                          false);
  REQUIRE(r.ok());
  CHECK(r->outcome == Outcome::kEnrolled);
  REQUIRE(r->candidates.size() == 3);  // the fourth copy is a duplicate of one kept
  CHECK(r->candidates[0].status.code() == Code::kNotLogged);
  CHECK(r->candidates[1].status.code() == Code::kTooFewWitnesses);
  CHECK(r->candidates[2].applied);
}

TEST_CASE("a stale checkpoint is refused only where the device has a max age and a trusted clock", "[log-policy]") {
  Fixture f;  // the log's keys are known once the fixture exists
  REQUIRE(device::SetDeviceLogPolicy(f.tmp / "state", f.log.Policy()).ok());  // no max age
  f.device = *DeviceState::Open(f.tmp / "state");
  Bytes v = f.Issue();
  size_t at = f.log.Add(v);
  CHECK(f.Accept(v, f.log.Text(at, {&f.log.w1, &f.log.w2}, Now() - 365 * 86400)).outcome == Outcome::kEnrolled);
  // A max age on a device whose clock is not trusted is refused when it is set.
  Fixture g(false, std::nullopt, /*trusted_clock=*/false);
  CHECK(device::SetDeviceLogPolicy(g.tmp / "state", g.log.Policy(3600)).status().code() == Code::kUsage);
}

TEST_CASE("a device with no log configured enrolls without a proof, as before", "[log-policy]") {
  Fixture f;
  Bytes v = f.Issue();
  auto r = f.Accept(v, std::nullopt);
  CHECK(r.outcome == Outcome::kEnrolled);
  CHECK_FALSE(r.candidates.at(0).logged);
  // A proof it cannot use is ignored, not judged.
  Fixture g;
  CHECK(g.Accept(g.Issue(), ToBytes("not a proof")).outcome == Outcome::kEnrolled);
}

TEST_CASE("the voucher a device runs is not asked for a proof when it insists later", "[log-policy]") {
  Fixture f;
  Bytes v = f.Issue();
  REQUIRE(f.Accept(v, std::nullopt).outcome == Outcome::kEnrolled);
  REQUIRE(device::SetDeviceLogPolicy(f.tmp / "state", f.log.Policy()).ok());
  f.device = *DeviceState::Open(f.tmp / "state");
  CHECK(f.Accept(v, std::nullopt).outcome == Outcome::kAlreadyCurrent);
  // But the next one is.
  CHECK(f.Refusal(f.Issue(), std::nullopt) == Code::kNotLogged);
}

TEST_CASE("a policy set while a fetch judged is applied under the lock", "[log-policy]") {
  Fixture f;
  Bytes v = f.Issue();
  device::Judge judge(f.device);
  judge.Consider("stick/v.vjj", v, std::nullopt);  // acceptable against the snapshot
  REQUIRE(device::SetDeviceLogPolicy(f.tmp / "state", f.log.Policy()).ok());
  auto before = Snapshot(f.tmp / "state");
  DeviceState fresh = *DeviceState::Open(f.tmp / "state");
  auto r = judge.Finish(fresh, false);
  REQUIRE(r.ok());
  CHECK(r->outcome == Outcome::kAllRefused);
  CHECK(r->candidates.at(0).status.code() == Code::kNotLogged);
  CHECK(Snapshot(f.tmp / "state") == before);
}

TEST_CASE("a policy may be set and tightened, never loosened, except by a factory reset", "[log-policy]") {
  Fixture f;
  const Log& log = f.log;
  fs::path dir = f.tmp / "state";
  auto set = [&](const LogPolicy& p) { return device::SetDeviceLogPolicy(dir, p); };
  auto policy = [&](std::vector<const Cosigner*> ws, size_t k, std::optional<uint64_t> age, const NoteSigner* key = nullptr) {
    std::vector<std::string> texts;
    for (const Cosigner* w : ws) texts.push_back(w->Verifier().Text());
    return *device::MakeLogPolicy((key ? *key : log.key).Verifier().Text(), texts, k, age);
  };
  REQUIRE(*set(policy({&log.w1, &log.w2}, 1, 86400)));
  auto stored = test::ReadText(dir / "log-policy");
  CHECK(stored.starts_with("vouch-log-policy/1\nlog log.example/vouchers+"));
  CHECK(!*set(policy({&log.w1, &log.w2}, 1, 86400)));  // the same again: unchanged

  NoteSigner other = *NoteSigner::Make("log.example/vouchers", *ed25519::PrivateKey::Generate());
  for (const LogPolicy& looser : {policy({&log.w1, &log.w2}, 0, 86400),             // fewer witnesses
                                  policy({&log.w1, &log.w2, &log.w3}, 1, 86400),    // one new witness fills the quorum
                                  policy({&log.w1, &log.w2}, 1, std::nullopt),      // no max age
                                  policy({&log.w1, &log.w2}, 1, 2 * 86400),         // an older checkpoint
                                  policy({&log.w1, &log.w2}, 1, 86400, &other)}) {  // another log key
    INFO(device::FormatLogPolicy(looser));
    CHECK(set(looser).status().code() == Code::kExists);
    CHECK(test::ReadText(dir / "log-policy") == stored);
  }
  // Tighter: a new witness with a quorum that still needs one old one; a witness dropped
  // where the quorum then needs both old ones; a shorter max age; a new witness again.
  CHECK(set(policy({&log.w1, &log.w2, &log.w3}, 2, 86400)).value());
  CHECK(set(policy({&log.w1, &log.w2}, 2, 86400)).value());
  CHECK(set(policy({&log.w1, &log.w2}, 2, 3600)).value());
  CHECK(set(policy({&log.w1, &log.w2, &log.w3}, 3, 3600)).value());
  // Dropping a witness of a 3-of-3 policy would accept a checkpoint without it.
  CHECK(set(policy({&log.w1, &log.w2}, 2, 3600)).status().code() == Code::kExists);
  // A factory reset replaces it with whatever it is given, or none.
  InitOptions o;
  o.serial_number = f.serial;
  o.anchors = {f.pki.mfr_root};
  o.reset = ResetMode::kKeepKey;
  REQUIRE(DeviceState::Init(dir, o).ok());
  CHECK(!fs::exists(dir / "log-policy"));
  CHECK(!DeviceState::Open(dir)->log_policy());
}

TEST_CASE("policy texts have one spelling; anything else is refused", "[log-policy]") {
  Log log;
  LogPolicy p = log.Policy(3600);
  const std::string text = device::FormatLogPolicy(p);
  auto back = device::ParseLogPolicy(text);
  REQUIRE(back.ok());
  CHECK(device::FormatLogPolicy(*back) == text);
  CHECK(device::DescribeLogPolicy(p) == "log.example/vouchers, 2 of 2 witnesses, max age 3600 s");
  const std::string w1 = log.w1.Verifier().Text(), w2 = log.w2.Verifier().Text(), k = log.key.Verifier().Text();
  for (const std::string& bad : std::vector<std::string>{
           std::string(""), text.substr(0, text.size() - 1),                           // no final newline
           "vouch-log-policy/2\nlog " + k + "\nquorum 0\n",                           // another version
           std::string("vouch-log-policy/1\nquorum 0\n"),                             // no log
           "vouch-log-policy/1\nlog " + k + "\n",                                     // no quorum
           "vouch-log-policy/1\nlog " + k + "\nquorum 01\n",                          // leading zero
           "vouch-log-policy/1\nlog " + k + "\nquorum 1\n",                           // over the witnesses
           "vouch-log-policy/1\nlog " + k + "\nwitness " + w1 + "\nwitness " + w1 + "\nquorum 1\n",  // twice
           "vouch-log-policy/1\nlog " + w1 + "\nquorum 0\n",                          // a witness key as the log's
           "vouch-log-policy/1\nlog " + k + "\nwitness " + k + "\nquorum 1\n",        // the log key as a witness's
           "vouch-log-policy/1\nlog " + k + "\nquorum 0\nextra 1\n",                  // an unknown line
           "vouch-log-policy/1\nlog " + k + "\nquorum 0\r\n",                         // CR
           "vouch-log-policy/1\nlog " + k + "\nwitness " + w1 + "\nquorum 1\nmax-age 0\n",
           "vouch-log-policy/1\nquorum 0\nlog " + k + "\n"}) {                        // out of order
    INFO(bad);
    CHECK_FALSE(device::ParseLogPolicy(bad).ok());
  }
  CHECK(device::ParseLogPolicy(std::string(device::kMaxLogPolicySize + 1, 'x')).status().code() == Code::kTooLarge);
  // Flags: the same rules, as usage errors.
  CHECK(device::MakeLogPolicy(k, {w1, w1}, 1, std::nullopt).status().code() == Code::kUsage);
  CHECK(device::MakeLogPolicy(k, {w1, w2}, 3, std::nullopt).status().code() == Code::kUsage);
  CHECK(device::MakeLogPolicy(k, {}, std::nullopt, 60).status().code() == Code::kUsage);
  CHECK(device::MakeLogPolicy(k, {w1, w2}, std::nullopt, std::nullopt)->quorum == 2);  // all, by default
  CHECK(device::MakeLogPolicy("nonsense", {}, 0, std::nullopt).status().code() == Code::kMalformed);
}

TEST_CASE("a device whose policy file does not parse refuses to judge", "[log-policy]") {
  Fixture f;
  REQUIRE(WriteFileAtomic(f.tmp / "state" / "log-policy", ToBytes("vouch-log-policy/1\nlog nonsense\nquorum 0\n"), 0600).ok());
  f.device = *DeviceState::Open(f.tmp / "state");
  Bytes v = f.Issue();
  auto before = Snapshot(f.tmp / "state");
  // Judged against it: refused; decided under the lock: an error, the state as it was.
  device::Judge judge(f.device);
  judge.Consider("stick/v.vjj", v, std::nullopt);
  CHECK(device::Enroll(f.device, {{"stick/v.vjj", v}}, false).status().code() == Code::kMalformed);
  CHECK(Snapshot(f.tmp / "state") == before);
  REQUIRE(WriteFileAtomic(f.tmp / "v.vjj", v).ok());
  CHECK(device::AcceptFile(f.tmp / "state", (f.tmp / "v.vjj").string(), false).status().code() == Code::kMalformed);
}

TEST_CASE("accept reads FILE.tlog-proof beside the voucher, or --proof", "[log-policy]") {
  Insisting f;
  Bytes v = f.Issue();
  size_t at = f.log.Add(v);
  REQUIRE(WriteFileAtomic(f.tmp / "v.vjj", v).ok());
  fs::path state = f.tmp / "state";
  std::string file = (f.tmp / "v.vjj").string();
  auto r = device::AcceptFile(state, file, /*dry_run=*/true);
  REQUIRE(r.ok());
  CHECK(r->candidates.at(0).status.code() == Code::kNotLogged);
  REQUIRE(WriteFileAtomic(f.tmp / "elsewhere.proof", f.log.Good(at)).ok());
  r = device::AcceptFile(state, file, true, (f.tmp / "elsewhere.proof").string());
  REQUIRE(r.ok());
  CHECK(r->outcome == Outcome::kEnrolled);
  CHECK(device::AcceptFile(state, file, true, (f.tmp / "missing.proof").string()).status().code() == Code::kNotFound);
  REQUIRE(WriteFileAtomic(f.tmp / "v.vjj.tlog-proof", Bytes(kMaxProofSize + 1, 'x')).ok());
  r = device::AcceptFile(state, file, true);
  REQUIRE(r.ok());
  CHECK(r->candidates.at(0).status.code() == Code::kTooLarge);
  REQUIRE(WriteFileAtomic(f.tmp / "v.vjj.tlog-proof", f.log.Good(at)).ok());
  r = device::AcceptFile(state, file, false);
  REQUIRE(r.ok());
  CHECK(r->outcome == Outcome::kEnrolled);
  CHECK(r->candidates.at(0).logged);
}
