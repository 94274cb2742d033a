// vouch publish in process (cache/publish.md): the tree it writes, what a second run keeps,
// how a prefix is cut, --prune, and the index it refuses to overwrite.
#include <catch2/catch.hpp>

#include <set>

#include "cache/publish.h"
#include "fleet.h"
#include "libvoucher/file.h"
#include "testutil.h"

using namespace vouch;
namespace fs = std::filesystem;

namespace {

// `n` vouchers for new devices, imported into `c`.
void AddVouchers(const test::Fleet& fleet, cache::Cache& c, const fs::path& dir, size_t n) {
  std::vector<test::FleetVoucher> vs;
  for (size_t i = 0; i < n; ++i) vs.push_back(fleet.Issue(fleet.Device("SN-" + std::to_string(i))));
  for (const auto& v : vs) test::FileVouchers(dir, {&v});
  auto r = test::ImportAll(c, {dir.string()});
  REQUIRE(r.report.added == n);
}

std::set<std::string> ShardFiles(const fs::path& out) {
  std::set<std::string> files;
  for (auto& e : fs::recursive_directory_iterator(out / "vouch.vshards")) {
    if (e.is_regular_file()) files.insert(e.path().lexically_relative(out).generic_string());
  }
  return files;
}

cache::PublishIndex ReadIndex(const fs::path& out) {
  auto bytes = ReadFile(out / "vouch.index", cache::kMaxIndexSize);
  REQUIRE(bytes.ok());
  auto index = cache::DecodeIndex(*bytes);
  REQUIRE(index.ok());
  return *index;
}

}  // namespace

TEST_CASE("a publish names every shard in its index and a second one writes only the changed prefixes", "[publish]") {
  test::TempDir tmp;
  test::Fleet fleet;
  cache::Cache c = test::NewCache(tmp.path() / "c.git");
  fs::path out = tmp.path() / "site";
  // An empty cache publishes an empty index.
  auto empty = cache::Publish(c, out, {});
  REQUIRE(empty.ok());
  CHECK(ReadIndex(out).entries.empty());

  AddVouchers(fleet, c, tmp.path() / "a", 30);
  auto first = cache::Publish(c, out, {});
  REQUIRE(first.ok());
  CHECK(first->vouchers == 30);
  cache::PublishIndex index = ReadIndex(out);
  CHECK(index.entries == first->index.entries);
  std::set<std::string> named;
  size_t vouchers = 0;
  for (const auto& e : index.entries) {
    CHECK(e.prefix.size() == 2);  // 30 vouchers: no c1c2 is cut
    named.insert(cache::PublishIndex::ShardPath(e));
    vouchers += e.vouchers;
    auto b = formats::Bundle::Open(out / cache::PublishIndex::ShardPath(e));
    REQUIRE(b.ok());
    CHECK(b->id() == e.id);
    CHECK(b->CheckShard(e.prefix).ok());
    CHECK(fs::file_size(out / cache::PublishIndex::ShardPath(e)) == e.size);
  }
  CHECK(vouchers == 30);
  CHECK(named == ShardFiles(out));

  AddVouchers(fleet, c, tmp.path() / "b", 3);
  auto second = cache::Publish(c, out, {});
  REQUIRE(second.ok());
  CHECK(second->written.size() >= 1);
  CHECK(second->written.size() <= 3);
  CHECK(second->kept + second->written.size() == second->index.entries.size());
  // The superseded shards stay until --prune, which leaves exactly what the index names.
  std::set<std::string> all = ShardFiles(out);
  for (const auto& p : named) CHECK(all.count(p) == 1);
  auto pruned = cache::Publish(c, out, {true});
  REQUIRE(pruned.ok());
  CHECK(pruned->written.empty());
  std::set<std::string> now;
  for (const auto& e : ReadIndex(out).entries) now.insert(cache::PublishIndex::ShardPath(e));
  CHECK(now == ShardFiles(out));
  CHECK(pruned->pruned.size() == all.size() - now.size());
}

