// `vouch cache status` in process (cache/status.h): counts, the newest voucher, enrollment from
// the receipts that came back, renewal due, and devices the cache does not know.
#include <catch2/catch.hpp>

#include "cache/cache.h"
#include "cache/status.h"
#include "fleet.h"
#include "testutil.h"

using namespace vouch;
namespace fs = std::filesystem;

namespace {

std::string ObjectIdHex(const Bytes& bytes) { return cache::git::ObjectId::OfBlob(bytes).Hex(); }

const cache::DeviceStatus& Of(const cache::FleetStatus& s, const std::string& udf) {
  for (const auto& d : s.devices) {
    if (d.device == udf) return d;
  }
  static const cache::DeviceStatus none;
  FAIL("no status for " + udf);
  return none;
}

}  // namespace

TEST_CASE("status counts each device's vouchers, names the newest and the receipt of highest generation", "[status]") {
  test::TempDir tmp;
  test::Fleet fleet;
  cache::Cache c = test::NewCache(tmp / "cache.git");
  test::FleetDevice a = fleet.Device("SN-A"), b = fleet.Device("SN-B"), idle = fleet.Device("SN-C");
  const Instant now = Instant::Now();
  // a: three vouchers, the newest in the middle of the listing order; b: one; idle: none.
  test::FleetVoucher a_old = fleet.Issue(a, 3650, now.Plus(-7200)), a_new = fleet.Issue(a, 3650, now.Plus(-60)),
                     a_mid = fleet.Issue(a, 3650, now.Plus(-3600)), b1 = fleet.Issue(b);
  test::FileVouchers(tmp / "issued", {&a_old, &a_new, &a_mid, &b1});
  // a enrolled twice (generations 1 and 2); b never came back.
  Bytes r1 = fleet.Receipt(a, a_old, 1), r2 = fleet.Receipt(a, a_new, 2);
  test::PutFile(test::Fleet::OnStick(tmp / "stick", a, r1), r1);
  test::PutFile(test::Fleet::OnStick(tmp / "stick", a, r2), r2);
  test::FleetImport in = test::ImportAll(c, {(tmp / "issued").string(), (tmp / "stick").string()});
  REQUIRE(in.report.refused.empty());
  REQUIRE(in.report.receipts == 2);

  cache::FleetStatusRequest every;
  every.now = now;
  auto all = cache::ReadFleetStatus(c, every);
  REQUIRE(all.ok());
  CHECK(all->devices.size() == 2);  // every device the cache holds; idle is not one
  CHECK(all->enrolled == 1);
  CHECK(all->renewal_due == 0);
  const cache::DeviceStatus& sa = Of(*all, a.udf);
  CHECK(sa.vouchers == 3);
  REQUIRE(sa.newest);
  CHECK(sa.newest->id == a_new.envelope.id);
  CHECK(sa.newest->created_on == a_new.voucher.created_on);
  REQUIRE(sa.enrolled);
  CHECK(sa.enrolled->generation == 2);
  CHECK(sa.enrolled->voucher_id == a_new.envelope.id);
  CHECK(sa.enrolled->receipt_id == formats::ReceiptId(r2));
  const cache::DeviceStatus& sb = Of(*all, b.udf);
  CHECK(sb.vouchers == 1);
  CHECK_FALSE(sb.enrolled);

  // Named devices: only those, a device the cache has nothing for reported with none.
  cache::FleetStatusRequest named;
  named.now = now;
  named.devices = {b.udf, idle.udf};
  auto some = cache::ReadFleetStatus(c, named);
  REQUIRE(some.ok());
  REQUIRE(some->devices.size() == 2);
  const cache::DeviceStatus& si = Of(*some, idle.udf);
  CHECK(si.vouchers == 0);
  CHECK_FALSE(si.newest);
  CHECK_FALSE(si.enrolled);
  CHECK_FALSE(si.renewal_due);
  CHECK(Of(*some, b.udf).vouchers == 1);
  CHECK(some->enrolled == 0);

  // An empty cache still reports the devices asked about.
  cache::Cache empty = test::NewCache(tmp / "empty.git");
  auto none = cache::ReadFleetStatus(empty, named);
  REQUIRE(none.ok());
  CHECK(none->devices.size() == 2);
  CHECK(none->devices[0].vouchers == 0);
}

