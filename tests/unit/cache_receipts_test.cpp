// Receipts in the cache (cache/cache.md, "Receipts"): what an import takes and refuses, what a
// history may hold, and that the log, lists and bundles leave receipts out.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "cache/cache.h"
#include "cache/receipts.h"
#include "fleet.h"
#include "libvoucher/encoding.h"
#include "testutil.h"

using namespace vouch;
namespace fs = std::filesystem;

namespace {

// The codes of an import's refusals, reader's and cache's, in the order they were found.
std::vector<Code> Codes(const test::FleetImport& i) {
  std::vector<Code> out;
  for (const auto& r : i.unreadable) out.push_back(r.status.code());
  for (const auto& r : i.report.refused) out.push_back(r.status.code());
  return out;
}

// Runs a shell command in a cache repository; true when it succeeded.
bool InRepo(const fs::path& repo, const std::string& cmd) {
  return std::system(("cd '" + repo.string() + "' && " + cmd).c_str()) == 0;
}

// Commits `bytes` at `path` on top of the vouchers branch with the git CLI, bypassing every
// check vouch makes: the history a hostile mirror could offer.
void CraftCommit(const fs::path& repo, const std::string& path, ByteView bytes) {
  test::PutFile(repo / "crafted", bytes);
  const std::string branch(cache::kBranch);
  REQUIRE(InRepo(repo, "export GIT_INDEX_FILE=idx && git read-tree " + branch + " && b=$(git hash-object -w crafted) && "
                       "git update-index --add --cacheinfo 100644,$b,'" + path + "' && t=$(git write-tree) && "
                       "git update-ref " + branch + " $(git commit-tree $t -p " + branch + " -m crafted) && rm idx crafted"));
}

}  // namespace

TEST_CASE("an import files a good receipt under receipts/, and list, export and the log leave it out", "[receipts]") {
  test::TempDir tmp;
  test::Fleet fleet;
  cache::Cache c = test::NewCache(tmp / "cache.git", {fleet.pki.mfr_root});
  REQUIRE(c.LogInit("example.com/log", tmp / "log.key").ok());
  test::FleetDevice d = fleet.Device("SN-1");
  test::FleetVoucher v = fleet.Issue(d);
  test::FileVouchers(tmp / "issued", {&v});
  CHECK(test::ImportAll(c, {(tmp / "issued").string()}).report.added == 1);

  // The stick comes back with the receipt in its vouch-receipts/ tree; its root is imported.
  Bytes receipt = fleet.Receipt(d, v, 1);
  test::PutFile(test::Fleet::OnStick(tmp / "stick", d, receipt), receipt);
  test::FleetImport in = test::ImportAll(c, {(tmp / "stick").string()});
  CHECK(Codes(in).empty());
  CHECK(in.report.receipts == 1);
  CHECK(in.report.added == 0);
  CHECK_FALSE(in.report.commit.empty());

  auto tip = c.repository().Resolve(cache::kBranch);
  REQUIRE(tip.ok());
  auto tree = c.repository().TreeOf(**tip);
  REQUIRE(tree.ok());
  const std::string path = *cache::ReceiptTreePath(d.udf, formats::ReceiptId(receipt));
  CHECK(path.rfind("receipts/", 0) == 0);
  CHECK(tree->EntryAt(path).has_value());
  CHECK(c.Verify().ok());
  // Vouchers only: `cache list`, bundles (Export) and the log's leaves.
  CHECK(*c.List() == std::vector<std::string>{v.path});
  auto exported = c.Export("");
  REQUIRE(exported.ok());
  REQUIRE(exported->size() == 1);
  CHECK(exported->front().path == v.path);
  auto log = c.LogState();
  REQUIRE(log.ok());
  CHECK(log->size == 1);
  CHECK(log->behind == 0);
}

