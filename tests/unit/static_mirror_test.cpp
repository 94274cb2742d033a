// Reading a published tree over HTTP in process (cache/static_mirror.h), from a file server on
// 127.0.0.1: a pull a group at a time, what a refused group leaves, and a stick's fetch.
#include <catch2/catch.hpp>

#include <set>

#include "cache/publish.h"
#include "cache/static_mirror.h"
#include "fleet.h"
#include "libvoucher/file.h"
#include "loopback_server.h"
#include "testutil.h"

using namespace vouch;
namespace fs = std::filesystem;

namespace {

struct Site {
  test::Fleet fleet;
  std::vector<test::FleetDevice> devices;
  cache::PublishIndex index;
};

// A cache of `n` vouchers published under `out`.
Site Publish(const fs::path& tmp, size_t n) {
  Site s;
  cache::Cache c = test::NewCache(tmp / "source.git");
  std::vector<test::FleetVoucher> vs;
  for (size_t i = 0; i < n; ++i) {
    s.devices.push_back(s.fleet.Device("SN-" + std::to_string(i)));
    vs.push_back(s.fleet.Issue(s.devices.back()));
  }
  for (const auto& v : vs) test::FileVouchers(tmp / "issued", {&v});
  REQUIRE(test::ImportAll(c, {(tmp / "issued").string()}).report.added == n);
  auto r = cache::Publish(c, tmp / "site", {});
  REQUIRE(r.ok());
  s.index = r->index;
  return s;
}

void Flip(const fs::path& file) {
  auto bytes = ReadFile(file, 1 << 30);
  REQUIRE(bytes.ok());
  (*bytes)[bytes->size() / 2] ^= 1;
  REQUIRE(WriteFileAtomic(file, *bytes).ok());
}

size_t Vouchers(const cache::Cache& c) {
  auto l = c.List();
  REQUIRE(l.ok());
  return l->size();
}

}  // namespace

TEST_CASE("a pull goes a group at a time and downloads a shard once", "[static-mirror]") {
  test::TempDir tmp;
  Site site = Publish(tmp.path(), 20);
  REQUIRE(site.index.entries.size() >= 2);
  test::LoopbackServer server(test::LoopbackServer::Files(tmp.path() / "site"));
  cache::Cache c = test::NewCache(tmp.path() / "c.git");
  auto index = cache::ProbeStaticMirror(server.Url());
  REQUIRE(index.ok());
  REQUIRE(*index);
  cache::StaticLimits limits;
  limits.group_bytes = 1;  // each shard a group of its own
  auto r = cache::PullStatic(c, server.Url(), **index, limits);
  REQUIRE(r.ok());
  CHECK(r->groups == site.index.entries.size());
  CHECK(r->new_shards == site.index.entries.size());
  CHECK(r->added.added == 20);
  CHECK(Vouchers(c) == 20);
  auto again = cache::PullStatic(c, server.Url(), **index, limits);
  REQUIRE(again.ok());
  CHECK(again->new_shards == 0);
  CHECK(again->bytes == 0);
  // A path with no index is no tree (a git remote's, say).
  auto none = cache::ProbeStaticMirror(server.Url("/elsewhere.git"));
  REQUIRE(none.ok());
  CHECK(!*none);
}

TEST_CASE("a refused group imports nothing of itself and keeps the groups before it", "[static-mirror]") {
  test::TempDir tmp;
  Site site = Publish(tmp.path(), 20);
  REQUIRE(site.index.entries.size() >= 3);
  // The third shard in index order flipped.
  fs::copy(tmp.path() / "site", tmp.path() / "bad", fs::copy_options::recursive);
  Flip(tmp.path() / "bad" / cache::PublishIndex::ShardPath(site.index.entries[2]));
  test::LoopbackServer bad(test::LoopbackServer::Files(tmp.path() / "bad"));
  cache::Cache c = test::NewCache(tmp.path() / "c.git");
  cache::StaticLimits limits;
  limits.group_bytes = 1;
  auto r = cache::PullStatic(c, bad.Url(), site.index, limits);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kCorruptEntry);
  size_t before = site.index.entries[0].vouchers + site.index.entries[1].vouchers;
  CHECK(Vouchers(c) == before);
  // No download left behind; the good tree then costs only the shards not pulled yet.
  for (auto& e : fs::directory_iterator(tmp.path() / "c.git" / "vouch")) {
    CHECK(e.path().filename().string().rfind("static-pull-", 0) != 0);
  }
  test::LoopbackServer good(test::LoopbackServer::Files(tmp.path() / "site"));
  auto rest = cache::PullStatic(c, good.Url(), site.index, limits);
  REQUIRE(rest.ok());
  CHECK(rest->new_shards == site.index.entries.size() - 2);
  CHECK(Vouchers(c) == 20);
}

TEST_CASE("a stick gets its devices' shards, or nothing when one is refused", "[static-mirror]") {
  test::TempDir tmp;
  Site site = Publish(tmp.path(), 12);
  test::LoopbackServer server(test::LoopbackServer::Files(tmp.path() / "site"));
  const std::string& udf = site.devices[0].udf;
  auto shard = site.index.ForDevice(udf);
  REQUIRE(shard);
  fs::path stick = tmp.path() / "stick";
  auto r = cache::FetchStaticShards(server.Url(), {udf}, stick);
  REQUIRE(r.ok());
  REQUIRE(r->downloaded.size() == 1);
  CHECK(r->downloaded[0] == *shard);
  std::set<std::string> files;
  for (auto& e : fs::recursive_directory_iterator(stick)) {
    if (e.is_regular_file()) files.insert(e.path().lexically_relative(stick).generic_string());
  }
  CHECK(files == std::set<std::string>{cache::PublishIndex::ShardPath(*shard)});
  auto again = cache::FetchStaticShards(server.Url(), {udf}, stick);
  REQUIRE(again.ok());
  CHECK(again->downloaded.empty());
  CHECK(again->present.size() == 1);
  // Two devices, one shard refused: neither is written.
  fs::copy(tmp.path() / "site", tmp.path() / "bad", fs::copy_options::recursive);
  const std::string* other = nullptr;
  for (const auto& d : site.devices) {
    if (site.index.ForDevice(d.udf)->prefix != shard->prefix) other = &d.udf;
  }
  REQUIRE(other);
  Flip(tmp.path() / "bad" / cache::PublishIndex::ShardPath(*site.index.ForDevice(*other)));
  test::LoopbackServer bad(test::LoopbackServer::Files(tmp.path() / "bad"));
  fs::path stick2 = tmp.path() / "stick2";
  auto refused = cache::FetchStaticShards(bad.Url(), {udf, *other}, stick2);
  REQUIRE(!refused.ok());
  CHECK(refused.status().code() == Code::kCorruptEntry);
  CHECK(!fs::exists(stick2));
}
