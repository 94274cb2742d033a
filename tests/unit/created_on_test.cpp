// created-on windows (DESIGN.md sections 5 and 9): what a signer signs, and how far ahead a
// device without a clock lets a voucher be dated.
#include <catch2/catch.hpp>

#include "formats/datetime.h"
#include "libvoucher/enroll.h"
#include "libvoucher/issue.h"
#include "pki.h"

using namespace vouch;

TEST_CASE("a signer signs created-on from 30 days ago to 5 minutes ahead", "[created-on]") {
  Instant now = Instant::Now();
  auto code = [&](Instant created) {
    Voucher v;
    v.created_on = created;
    return CheckCreatedOnForSigning(v, now).code();
  };
  CHECK(code(now) == Code::kOk);
  CHECK(code(now.Plus(kSignAheadSeconds)) == Code::kOk);
  CHECK(code(Instant{now.Plus(kSignAheadSeconds).micros + 1}) == Code::kNotYetValid);
  CHECK(code(now.Plus(-kSignBehindSeconds)) == Code::kOk);
  CHECK(code(Instant{now.Plus(-kSignBehindSeconds).micros - 1}) == Code::kExpired);
  CHECK(code(*formats::ParseDateTime("9999-12-31T00:00:00Z")) == Code::kNotYetValid);
}

namespace {

struct Device {
  test::Pki pki = test::Pki::Make();
  PrivateKey x = *PrivateKey::Generate();
  DeviceIdentity id{x, x.Public().Fingerprint(), "SN-1", {pki.mfr_root}, /*trusted_clock=*/false};

  // The code a device without a clock answers for a voucher made at `created`, judged at `now`.
  Code Judge(Instant created, Instant now, const std::optional<Applied>& current = std::nullopt) {
    DraftRequest r = pki.Request(x.Public(), "SN-1");
    r.created_on = created;
    r.domain_ca_key.reset();  // no certificate for Z: its validity could not reach year 9999
    Voucher v = DraftVoucher(r)->voucher;
    return Evaluate(id, current, Candidate{&v, "id", pki.mfr_root, pki.mfr_signer}, now).status().code();
  }
};

// The first created-on a voucher can carry after `t`: drafts are whole seconds (DESIGN.md 5).
Instant JustAfter(Instant t) { return t.WholeSeconds().Plus(1); }

}  // namespace

TEST_CASE("a device without a clock refuses created-on past the horizon of what it knows", "[created-on]") {
  Device d;
  Instant now = Instant::Now();
  SECTION("its clock") {
    CHECK(d.Judge(now.Plus(kCreatedOnHorizonSeconds), now) == Code::kOk);
    CHECK(d.Judge(JustAfter(now.Plus(kCreatedOnHorizonSeconds)), now) == Code::kNotYetValid);
    CHECK(d.Judge(*formats::ParseDateTime("9999-12-31T00:00:00Z"), now) == Code::kNotYetValid);
  }
  SECTION("the release epoch, under a clock that reset to 1970") {
    Instant epoch = Instant::FromSeconds(0);
    Instant release = Instant::FromSeconds(kReleaseEpochSeconds);
    CHECK(d.Judge(release.Plus(kCreatedOnHorizonSeconds), epoch) == Code::kOk);
    CHECK(d.Judge(JustAfter(release.Plus(kCreatedOnHorizonSeconds)), epoch) == Code::kNotYetValid);
  }
  SECTION("the created-on of the voucher it applied, ahead of its clock") {
    Instant applied = now.Plus(3 * 365 * 86400);
    Applied current{"old", applied, d.pki.owner_ca, d.x.Public(), applied};
    CHECK(d.Judge(applied.Plus(kCreatedOnHorizonSeconds), now, current) == Code::kOk);
    CHECK(d.Judge(JustAfter(applied.Plus(kCreatedOnHorizonSeconds)), now, current) == Code::kNotYetValid);
  }
}

TEST_CASE("a device with a clock keeps refusing created-on past now + 5 minutes", "[created-on]") {
  Device d;
  d.id.trusted_clock = true;
  Instant now = Instant::Now();
  CHECK(d.Judge(now.Plus(kMaxClockSkewSeconds), now) == Code::kOk);
  CHECK(d.Judge(JustAfter(now.Plus(kMaxClockSkewSeconds)), now) == Code::kNotYetValid);
}