TEST_CASE("an import refuses forged receipts, others' vouchers, unknown vouchers, mismatched keys and oversized files, and goes on",
          "[receipts]") {
  test::TempDir tmp;
  test::Fleet fleet;
  cache::Cache c = test::NewCache(tmp / "cache.git", {fleet.pki.mfr_root});
  test::FleetDevice a = fleet.Device("SN-A"), b = fleet.Device("SN-B");
  test::FleetVoucher a1 = fleet.Issue(a), a2 = fleet.Issue(a), b1 = fleet.Issue(b);
  test::FleetVoucher stray = fleet.Issue(a);  // never imported
  test::FileVouchers(tmp / "issued", {&a1, &a2, &b1});
  REQUIRE(test::ImportAll(c, {(tmp / "issued").string()}).report.added == 3);

  auto refusal = [&](const std::string& name, const Bytes& bytes) {
    fs::path f = tmp / name;
    test::PutFile(f, bytes);
    test::FleetImport in = test::ImportAll(c, {f.string()});
    CHECK(in.report.receipts == 0);
    std::vector<Code> codes = Codes(in);
    REQUIRE(codes.size() == 1);
    return codes[0];
  };
  // Forged: the payload changed under the signatures.
  Bytes good = fleet.Receipt(a, a1, 1);
  std::string text(good.begin(), good.end());
  const size_t from = text.find("\"payload\":\"") + 11, to = text.find('"', from);
  Bytes payload = *Base64UrlDecode(text.substr(from, to - from));
  std::string changed(payload.begin(), payload.end());
  changed.replace(changed.find("SN-A"), 4, "SN-Z");
  text.replace(from, to - from, Base64UrlEncode(AsBytes(changed)));
  CHECK(refusal("forged.vrj", Bytes(text.begin(), text.end())) == Code::kBadSignature);
  // Device b's receipt naming a's voucher: not among b's vouchers.
  CHECK(refusal("other-device.vrj", fleet.Receipt(b, b1, 1, &a1)) == Code::kNotFound);
  // A voucher the cache never saw.
  CHECK(refusal("unknown.vrj", fleet.Receipt(a, stray, 1)) == Code::kNotFound);
  // Applied a2 (so signed with a2's z) but naming a1: a1's combined key is another.
  CHECK(refusal("wrong-key.vrj", fleet.Receipt(a, a2, 1, &a1)) == Code::kCombinedKeyMismatch);
  // Over formats::kMaxReceiptSize: refused before it is parsed, by the reader and by the cache.
  Bytes big = good;
  big.insert(big.end() - 1, formats::kMaxReceiptSize, ' ');
  CHECK(refusal("big.vrj", big) == Code::kTooLarge);
  cache::Offered offered{"big", "", big, cache::Offered::Kind::kReceipt};
  auto direct = c.Add(
      [&, sent = false](std::vector<cache::Offered>* batch) mutable -> Result<bool> {
        batch->clear();
        if (sent) return false;
        batch->push_back(offered);
        return sent = true;
      },
      "test");
  REQUIRE(direct.ok());
  REQUIRE(direct->refused.size() == 1);
  CHECK(direct->refused[0].status.code() == Code::kTooLarge);

  // Refusals never stop the rest: a good receipt beside a bad one is taken.
  test::PutFile(tmp / "mixed" / "bad.vrj", fleet.Receipt(a, stray, 1));
  test::PutFile(tmp / "mixed" / "good.vrj", good);
  test::FleetImport mixed = test::ImportAll(c, {(tmp / "mixed").string()});
  CHECK(Codes(mixed) == std::vector<Code>{Code::kNotFound});
  CHECK(mixed.report.receipts == 1);
  CHECK(c.Verify().ok());
}

TEST_CASE("a receipt not above the highest generation held is a rollback; the same bytes again are a no-op", "[receipts]") {
  test::TempDir tmp;
  test::Fleet fleet;
  cache::Cache c = test::NewCache(tmp / "cache.git");
  test::FleetDevice d = fleet.Device("SN-1");
  test::FleetVoucher v1 = fleet.Issue(d), v2 = fleet.Issue(d);
  test::FileVouchers(tmp / "issued", {&v1, &v2});
  REQUIRE(test::ImportAll(c, {(tmp / "issued").string()}).report.added == 2);

  Bytes first = fleet.Receipt(d, v1, 1), second = fleet.Receipt(d, v2, 2), replayed = fleet.Receipt(d, v1, 2);
  test::PutFile(tmp / "r2.vrj", second);
  test::PutFile(tmp / "r1.vrj", first);
  test::PutFile(tmp / "r2-replayed.vrj", replayed);
  REQUIRE(test::ImportAll(c, {(tmp / "r2.vrj").string()}).report.receipts == 1);
  test::FleetImport older = test::ImportAll(c, {(tmp / "r1.vrj").string()});
  CHECK(Codes(older) == std::vector<Code>{Code::kRollback});
  // Another receipt of the generation held is no newer.
  CHECK(Codes(test::ImportAll(c, {(tmp / "r2-replayed.vrj").string()})) == std::vector<Code>{Code::kRollback});
  // The same enrollment signed again (ES256 signatures differ each time: other bytes, another
  // id) is neither new nor refused.
  Bytes resigned = fleet.Receipt(d, v2, 2);
  REQUIRE(resigned != second);
  test::PutFile(tmp / "r2-again.vrj", resigned);
  test::FleetImport retold = test::ImportAll(c, {(tmp / "r2-again.vrj").string()});
  CHECK(retold.report.receipts == 0);
  CHECK(Codes(retold).empty());
  test::FleetImport again = test::ImportAll(c, {(tmp / "r2.vrj").string()});
  CHECK(Codes(again).empty());
  CHECK(again.report.present == 1);
  CHECK(again.report.receipts == 0);
  CHECK(again.report.commit.empty());

  // One import of a device's whole run of receipts takes them oldest first.
  cache::Cache fresh = test::NewCache(tmp / "fresh.git");
  fs::remove(tmp / "r2-replayed.vrj");
  test::FleetImport run = test::ImportAll(fresh, {(tmp / "issued").string(), (tmp / "r2.vrj").string(), (tmp / "r1.vrj").string()});
  CHECK(Codes(run).empty());
  CHECK(run.report.added == 2);
  CHECK(run.report.receipts == 2);
}

