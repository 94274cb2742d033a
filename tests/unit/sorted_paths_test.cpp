// An import's paths sorted in bounded memory: runs on disk merged back, each path once.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <set>

#include "cache/sorted_paths.h"
#include "testutil.h"

using namespace vouch;
namespace fs = std::filesystem;

namespace {

cache::git::ObjectId IdOf(uint32_t n) {
  uint8_t raw[cache::git::ObjectId::kSize] = {};
  for (int i = 0; i < 4; ++i) raw[i] = static_cast<uint8_t>(n >> (8 * i));
  return cache::git::ObjectId(raw);
}

std::string PathOf(uint32_t n) { return "vouchers/" + std::to_string(n % 97) + "/" + std::to_string(n) + ".vjj"; }

}  // namespace

TEST_CASE("sorted paths spill to runs on disk and merge back in order, each once", "[sorted-paths]") {
  test::TempDir tmp;
  cache::SortedPaths paths(tmp.path());
  // Three runs and a remainder in memory, in random order, with repeats within and across runs.
  const uint32_t distinct = 3 * cache::SortedPaths::kRunEntries + 1234;
  std::vector<uint32_t> order(distinct);
  for (uint32_t i = 0; i < distinct; ++i) order[i] = i;
  std::mt19937 rng(7);
  std::shuffle(order.begin(), order.end(), rng);
  for (uint32_t i = 0; i < 5000; ++i) order.push_back(order[rng() % distinct]);
  std::shuffle(order.begin(), order.end(), rng);
  for (uint32_t n : order) REQUIRE(paths.Add(PathOf(n), IdOf(n)).ok());
  CHECK(paths.added() == order.size());
  // The runs are anonymous files: nothing in the directory, ever.
  CHECK(fs::is_empty(tmp.path()));

  std::set<std::string> expected;
  for (uint32_t i = 0; i < distinct; ++i) expected.insert(PathOf(i));
  for (int pass = 0; pass < 2; ++pass) {  // read twice: an import that lost a race rebuilds
    REQUIRE(paths.Rewind().ok());
    auto want = expected.begin();
    size_t read = 0;
    while (const cache::git::PathEntry* e = paths.Current()) {
      REQUIRE(want != expected.end());
      REQUIRE(e->first == *want);
      uint32_t n = static_cast<uint32_t>(std::stoul(e->first.substr(e->first.rfind('/') + 1)));
      CHECK(e->second == IdOf(n));
      ++want;
      ++read;
      REQUIRE(paths.Next().ok());
    }
    CHECK(read == distinct);
  }
}

TEST_CASE("sorted paths held in memory only, and none at all", "[sorted-paths]") {
  test::TempDir tmp;
  cache::SortedPaths none(tmp.path());
  REQUIRE(none.Rewind().ok());
  CHECK(none.Current() == nullptr);

  cache::SortedPaths few(tmp.path());
  REQUIRE(few.Add("b", IdOf(2)).ok());
  REQUIRE(few.Add("a", IdOf(1)).ok());
  REQUIRE(few.Add("b", IdOf(2)).ok());
  REQUIRE(few.Rewind().ok());
  REQUIRE(few.Current());
  CHECK(few.Current()->first == "a");
  REQUIRE(few.Next().ok());
  CHECK(few.Current()->first == "b");
  REQUIRE(few.Next().ok());
  CHECK(few.Current() == nullptr);
  // Added after a read (the receipts of an import come last): read in their place.
  REQUIRE(few.Add("aa", IdOf(3)).ok());
  REQUIRE(few.Rewind().ok());
  CHECK(few.Current()->first == "a");
  REQUIRE(few.Next().ok());
  CHECK(few.Current()->first == "aa");
}