TEST_CASE("renewal is due when the newest voucher's certificate ends within the window, never without one", "[status]") {
  test::TempDir tmp;
  test::Fleet fleet;
  cache::Cache c = test::NewCache(tmp / "cache.git");
  test::FleetDevice short_lived = fleet.Device("SN-S"), long_lived = fleet.Device("SN-L"), bare = fleet.Device("SN-N"),
                    renewed = fleet.Device("SN-R");
  const Instant now = Instant::Now();
  test::FleetVoucher s = fleet.Issue(short_lived, 10), l = fleet.Issue(long_lived, 3650), n = fleet.Issue(bare, std::nullopt);
  // An old short-lived certificate replaced by a newer long-lived one: the newest decides.
  test::FleetVoucher r_old = fleet.Issue(renewed, 10, now.Plus(-3600)), r_new = fleet.Issue(renewed, 3650, now.Plus(-60));
  test::FileVouchers(tmp / "issued", {&s, &l, &n, &r_old, &r_new});
  REQUIRE(test::ImportAll(c, {(tmp / "issued").string()}).report.added == 5);

  auto at = [&](int64_t within_days) {
    cache::FleetStatusRequest r;
    r.now = now;
    r.within_seconds = within_days * 86400;
    auto st = cache::ReadFleetStatus(c, r);
    REQUIRE(st.ok());
    return *st;
  };
  cache::FleetStatus month = at(30);
  CHECK(Of(month, short_lived.udf).renewal_due);
  CHECK_FALSE(Of(month, long_lived.udf).renewal_due);
  CHECK_FALSE(Of(month, renewed.udf).renewal_due);
  const cache::DeviceStatus& nb = Of(month, bare.udf);
  REQUIRE(nb.newest);
  CHECK_FALSE(nb.newest->certificate_not_after);  // "no certificate": never due
  CHECK_FALSE(nb.renewal_due);
  CHECK(month.renewal_due == 1);
  REQUIRE(Of(month, short_lived.udf).newest->certificate_not_after);
  CHECK(*Of(month, short_lived.udf).newest->certificate_not_after > now.Plus(9 * 86400));

  cache::FleetStatus week = at(5);  // ten days left is not within five
  CHECK_FALSE(Of(week, short_lived.udf).renewal_due);
  CHECK(week.renewal_due == 0);
  CHECK(at(3651).renewal_due == 3);  // every certificate ends within ten years and a day
}

TEST_CASE("what status read of each blob is kept for the next run, and a damaged record is read again", "[status]") {
  test::TempDir tmp;
  test::Fleet fleet;
  cache::Cache c = test::NewCache(tmp / "cache.git");
  test::FleetDevice d = fleet.Device("SN-1");
  test::FleetVoucher v = fleet.Issue(d, 10);
  test::FileVouchers(tmp / "in", {&v});
  Bytes r = fleet.Receipt(d, v, 1);
  test::PutFile(tmp / "in" / "r.vrj", r);
  REQUIRE(test::ImportAll(c, {(tmp / "in").string()}).report.receipts == 1);
  cache::FleetStatusRequest req;
  req.now = Instant::Now();
  auto first = cache::ReadFleetStatus(c, req);
  REQUIRE(first.ok());
  const fs::path facts = tmp / "cache.git" / "vouch" / "status-facts";
  REQUIRE(fs::exists(facts));
  std::string text = test::ReadText(facts);
  CHECK(text.find("v " + ObjectIdHex(v.envelope.bytes)) != std::string::npos);
  CHECK(text.find("r " + ObjectIdHex(r) + " 1 ") != std::string::npos);

  auto same = [&](const cache::FleetStatus& s) {
    REQUIRE(s.devices.size() == 1);
    const cache::DeviceStatus& x = s.devices[0];
    CHECK(x.newest->id == v.envelope.id);
    CHECK(x.newest->created_on == first->devices[0].newest->created_on);
    CHECK(x.newest->certificate_not_after == first->devices[0].newest->certificate_not_after);
    CHECK(x.enrolled->generation == 1);
    CHECK(x.enrolled->voucher_id == v.envelope.id);
    CHECK(x.renewal_due);
  };
  auto again = cache::ReadFleetStatus(c, req);
  REQUIRE(again.ok());
  same(*again);
  // Lines cut short or garbled are not believed: those blobs are read again.
  test::PutFile(facts, AsBytes(std::string_view("v zz 1 -\nr " + ObjectIdHex(r) + " x 1 y\n" + text.substr(0, 30))));
  auto repaired = cache::ReadFleetStatus(c, req);
  REQUIRE(repaired.ok());
  same(*repaired);
  CHECK(test::ReadText(facts) == text);

  // A file someone else could have written is not believed at all: a line saying the
  // certificate runs for a century changes nothing unless the file is ours alone.
  const std::string blob = ObjectIdHex(v.envelope.bytes);
  size_t at = text.find("v " + blob);
  REQUIRE(at != std::string::npos);
  std::string forged = text;
  size_t eol = forged.find('\n', at);
  forged.replace(at, eol - at, "v " + blob + " " + std::to_string(first->devices[0].newest->created_on.micros) + " 4102444800000000");
  test::PutFile(facts, AsBytes(forged));
  fs::permissions(facts, fs::perms::group_write, fs::perm_options::add);
  auto distrusted = cache::ReadFleetStatus(c, req);
  REQUIRE(distrusted.ok());
  same(*distrusted);
  // The same line in a file that is ours alone is taken as written (the facts are a cache of
  // what we read, not a check): that is what the ownership rule is for.
  test::PutFile(facts, AsBytes(forged));
  fs::permissions(facts, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  auto believed = cache::ReadFleetStatus(c, req);
  REQUIRE(believed.ok());
  CHECK_FALSE(believed->devices[0].renewal_due);
}
