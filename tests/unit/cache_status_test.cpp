// `vouch cache status` in process (cache/status.h): counts, the newest voucher, enrollment from
// the receipts that came back, renewal due, and devices the cache does not know.
#include <catch2/catch.hpp>

#include "cache/cache.h"
#include "cache/status.h"
#include "cache/status_facts.h"
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
  size_t at = text.find(d.udf + " v " + blob);
  REQUIRE(at != std::string::npos);
  std::string forged = text;
  size_t eol = forged.find('\n', at);
  forged.replace(at, eol - at + 1,
                 cache::FactsLine(d.udf, cache::git::ObjectId::OfBlob(v.envelope.bytes),
                                  cache::VoucherFacts{first->devices[0].newest->created_on, Instant{4102444800000000}}));
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

TEST_CASE("a facts file damaged, unsorted or cut short is read again from the blobs, never believed wrong", "[status]") {
  test::TempDir tmp;
  test::Fleet fleet;
  cache::Cache c = test::NewCache(tmp / "cache.git");
  // Enough devices that a damaged line lands among sound ones, each with a voucher and most
  // with a receipt.
  std::vector<test::FleetDevice> devices;
  std::vector<test::FleetVoucher> vouchers;
  for (int i = 0; i < 12; ++i) devices.push_back(fleet.Device("SN-" + std::to_string(i)));
  for (int i = 0; i < 12; ++i) vouchers.push_back(fleet.Issue(devices[i], i % 2 ? 10 : 3650));
  for (const auto& v : vouchers) test::PutFile(tmp / "in" / v.path, v.envelope.bytes);
  for (int i = 0; i < 12; i += 3) {
    Bytes r = fleet.Receipt(devices[i], vouchers[i], 1);
    test::PutFile(test::Fleet::OnStick(tmp / "stick", devices[i], r), r);
  }
  REQUIRE(test::ImportAll(c, {(tmp / "in").string(), (tmp / "stick").string()}).report.refused.empty());
  cache::FleetStatusRequest req;
  req.now = Instant::Now();
  const fs::path facts = tmp / "cache.git" / "vouch" / "status-facts";
  auto reference = cache::ReadFleetStatus(c, req);  // read from the blobs: no file yet
  REQUIRE(reference.ok());
  REQUIRE(reference->devices.size() == 12);
  const std::string text = test::ReadText(facts);
  REQUIRE(text.starts_with("vouch-status-facts 2\n"));
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) lines.push_back(text.substr(at, nl - at + 1));
  REQUIRE(lines.size() == 1 + 12 + 4);
  // Sorted by device, the order the walk meets them in.
  CHECK(std::is_sorted(lines.begin() + 1, lines.end(),
                       [](const std::string& a, const std::string& b) { return a.substr(0, a.find(' ')) < b.substr(0, b.find(' ')); }));

  auto same = [&](const std::string& why) {
    INFO(why);
    auto s = cache::ReadFleetStatus(c, req);
    REQUIRE(s.ok());
    REQUIRE(s->devices.size() == reference->devices.size());
    for (size_t i = 0; i < s->devices.size(); ++i) {
      const cache::DeviceStatus &x = s->devices[i], &y = reference->devices[i];
      CHECK(x.device == y.device);
      CHECK(x.vouchers == y.vouchers);
      CHECK(x.newest->created_on == y.newest->created_on);
      CHECK(x.newest->certificate_not_after == y.newest->certificate_not_after);
      CHECK(x.renewal_due == y.renewal_due);
      CHECK(x.enrolled.has_value() == y.enrolled.has_value());
      if (x.enrolled && y.enrolled) CHECK(x.enrolled->voucher_id == y.enrolled->voucher_id);
    }
    // And the file is made whole again.
    CHECK(test::ReadText(facts) == text);
  };
  auto with = [&](std::vector<std::string> ls) {
    std::string t;
    for (const auto& l : ls) t += l;
    test::PutFile(facts, AsBytes(t));
    fs::permissions(facts, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  };

  same("a sound file: taken as it is");
  // A digit changed on disk: the line's CRC no longer holds; the line is read again.
  std::vector<std::string> damaged = lines;
  for (auto& l : damaged) {
    const size_t v = l.find(" v ");
    if (v == std::string::npos) continue;
    char& digit = l[v + 3 + 40 + 1];  // the created-on's first digit
    digit = digit == '1' ? '2' : '1';
  }
  with(damaged);
  same("created-on changed in every voucher line");
  // Lines out of order: each is either where the walk looks for it or read again.
  std::vector<std::string> unsorted = lines;
  std::reverse(unsorted.begin() + 1, unsorted.end());
  with(unsorted);
  same("lines in reverse order");
  std::vector<std::string> swapped = lines;
  std::swap(swapped[2], swapped[9]);
  with(swapped);
  same("two lines swapped");
  // Cut short anywhere, even inside the header: what is whole is taken, the rest read again.
  for (size_t cut : {size_t{3}, text.size() / 3, text.size() / 2 + 7, text.size() - 1}) {
    with({text.substr(0, cut)});
    same("cut at " + std::to_string(cut));
  }
  // A line far too long, garbage, a line of a device the cache does not hold, an empty line.
  std::vector<std::string> noisy = lines;
  noisy.insert(noisy.begin() + 4, std::string(100000, 'x') + "\n");
  noisy.insert(noisy.begin() + 2, "\n");
  noisy.insert(noisy.begin() + 7, "ZZZZ v 00 1 - 00000000\n");
  noisy.push_back("MZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ v 0000000000000000000000000000000000000000 1 - 0\n");
  with(noisy);
  same("noise between the lines");
  // An older file (sorted by blob, no header) is not read.
  with({"v " + lines[1].substr(lines[1].find(" v ") + 3)});
  same("the layout before this one");

  // Named devices find their lines by binary search, whatever their place in the file.
  for (size_t i : {size_t{0}, size_t{5}, size_t{11}}) {
    cache::FleetStatusRequest one = req;
    one.devices = {reference->devices[i].device};
    auto s = cache::ReadFleetStatus(c, one);
    REQUIRE(s.ok());
    REQUIRE(s->devices.size() == 1);
    CHECK(s->devices[0].newest->certificate_not_after == reference->devices[i].newest->certificate_not_after);
  }
  // ... and believe only their own, sound lines: a device's voucher line given another's
  // created-on (with its CRC made right, as only the owner of the file could) is believed:
  // the file is ours alone (the rule above); one with a wrong CRC is not.
  {
    std::vector<std::string> bad = lines;
    for (auto& l : bad) {
      if (l.find(" v ") != std::string::npos) l[l.size() - 2] = l[l.size() - 2] == '0' ? '1' : '0';  // every CRC broken
    }
    with(bad);
    cache::FleetStatusRequest named = req;
    for (const auto& d : reference->devices) named.devices.insert(d.device);
    auto s = cache::ReadFleetStatus(c, named);
    REQUIRE(s.ok());
    for (size_t i = 0; i < s->devices.size(); ++i) {
      CHECK(s->devices[i].newest->created_on == reference->devices[i].newest->created_on);
    }
  }
}
