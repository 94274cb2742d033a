// RFC 6962 / RFC 9162 section 2.1 Merkle tree hashing for the transparency log: leaf and node
// hashes, the tree head of a list of leaf hashes, and inclusion and consistency proofs.
//
// The empty tree's root is SHA-256 of the empty string, as RFC 6962 2.1 says (Go's x/mod
// tlog returns 32 zero bytes there; for one leaf or more the two agree). Roots and proofs are
// computed from a HashSource: a list of leaf hashes in memory, or the log's tiles
// (tiles.h), which give the same answers reading only O(log n) tiles. formats/tlog/tlog.md
// is the spec page.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "libvoucher/bytes.h"
#include "libvoucher/sha256.h"
#include "libvoucher/status.h"

namespace vouch::formats::tlog {

using Hash = Sha256Digest;

// A tree of 2^63 leaves needs 63 hashes in a proof; a longer one cannot be for any tree size
// a uint64 can hold, so it is refused before any hashing (kMalformed).
inline constexpr size_t kMaxProofHashes = 63;

Result<Hash> LeafHash(ByteView leaf_input);                  // SHA-256(0x00 || input)
Result<Hash> NodeHash(const Hash& left, const Hash& right);  // SHA-256(0x01 || left || right)
Result<Hash> EmptyTreeRoot();                                // SHA-256("")

// The hashes the recursions need: MTH(D[start : start + 2^height]) of a complete subtree
// whose start is a multiple of its size (the RFC 6962 recursions ask for nothing else).
class HashSource {
 public:
  virtual ~HashSource() = default;
  virtual Result<Hash> Subtree(uint64_t start, unsigned height) = 0;
};

// Over a source holding a tree of at least `size` leaves. kUsage for an index or old size
// outside the tree.
Result<Hash> TreeRoot(HashSource& src, uint64_t size);
Result<std::vector<Hash>> InclusionProof(HashSource& src, uint64_t index, uint64_t size);
Result<std::vector<Hash>> ConsistencyProof(HashSource& src, uint64_t old_size, uint64_t new_size);

// MTH(D[n]) over leaf hashes (so each leaf is hashed once however many proofs use it).
Result<Hash> TreeRoot(std::span<const Hash> leaf_hashes);

// PATH(index, D[size]) of RFC 6962 2.1.1 over leaf_hashes[0:size], deepest hash first.
// kUsage when index >= size or size > leaf_hashes.size().
Result<std::vector<Hash>> InclusionProof(std::span<const Hash> leaf_hashes, uint64_t index, uint64_t size);

// PROOF(old_size, D[new_size]) of RFC 6962 2.1.2. Empty when old_size is 0 or equals
// new_size. kUsage when old_size > new_size or new_size > leaf_hashes.size().
Result<std::vector<Hash>> ConsistencyProof(std::span<const Hash> leaf_hashes, uint64_t old_size,
                                           uint64_t new_size);

// RFC 9162 2.1.3.2. kMalformed when the proof has more than kMaxProofHashes hashes, when
// index >= size, or when its length is not the one index and size call for (a truncated or
// extended proof); kBadSignature when it has the right shape but does not lead to `root`.
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash, std::span<const Hash> proof,
                       const Hash& root);

// RFC 9162 2.1.4.2, plus the two cases it leaves out: from size 0 (any tree extends the empty
// one: the proof must be empty and old_root the empty root) and equal sizes (empty proof,
// equal roots). Codes as for VerifyInclusion; old_size > new_size is kMalformed.
Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root, const Hash& new_root,
                         std::span<const Hash> proof);

}  // namespace vouch::formats::tlog