TEST_CASE("a c1c2 over the deep threshold is published as c1c2/c3c4 shards, and back", "[publish]") {
  test::TempDir tmp;
  test::Fleet fleet;
  cache::Cache c = test::NewCache(tmp.path() / "c.git");
  AddVouchers(fleet, c, tmp.path() / "a", 12);
  fs::path out = tmp.path() / "site";
  cache::PublishOptions deep;
  deep.deep_shard_threshold = 0;  // every c1c2 is cut
  auto cut = cache::Publish(c, out, deep);
  REQUIRE(cut.ok());
  size_t vouchers = 0;
  for (const auto& e : cut->index.entries) {
    CHECK(e.prefix.size() == 5);
    vouchers += e.vouchers;
  }
  CHECK(vouchers == 12);
  // The same cache at the usual threshold: every prefix has another shard now.
  auto whole = cache::Publish(c, out, {true});
  REQUIRE(whole.ok());
  CHECK(whole->kept == 0);
  for (const auto& e : whole->index.entries) CHECK(e.prefix.size() == 2);
  CHECK(whole->pruned.size() == cut->index.entries.size());
}

TEST_CASE("a publish refuses a folder whose index it cannot read", "[publish]") {
  test::TempDir tmp;
  test::Fleet fleet;
  cache::Cache c = test::NewCache(tmp.path() / "c.git");
  fs::path out = tmp.path() / "site";
  fs::create_directories(out);
  REQUIRE(WriteFileAtomic(out / "vouch.index", AsBytes("<html>something else</html>\n")).ok());
  auto r = cache::Publish(c, out, {});
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kMalformed);
}

TEST_CASE("a publish folder with a link below it is refused before anything is written or pruned", "[publish]") {
  test::TempDir tmp;
  test::Fleet fleet;
  cache::Cache c = test::NewCache(tmp.path() / "c.git");
  AddVouchers(fleet, c, tmp.path() / "a", 5);
  fs::path out = tmp.path() / "site", victim = tmp.path() / "victim";
  fs::create_directories(out);
  fs::create_directories(victim);
  test::WriteText(victim / "keep.vbundle", "the carrier's own file");
  fs::create_directory_symlink(victim, out / "vouch.vshards");
  auto r = cache::Publish(c, out, {true});
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kSymlinkEntry);
  CHECK(fs::exists(victim / "keep.vbundle"));
  CHECK(std::distance(fs::directory_iterator(victim), fs::directory_iterator()) == 1);
  CHECK(!fs::exists(out / "vouch.index"));
}

TEST_CASE("a file at a shard's name is trusted only as far as it reads", "[publish]") {
  test::TempDir tmp;
  test::Fleet fleet;
  cache::Cache c = test::NewCache(tmp.path() / "c.git");
  AddVouchers(fleet, c, tmp.path() / "a", 5);
  fs::path out = tmp.path() / "site";
  auto first = cache::Publish(c, out, {});
  REQUIRE(first.ok());
  // Garbage put at every shard's name (ids are predictable) before the folder is published
  // again from scratch: each is replaced by the real shard.
  fs::path other = tmp.path() / "other";
  for (const auto& e : first->index.entries) {
    fs::path p = other / cache::PublishIndex::ShardPath(e);
    fs::create_directories(p.parent_path());
    test::WriteText(p, "garbage");
  }
  auto second = cache::Publish(c, other, {});
  REQUIRE(second.ok());
  for (const auto& e : second->index.entries) CHECK(fs::file_size(other / cache::PublishIndex::ShardPath(e)) == e.size);
  CHECK(second->index.entries == first->index.entries);
  // A shard damaged in place is not kept by the next publish.
  fs::path shard = other / cache::PublishIndex::ShardPath(second->index.entries[0]);
  auto bytes = ReadFile(shard, 1 << 30);
  REQUIRE(bytes.ok());
  (*bytes)[bytes->size() / 2] ^= 1;
  REQUIRE(WriteFileAtomic(shard, *bytes).ok());
  auto third = cache::Publish(c, other, {});
  REQUIRE(third.ok());
  CHECK(third->written.size() == 1);
  auto fixed = ReadFile(shard, 1 << 30);
  REQUIRE(fixed.ok());
  CHECK(*fixed != *bytes);
}
