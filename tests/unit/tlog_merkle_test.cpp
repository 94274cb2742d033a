#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "formats/tlog/merkle.h"
#include "libvoucher/encoding.h"
#include "testutil.h"

using namespace vouch;
using namespace vouch::formats::tlog;

namespace {

Hash H(const std::string& hex) {
  Bytes b = test::Hex(hex);
  Hash h{};
  REQUIRE(b.size() == h.size());
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

std::vector<Hash> Hs(std::initializer_list<const char*> hex) {
  std::vector<Hash> out;
  for (const char* h : hex) out.push_back(H(h));
  return out;
}

// The eight leaves of the certificate-transparency reference tree (RFC 6962 test data), and
// the tree heads of its first n leaves for n = 0..8.
const char* const kCtLeaves[] = {"",         "00",       "10",
                                 "2021",     "3031",     "40414243",
                                 "5051525354555657", "606162636465666768696a6b6c6d6e6f"};
const char* const kCtRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

std::vector<Hash> CtLeafHashes() {
  std::vector<Hash> out;
  for (const char* leaf : kCtLeaves) out.push_back(*LeafHash(test::Hex(leaf)));
  return out;
}

// A second definition of the tree head, independent of the recursive split the library
// uses: hash neighbours pairwise level by level, carrying an odd last node up unchanged.
// RFC 6962's MTH gives the same tree, so the two must agree for every size.
Hash LevelByLevelRoot(std::vector<Hash> level) {
  while (level.size() > 1) {
    std::vector<Hash> up;
    for (size_t i = 0; i + 1 < level.size(); i += 2) up.push_back(*NodeHash(level[i], level[i + 1]));
    if (level.size() % 2 == 1) up.push_back(level.back());
    level = std::move(up);
  }
  return level[0];
}

std::vector<Hash> ManyLeafHashes(size_t n) {
  std::vector<Hash> out;
  for (size_t i = 0; i < n; ++i) out.push_back(*LeafHash(AsBytes("leaf " + std::to_string(i))));
  return out;
}

}  // namespace

TEST_CASE("leaf, node and empty hashes are RFC 6962's, and the empty root is SHA-256 of nothing", "[tlog-merkle]") {
  CHECK(*EmptyTreeRoot() == H(kCtRoots[0]));
  CHECK(*TreeRoot({}) == H(kCtRoots[0]));
  CHECK(*LeafHash({}) == H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"));
  CHECK(*LeafHash(Bytes{0x00}) == H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"));
  Hash a = *LeafHash(AsBytes("a")), b = *LeafHash(AsBytes("b"));
  Bytes cat{0x01};
  cat.insert(cat.end(), a.begin(), a.end());
  cat.insert(cat.end(), b.begin(), b.end());
  CHECK(*NodeHash(a, b) == *Sha256(cat));
  CHECK(*NodeHash(a, b) != *NodeHash(b, a));
}

TEST_CASE("the certificate-transparency reference tree's heads and proofs come out exactly", "[tlog-merkle]") {
  auto leaves = CtLeafHashes();
  for (size_t n = 0; n <= 8; ++n) CHECK(*TreeRoot(std::span(leaves).first(n)) == H(kCtRoots[n]));

  // The published proofs in the tree of 8: inclusion of leaves 0 and 5, consistency from 2 and 6.
  struct Published {
    bool inclusion;
    uint64_t m;
    std::vector<Hash> proof;
  };
  const Published published[] = {
      {true, 0, Hs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {true, 5, Hs({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {false, 2, Hs({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {false, 6, Hs({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
  };
  const Hash root8 = H(kCtRoots[8]);
  for (const auto& [inclusion, m, proof] : published) {
    INFO((inclusion ? "inclusion of leaf " : "consistency from ") << m);
    if (inclusion) {
      CHECK(*InclusionProof(leaves, m, 8) == proof);
      CHECK(VerifyInclusion(m, 8, leaves[m], proof, root8).ok());
    } else {
      CHECK(*ConsistencyProof(leaves, m, 8) == proof);
      CHECK(VerifyConsistency(m, 8, H(kCtRoots[m]), root8, proof).ok());
    }
  }
}

TEST_CASE("tree heads agree with a level-by-level definition for every size up to 64", "[tlog-merkle]") {
  auto leaves = ManyLeafHashes(64);
  for (size_t n = 1; n <= leaves.size(); ++n) {
    INFO("size " << n);
    CHECK(*TreeRoot(std::span(leaves).first(n)) ==
          LevelByLevelRoot(std::vector<Hash>(leaves.begin(), leaves.begin() + n)));
  }
}

TEST_CASE("every inclusion proof in trees of 1..64 leaves verifies, and altered ones are refused", "[tlog-merkle]") {
  auto leaves = ManyLeafHashes(64);
  Hash junk = *LeafHash(AsBytes("junk"));
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    Hash root = *TreeRoot(std::span(leaves).first(n));
    for (uint64_t i = 0; i < n; ++i) {
      INFO("leaf " << i << " of " << n);
      auto proof = *InclusionProof(leaves, i, n);
      REQUIRE(VerifyInclusion(i, n, leaves[i], proof, root).ok());
      CHECK(VerifyInclusion(i, n, junk, proof, root).code() == Code::kBadSignature);
      CHECK(VerifyInclusion(i, n, leaves[i], proof, junk).code() == Code::kBadSignature);
      // (A proof does not pin the tree size by itself: for many leaves the path under n and
      // n + 1 is the same. The signed checkpoint pins the size; the root here is n's.)
      if (n > 1) CHECK_FALSE(VerifyInclusion((i + 1) % n, n, leaves[i], proof, root).ok());
      CHECK(VerifyInclusion(n, n, leaves[i], proof, root).code() == Code::kMalformed);

      auto extended = proof;
      extended.push_back(junk);
      CHECK(VerifyInclusion(i, n, leaves[i], extended, root).code() == Code::kMalformed);
      if (proof.empty()) continue;
      auto truncated = proof;
      truncated.pop_back();
      CHECK(VerifyInclusion(i, n, leaves[i], truncated, root).code() == Code::kMalformed);
      for (size_t j = 0; j < proof.size(); ++j) {
        auto flipped = proof;
        flipped[j][j % 32] ^= 0x01;
        CHECK(VerifyInclusion(i, n, leaves[i], flipped, root).code() == Code::kBadSignature);
      }
      if (proof.size() >= 2) {
        auto reordered = proof;
        std::reverse(reordered.begin(), reordered.end());
        CHECK(VerifyInclusion(i, n, leaves[i], reordered, root).code() == Code::kBadSignature);
      }
    }
  }
}

TEST_CASE("every consistency proof between sizes 0..64 verifies, and altered ones are refused", "[tlog-merkle]") {
  auto leaves = ManyLeafHashes(64);
  std::vector<Hash> roots;
  for (size_t n = 0; n <= leaves.size(); ++n) roots.push_back(*TreeRoot(std::span(leaves).first(n)));
  Hash junk = *LeafHash(AsBytes("junk"));
  for (uint64_t n = 0; n <= leaves.size(); ++n) {
    for (uint64_t m = 0; m <= n; ++m) {
      INFO("from " << m << " to " << n);
      auto proof = *ConsistencyProof(leaves, m, n);
      REQUIRE(VerifyConsistency(m, n, roots[m], roots[n], proof).ok());
      if (m == 0 || m == n) CHECK(proof.empty());
      if (m > 0) CHECK(VerifyConsistency(m, n, junk, roots[n], proof).code() == Code::kBadSignature);
      if (m > 0 && m < n) CHECK(VerifyConsistency(m, n, roots[m], junk, proof).code() == Code::kBadSignature);
      if (n > m) CHECK(VerifyConsistency(n, m, roots[n], roots[m], proof).code() == Code::kMalformed);

      auto extended = proof;
      extended.push_back(junk);
      CHECK(VerifyConsistency(m, n, roots[m], roots[n], extended).code() == Code::kMalformed);
      if (proof.empty()) continue;
      auto truncated = proof;
      truncated.pop_back();
      CHECK(VerifyConsistency(m, n, roots[m], roots[n], truncated).code() == Code::kMalformed);
      for (size_t j = 0; j < proof.size(); ++j) {
        auto flipped = proof;
        flipped[j][j % 32] ^= 0x80;
        CHECK(VerifyConsistency(m, n, roots[m], roots[n], flipped).code() == Code::kBadSignature);
      }
      if (proof.size() >= 2) {
        auto reordered = proof;
        std::reverse(reordered.begin(), reordered.end());
        CHECK(VerifyConsistency(m, n, roots[m], roots[n], reordered).code() == Code::kBadSignature);
      }
    }
  }
  // A fork: a tree of 10 whose 6th leaf differs is not an extension of the first 8.
  auto fork = leaves;
  fork[5] = junk;
  auto proof = *ConsistencyProof(fork, 8, 10);
  CHECK(VerifyConsistency(8, 10, roots[8], *TreeRoot(std::span(fork).first(10)), proof).code() ==
        Code::kBadSignature);
  // From the empty tree: only its own root, and no hashes.
  CHECK(VerifyConsistency(0, 5, roots[1], roots[5], {}).code() == Code::kBadSignature);
}

TEST_CASE("proofs over 63 hashes and impossible sizes are refused before any hashing", "[tlog-merkle]") {
  Hash h = *LeafHash({});
  std::vector<Hash> long_proof(64, h);
  const uint64_t huge = ~uint64_t{0};
  CHECK(VerifyInclusion(0, huge, h, long_proof, h).code() == Code::kMalformed);
  CHECK(VerifyConsistency(1, huge, h, h, long_proof).code() == Code::kMalformed);
  std::vector<Hash> max_proof(63, h);
  // 63 hashes fit a tree of 2^63 leaves: the right shape, and only the root is wrong.
  CHECK(VerifyInclusion(0, uint64_t{1} << 63, h, max_proof, h).code() == Code::kBadSignature);
  CHECK(VerifyInclusion(0, 0, h, {}, h).code() == Code::kMalformed);
  CHECK(VerifyConsistency(5, 4, h, h, {}).code() == Code::kMalformed);

  auto leaves = ManyLeafHashes(4);
  CHECK(InclusionProof(leaves, 4, 4).status().code() == Code::kUsage);
  CHECK(InclusionProof(leaves, 0, 5).status().code() == Code::kUsage);
  CHECK(ConsistencyProof(leaves, 3, 2).status().code() == Code::kUsage);
  CHECK(ConsistencyProof(leaves, 1, 5).status().code() == Code::kUsage);
}
