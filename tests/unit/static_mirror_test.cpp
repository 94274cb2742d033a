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

// A cache of `n` vouchers (and `foreign` more from another manufacturer) published under
// `out`.
Site Publish(const fs::path& tmp, size_t n, size_t foreign = 0) {
  Site s;
  cache::Cache c = test::NewCache(tmp / "source.git");
  std::vector<test::FleetVoucher> vs;
  for (size_t i = 0; i < n; ++i) {
    s.devices.push_back(s.fleet.Device("SN-" + std::to_string(i)));
    vs.push_back(s.fleet.Issue(s.devices.back()));
  }
  test::Fleet other;
  for (size_t i = 0; i < foreign; ++i) vs.push_back(other.Issue(other.Device("F-" + std::to_string(i))));
  for (const auto& v : vs) test::FileVouchers(tmp / "issued", {&v});
  REQUIRE(test::ImportAll(c, {(tmp / "issued").string()}).report.added == n + foreign);
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

TEST_CASE("a shard that fails its checks is left out, the others imported, and tried again next time", "[static-mirror]") {
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
  REQUIRE(r.ok());
  REQUIRE(r->failed_shards.size() == 1);
  CHECK(r->failed_shards[0].status.code() == Code::kCorruptEntry);
  CHECK(r->failed_shards[0].id == site.index.entries[2].id);
  CHECK(Vouchers(c) == 20 - site.index.entries[2].vouchers);
  // No download left behind; the good tree then costs only the shards not pulled yet.
  for (auto& e : fs::directory_iterator(tmp.path() / "c.git" / "vouch")) {
    CHECK(e.path().filename().string().rfind("static-pull-", 0) != 0);
  }
  // The mirror repaired: only the shard left out is downloaded.
  fs::remove_all(tmp.path() / "bad");
  fs::copy(tmp.path() / "site", tmp.path() / "bad", fs::copy_options::recursive);
  auto rest = cache::PullStatic(c, bad.Url(), site.index, limits);
  REQUIRE(rest.ok());
  CHECK(rest->new_shards == 1);
  CHECK(rest->failed_shards.empty());
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

TEST_CASE("vouchers the cache refuses are reported and do not stop the pull or repeat", "[static-mirror]") {
  test::TempDir tmp;
  Site site = Publish(tmp.path(), 16, 4);
  test::LoopbackServer server(test::LoopbackServer::Files(tmp.path() / "site"));
  // This cache trusts the site's manufacturer only: the four foreign vouchers are refused.
  cache::Cache c = test::NewCache(tmp.path() / "c.git", {site.fleet.pki.mfr_root});
  cache::StaticLimits limits;
  limits.group_bytes = 1;
  auto r = cache::PullStatic(c, server.Url(), site.index, limits);
  REQUIRE(r.ok());
  CHECK(r->groups == site.index.entries.size());  // every group, those after a refusal too
  CHECK(r->added.added == 16);
  CHECK(r->refused_count == 4);
  REQUIRE(r->refused.size() == 4);
  CHECK(r->refused[0].status.code() == Code::kUntrustedSigner);
  CHECK(Vouchers(c) == 16);
  // The shards are remembered, refusals and all: the next pull downloads nothing.
  auto again = cache::PullStatic(c, server.Url(), site.index, limits);
  REQUIRE(again.ok());
  CHECK(again->new_shards == 0);
  CHECK(again->refused_count == 0);
}

TEST_CASE("the ids remembered are those of the current index, however often it changes", "[static-mirror]") {
  test::TempDir tmp;
  Site site = Publish(tmp.path(), 12);
  test::LoopbackServer server(test::LoopbackServer::Files(tmp.path() / "site"));
  cache::Cache c = test::NewCache(tmp.path() / "c.git");
  REQUIRE(cache::PullStatic(c, server.Url(), site.index).ok());
  auto ids = [&] {
    fs::path folder = tmp.path() / "c.git" / "vouch" / "static-pulled";
    REQUIRE(std::distance(fs::directory_iterator(folder), fs::directory_iterator()) == 1);  // one tree pulled
    auto bytes = ReadFile(fs::directory_iterator(folder)->path(), 1 << 20);
    REQUIRE(bytes.ok());
    std::set<std::string> out;
    std::string text(bytes->begin(), bytes->end());
    for (size_t p = 0, nl; (nl = text.find('\n', p)) != std::string::npos; p = nl + 1) out.insert(text.substr(p, nl - p));
    return out;
  };
  auto of = [](const cache::PublishIndex& index) {
    std::set<std::string> out;
    for (const auto& e : index.entries) out.insert(e.id);
    return out;
  };
  CHECK(ids() == of(site.index));
  // Republished with more vouchers: changed prefixes get new shard ids, the old ones go.
  auto opened = cache::Cache::Open(tmp.path() / "source.git");
  REQUIRE(opened.ok());
  cache::Cache source = std::move(*opened);
  std::vector<test::FleetVoucher> more;
  for (int i = 0; i < 6; ++i) more.push_back(site.fleet.Issue(site.fleet.Device("SN-more-" + std::to_string(i))));
  for (const auto& v : more) test::FileVouchers(tmp.path() / "more", {&v});
  REQUIRE(test::ImportAll(source, {(tmp.path() / "more").string()}).report.added == 6);
  auto republished = cache::Publish(source, tmp.path() / "site", {});
  REQUIRE(republished.ok());
  REQUIRE(of(republished->index) != of(site.index));
  auto r = cache::PullStatic(c, server.Url(), republished->index);
  REQUIRE(r.ok());
  CHECK(r->added.added == 6);
  CHECK(ids() == of(republished->index));
  CHECK(Vouchers(c) == 18);
}

TEST_CASE("a stick's shard folder is never reached through a link, and a damaged shard is replaced", "[static-mirror]") {
  test::TempDir tmp;
  Site site = Publish(tmp.path(), 6);
  test::LoopbackServer server(test::LoopbackServer::Files(tmp.path() / "site"));
  const std::string& udf = site.devices[0].udf;
  auto shard = site.index.ForDevice(udf);
  REQUIRE(shard);
  // A hostile stick whose vouch.vshards is a link to a folder of the carrier's.
  fs::path stick = tmp.path() / "stick";
  fs::create_directories(stick);
  fs::create_directories(tmp.path() / "home");
  fs::create_directory_symlink(tmp.path() / "home", stick / "vouch.vshards");
  auto r = cache::FetchStaticShards(server.Url(), {udf}, stick);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kSymlinkEntry);
  CHECK(fs::is_empty(tmp.path() / "home"));
  for (auto& e : fs::directory_iterator(stick)) CHECK(e.path().filename() == "vouch.vshards");  // no download left
  // A file of the shard's name but not its bytes is not "present": it is replaced.
  fs::path clean = tmp.path() / "clean";
  fs::path at = clean / cache::PublishIndex::ShardPath(*shard);
  fs::create_directories(at.parent_path());
  test::WriteText(at, "not a bundle");
  auto fixed = cache::FetchStaticShards(server.Url(), {udf}, clean);
  REQUIRE(fixed.ok());
  CHECK(fixed->downloaded.size() == 1);
  CHECK(fixed->present.empty());
  CHECK(fs::file_size(at) == shard->size);
  auto again = cache::FetchStaticShards(server.Url(), {udf}, clean);
  REQUIRE(again.ok());
  CHECK(again->present.size() == 1);
}

TEST_CASE("two trees pulled in turn are each remembered: neither downloads again", "[static-mirror]") {
  test::TempDir tmp;
  Site site = Publish(tmp.path(), 8);
  test::LoopbackServer a(test::LoopbackServer::Files(tmp.path() / "site"));
  fs::create_directories(tmp.path() / "empty");
  cache::PublishIndex none;
  REQUIRE(WriteFileAtomic(tmp.path() / "empty" / "vouch.index", *cache::EncodeIndex(none)).ok());
  test::LoopbackServer b(test::LoopbackServer::Files(tmp.path() / "empty"));
  cache::Cache c = test::NewCache(tmp.path() / "c.git");
  auto first = cache::PullStatic(c, a.Url(), site.index);
  REQUIRE(first.ok());
  CHECK(first->new_shards == site.index.entries.size());
  // Another tree (here one that names no shard at all) does not make this cache forget the first.
  REQUIRE(cache::PullStatic(c, b.Url(), none).ok());
  auto again = cache::PullStatic(c, a.Url() + "/", site.index);
  REQUIRE(again.ok());
  CHECK(again->new_shards == 0);
}