TEST_CASE("cache verify and pulls refuse a receipt filed under another id or another device", "[receipts]") {
  test::TempDir tmp;
  test::Fleet fleet;
  test::FleetDevice a = fleet.Device("SN-A"), b = fleet.Device("SN-B");
  test::FleetVoucher va = fleet.Issue(a), vb = fleet.Issue(b);
  Bytes ra = fleet.Receipt(a, va, 1), rb = fleet.Receipt(b, vb, 1);
  auto make = [&](const std::string& name) {
    cache::Cache c = test::NewCache(tmp / name, {fleet.pki.mfr_root});
    test::FileVouchers(tmp / (name + "-in"), {&va, &vb});
    test::PutFile(tmp / (name + "-in") / "ra.vrj", ra);
    REQUIRE(test::ImportAll(c, {(tmp / (name + "-in")).string()}).report.receipts == 1);
    return c;
  };

  // A good history, pulled: receipts travel like vouchers.
  cache::Cache good = make("good.git");
  CHECK(good.Verify().ok());
  cache::Cache mirror = test::NewCache(tmp / "mirror.git", {fleet.pki.mfr_root});
  auto pulled = mirror.Pull((tmp / "good.git").string());
  REQUIRE(pulled.ok());
  CHECK(pulled->new_vouchers == 2);
  CHECK(pulled->new_receipts == 1);
  CHECK(mirror.Verify().ok());

  SECTION("under another id") {
    cache::Cache bad = make("bad.git");
    // b's receipt at a path whose name is a's receipt id, under b's device.
    std::string path = *cache::ReceiptTreePath(b.udf, formats::ReceiptId(ra));
    CraftCommit(tmp / "bad.git", path, rb);
    Status s = bad.Verify();
    CHECK(s.code() == Code::kIdMismatch);
    CHECK_THAT(s.message(), Catch::Contains(path));
    auto refused = mirror.Pull((tmp / "bad.git").string());
    CHECK(refused.status().code() == Code::kIdMismatch);
  }
  SECTION("under another device") {
    cache::Cache bad = make("bad.git");
    std::string path = *cache::ReceiptTreePath(a.udf, formats::ReceiptId(rb));
    CraftCommit(tmp / "bad.git", path, rb);
    CHECK(bad.Verify().code() == Code::kWrongDevice);
    CHECK(mirror.Pull((tmp / "bad.git").string()).status().code() == Code::kWrongDevice);
  }
  SECTION("forged, at its own path") {
    cache::Cache bad = make("bad.git");
    Bytes forged = rb;
    forged[forged.size() - 12] = forged[forged.size() - 12] == 'A' ? 'B' : 'A';  // in x's signature
    CraftCommit(tmp / "bad.git", *cache::ReceiptTreePath(b.udf, formats::ReceiptId(forged)), forged);
    CHECK(bad.Verify().code() == Code::kBadSignature);
  }
  SECTION("over the receipt cap, refused from its header") {
    cache::Cache bad = make("bad.git");
    Bytes big = rb;
    big.insert(big.end() - 1, formats::kMaxReceiptSize, ' ');
    CraftCommit(tmp / "bad.git", *cache::ReceiptTreePath(b.udf, formats::ReceiptId(big)), big);
    Status s = bad.Verify();
    CHECK(s.code() == Code::kTooLarge);
    CHECK_THAT(s.message(), Catch::Contains("over the cap of 16384"));
  }
  SECTION("a name that is no receipt path") {
    cache::Cache bad = make("bad.git");
    CraftCommit(tmp / "bad.git", "receipts/XX/YY/" + b.udf + "/" + formats::ReceiptId(rb) + ".vrj", rb);
    CHECK(bad.Verify().code() == Code::kUnsafePath);
  }
}

TEST_CASE("an import holds a receipt's bytes once, however many hard links a stick has to it", "[receipts]") {
  test::TempDir tmp;
  test::Fleet fleet;
  cache::Cache c = test::NewCache(tmp / "cache.git");
  test::FleetDevice d = fleet.Device("SN-1");
  test::FleetVoucher v = fleet.Issue(d);
  test::FileVouchers(tmp / "issued", {&v});
  REQUIRE(test::ImportAll(c, {(tmp / "issued").string()}).report.added == 1);
  Bytes receipt = fleet.Receipt(d, v, 1);
  fs::path first = tmp / "stick" / "r0.vrj";
  test::PutFile(first, receipt);
  // The reviewer's stick: one receipt and many links to it, which an import used to hold once
  // per link (60,000 links: 1.27 GB); now once, the rest counted as already present.
  for (int i = 1; i < 500; ++i) fs::create_hard_link(first, tmp / "stick" / ("r" + std::to_string(i) + ".vrj"));
  test::FleetImport in = test::ImportAll(c, {(tmp / "stick").string()});
  CHECK(Codes(in).empty());
  CHECK(in.report.receipts == 1);
  CHECK(in.report.present == 499);
}
