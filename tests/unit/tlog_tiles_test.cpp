#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "formats/tlog/tiles.h"

using namespace vouch;
using namespace vouch::formats::tlog;

namespace {

std::vector<Hash> Leaves(size_t n) {
  std::vector<Hash> out;
  for (size_t i = 0; i < n; ++i) {
    std::string s = "leaf " + std::to_string(i);
    auto h = LeafHash(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    REQUIRE(h.ok());
    out.push_back(*h);
  }
  return out;
}

// A tile store in memory, grown by AppendTiles as a log would be: partial tiles replaced.
struct Store {
  std::map<std::string, Bytes> files;
  uint64_t size = 0;
  size_t reads = 0;
  TileHashes Hashes() {
    return TileHashes(size, [this](const std::string& p) -> Result<Bytes> {
      ++reads;
      auto it = files.find(p);
      if (it == files.end()) return Error(Code::kNotFound, p);
      return it->second;
    });
  }
  void Append(std::span<const Hash> leaves) {
    TileHashes old = Hashes();
    auto tiles = AppendTiles(old, leaves);
    REQUIRE(tiles.ok());
    for (const Tile& t : *tiles) files[t.Path()] = t.data;
    size += leaves.size();
  }
};

}  // namespace

TEST_CASE("tile paths follow c2sp.org/tlog-tiles", "[tlog-tiles]") {
  CHECK(TileIndexPath(0) == "000");
  CHECK(TileIndexPath(67) == "067");
  CHECK(TileIndexPath(1000) == "x001/000");
  CHECK(TileIndexPath(1234067) == "x001/x234/067");
  CHECK(TilePath(0, 1234067, 256) == "tile/0/x001/x234/067");
  CHECK(TilePath(1, 5, 17) == "tile/1/005.p/17");
  // The spec's example: a tree of 70,000 leaves.
  CHECK(TileWidthAt(70000, 0, 272) == 256);
  CHECK(TileWidthAt(70000, 0, 273) == 112);
  CHECK(TileWidthAt(70000, 0, 274) == 0);
  CHECK(TileWidthAt(70000, 1, 0) == 256);
  CHECK(TileWidthAt(70000, 1, 1) == 17);
  CHECK(TileWidthAt(70000, 2, 0) == 1);
  CHECK(TileWidthAt(70000, 3, 0) == 0);
  CHECK(TileWidthAt(256, 0, 0) == 256);
  CHECK(TileWidthAt(256, 1, 0) == 1);
}

TEST_CASE("roots and proofs from tiles are the in-memory ones, however the log grew", "[tlog-tiles]") {
  const size_t n = 70000;
  std::vector<Hash> all = Leaves(n);
  // Appends of awkward sizes: 1, 255, 1, 256, 300, then the rest in chunks.
  Store store;
  const size_t steps[] = {1, 255, 1, 256, 300, 65536 - 813, 3000};
  size_t at = 0;
  for (size_t step : steps) {
    store.Append(std::span<const Hash>(all).subspan(at, step));
    at += step;
    TileHashes t = store.Hashes();
    auto a = TreeRoot(t, at);
    auto b = TreeRoot(std::span<const Hash>(all).first(at));
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(*a == *b);
  }
  store.Append(std::span<const Hash>(all).subspan(at));
  REQUIRE(store.size == n);
  // The 70,000-leaf tree has exactly the tiles the spec lists (partials of old sizes aside).
  CHECK(store.files.count("tile/0/273.p/112"));
  CHECK(store.files.count("tile/1/000"));
  CHECK(store.files.count("tile/1/001.p/17"));
  CHECK(store.files.count("tile/2/000.p/1"));

  TileHashes t = store.Hashes();
  for (uint64_t index : {uint64_t{0}, uint64_t{255}, uint64_t{256}, uint64_t{65535}, uint64_t{65536}, uint64_t{69999}}) {
    for (uint64_t size : {index + 1, uint64_t{65536 + 1}, uint64_t{n}}) {
      if (index >= size) continue;
      auto p = InclusionProof(t, index, size);
      auto q = InclusionProof(std::span<const Hash>(all).first(size), index, size);
      REQUIRE(p.ok());
      REQUIRE(q.ok());
      CHECK(*p == *q);
      auto root = TreeRoot(t, size);
      REQUIRE(root.ok());
      CHECK(VerifyInclusion(index, size, all[index], *p, *root).ok());
    }
  }
  for (uint64_t old_size : {uint64_t{1}, uint64_t{256}, uint64_t{257}, uint64_t{65536}, uint64_t{69000}}) {
    auto p = ConsistencyProof(t, old_size, n);
    auto q = ConsistencyProof(std::span<const Hash>(all), old_size, n);
    REQUIRE(p.ok());
    REQUIRE(q.ok());
    CHECK(*p == *q);
  }
  // A proof reads O(log n) tiles, not the tree.
  Store fresh = store;
  fresh.reads = 0;
  TileHashes counted = fresh.Hashes();
  REQUIRE(InclusionProof(counted, 12345, n).ok());
  CHECK(fresh.reads <= 8);
}

TEST_CASE("a tile of the wrong length or a missing tile is an error, never a wrong answer", "[tlog-tiles]") {
  std::vector<Hash> all = Leaves(300);
  Store store;
  store.Append(all);
  store.files["tile/0/001.p/44"].pop_back();
  TileHashes t = store.Hashes();
  auto r = TreeRoot(t, 300);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kMalformed);
  store.files.erase("tile/0/000");
  TileHashes u = store.Hashes();
  CHECK(TreeRoot(u, 256).ok());  // read from tile/1/000.p/1, one hash
  CHECK(TreeRoot(u, 128).status().code() == Code::kNotFound);
}
