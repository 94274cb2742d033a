#include "formats/tlog/merkle.h"

#include <bit>
#include <string>

namespace vouch::formats::tlog {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

ByteView View(const Hash& h) { return {h.data(), h.size()}; }

// The k of RFC 6962 2.1: the largest power of two smaller than n (n >= 2).
uint64_t Split(uint64_t n) { return std::bit_floor(n - 1); }

// The RFC 6962 recursions over D[begin : begin + n]. Every left part they split off is a
// complete subtree at an offset that is a multiple of its size, so only complete, aligned
// subtrees are ever asked of the source.
Result<Hash> Mth(HashSource& src, uint64_t begin, uint64_t n) {
  if (n == 0) return EmptyTreeRoot();
  if (std::has_single_bit(n)) return src.Subtree(begin, static_cast<unsigned>(std::countr_zero(n)));
  uint64_t k = Split(n);
  VOUCH_ASSIGN_OR_RETURN(Hash left, Mth(src, begin, k));
  VOUCH_ASSIGN_OR_RETURN(Hash right, Mth(src, begin + k, n - k));
  return NodeHash(left, right);
}

// PATH(m, D[begin : begin + n]), appending deepest first (on the way back up).
Status Path(HashSource& src, uint64_t begin, uint64_t n, uint64_t m, std::vector<Hash>& out) {
  if (n <= 1) return Status::Ok();
  uint64_t k = Split(n);
  if (m < k) {
    VOUCH_RETURN_IF_ERROR(Path(src, begin, k, m, out));
    VOUCH_ASSIGN_OR_RETURN(Hash sibling, Mth(src, begin + k, n - k));
    out.push_back(sibling);
  } else {
    VOUCH_RETURN_IF_ERROR(Path(src, begin + k, n - k, m - k, out));
    VOUCH_ASSIGN_OR_RETURN(Hash sibling, Mth(src, begin, k));
    out.push_back(sibling);
  }
  return Status::Ok();
}

// SUBPROOF(m, D[begin : begin + n], b) of RFC 6962 2.1.2.
Status Subproof(HashSource& src, uint64_t m, uint64_t begin, uint64_t n, bool b, std::vector<Hash>& out) {
  if (m == n) {
    if (!b) {
      VOUCH_ASSIGN_OR_RETURN(Hash h, Mth(src, begin, n));
      out.push_back(h);
    }
    return Status::Ok();
  }
  uint64_t k = Split(n);
  if (m <= k) {
    VOUCH_RETURN_IF_ERROR(Subproof(src, m, begin, k, b, out));
    VOUCH_ASSIGN_OR_RETURN(Hash h, Mth(src, begin + k, n - k));
    out.push_back(h);
  } else {
    VOUCH_RETURN_IF_ERROR(Subproof(src, m - k, begin + k, n - k, false, out));
    VOUCH_ASSIGN_OR_RETURN(Hash h, Mth(src, begin, k));
    out.push_back(h);
  }
  return Status::Ok();
}

// A source over a list of leaf hashes held in memory.
class LeafList final : public HashSource {
 public:
  explicit LeafList(std::span<const Hash> leaves) : leaves_(leaves) {}
  Result<Hash> Subtree(uint64_t start, unsigned height) override {
    if (height == 0) return leaves_[start];
    const uint64_t half = uint64_t{1} << (height - 1);
    VOUCH_ASSIGN_OR_RETURN(Hash left, Subtree(start, height - 1));
    VOUCH_ASSIGN_OR_RETURN(Hash right, Subtree(start + half, height - 1));
    return NodeHash(left, right);
  }

 private:
  std::span<const Hash> leaves_;
};

// One step up the tree in the loops of RFC 9162 2.1.3.2 and 2.1.4.2: whether this step's
// proof hash is the left child (combined as HASH(0x01 || p || r)), with fn and sn moved up.
// The moving up does not depend on the hashes, so it can follow the decision directly.
bool StepUp(uint64_t& fn, uint64_t& sn) {
  const bool left = (fn & 1) == 1 || fn == sn;
  if (left && (fn & 1) == 0) {
    while ((fn & 1) == 0 && fn != 0) { fn >>= 1; sn >>= 1; }
  }
  fn >>= 1;
  sn >>= 1;
  return left;
}

// The number of hashes the loop consumes from (fn, sn) until sn reaches 0: checking the
// length first lets a truncated or extended proof be named as such, not as a wrong root.
size_t Steps(uint64_t fn, uint64_t sn) {
  size_t n = 0;
  for (; sn != 0; ++n) StepUp(fn, sn);
  return n;
}

// RFC 9162 2.1.4.2 step 4: the starting point of the consistency loop (0 < old_size).
void ConsistencyStart(uint64_t old_size, uint64_t new_size, uint64_t& fn, uint64_t& sn) {
  fn = old_size - 1;
  sn = new_size - 1;
  while ((fn & 1) == 1) { fn >>= 1; sn >>= 1; }
}

Status CheckCap(std::span<const Hash> proof) {
  if (proof.size() > kMaxProofHashes) {
    return Error(Code::kMalformed, "proof of " + std::to_string(proof.size()) + " hashes (at most " +
                                       std::to_string(kMaxProofHashes) + ")");
  }
  return Status::Ok();
}

Status WrongLength(std::span<const Hash> proof, size_t want) {
  return Error(Code::kMalformed, "proof of " + std::to_string(proof.size()) + " hashes where the sizes call for " +
                                     std::to_string(want));
}

}  // namespace

Result<Hash> LeafHash(ByteView leaf_input) {
  const uint8_t prefix = kLeafPrefix;
  return Sha256({ByteView(&prefix, 1), leaf_input});
}

Result<Hash> NodeHash(const Hash& left, const Hash& right) {
  const uint8_t prefix = kNodePrefix;
  return Sha256({ByteView(&prefix, 1), View(left), View(right)});
}

Result<Hash> EmptyTreeRoot() { return Sha256(ByteView{}); }

Result<Hash> TreeRoot(std::span<const Hash> leaf_hashes) {
  LeafList src(leaf_hashes);
  return Mth(src, 0, leaf_hashes.size());
}

Result<std::vector<Hash>> InclusionProof(std::span<const Hash> leaf_hashes, uint64_t index, uint64_t size) {
  if (size > leaf_hashes.size()) {
    return Error(Code::kUsage, "inclusion proof in a tree of " + std::to_string(size) + " (" +
                                   std::to_string(leaf_hashes.size()) + " leaves known)");
  }
  LeafList src(leaf_hashes);
  return InclusionProof(src, index, size);
}

Result<std::vector<Hash>> ConsistencyProof(std::span<const Hash> leaf_hashes, uint64_t old_size,
                                           uint64_t new_size) {
  if (new_size > leaf_hashes.size()) {
    return Error(Code::kUsage, "consistency proof to size " + std::to_string(new_size) + " (" +
                                   std::to_string(leaf_hashes.size()) + " leaves known)");
  }
  LeafList src(leaf_hashes);
  return ConsistencyProof(src, old_size, new_size);
}

Result<Hash> TreeRoot(HashSource& src, uint64_t size) { return Mth(src, 0, size); }

Result<std::vector<Hash>> InclusionProof(HashSource& src, uint64_t index, uint64_t size) {
  if (index >= size) {
    return Error(Code::kUsage, "inclusion proof for leaf " + std::to_string(index) + " of a tree of " +
                                   std::to_string(size));
  }
  std::vector<Hash> out;
  VOUCH_RETURN_IF_ERROR(Path(src, 0, size, index, out));
  return out;
}

Result<std::vector<Hash>> ConsistencyProof(HashSource& src, uint64_t old_size, uint64_t new_size) {
  if (old_size > new_size) {
    return Error(Code::kUsage, "consistency proof from size " + std::to_string(old_size) + " to " +
                                   std::to_string(new_size));
  }
  std::vector<Hash> out;
  if (old_size == 0 || old_size == new_size) return out;
  VOUCH_RETURN_IF_ERROR(Subproof(src, old_size, 0, new_size, true, out));
  return out;
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash, std::span<const Hash> proof,
                       const Hash& root) {
  VOUCH_RETURN_IF_ERROR(CheckCap(proof));
  if (index >= size) {
    return Error(Code::kMalformed, "inclusion proof for leaf " + std::to_string(index) + " of a tree of " +
                                       std::to_string(size));
  }
  if (size_t want = Steps(index, size - 1); proof.size() != want) return WrongLength(proof, want);
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    const bool left = StepUp(fn, sn);
    VOUCH_ASSIGN_OR_RETURN(r, left ? NodeHash(p, r) : NodeHash(r, p));
  }
  if (sn != 0 || r != root) {
    return Error(Code::kBadSignature, "inclusion proof for leaf " + std::to_string(index) + " of " +
                                          std::to_string(size) + " does not lead to the root");
  }
  return Status::Ok();
}

Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root, const Hash& new_root,
                         std::span<const Hash> proof) {
  VOUCH_RETURN_IF_ERROR(CheckCap(proof));
  if (old_size > new_size) {
    return Error(Code::kMalformed, "consistency proof from size " + std::to_string(old_size) + " down to " +
                                       std::to_string(new_size));
  }
  const std::string sizes = std::to_string(old_size) + " to " + std::to_string(new_size);
  if (old_size == 0 || old_size == new_size) {
    if (!proof.empty()) return WrongLength(proof, 0);
    if (old_size == 0) {
      VOUCH_ASSIGN_OR_RETURN(Hash empty, EmptyTreeRoot());
      if (old_root != empty) return Error(Code::kBadSignature, "a tree of size 0 whose root is not the empty root");
      return Status::Ok();
    }
    if (old_root != new_root) return Error(Code::kBadSignature, "two roots for one tree size " + sizes);
    return Status::Ok();
  }
  const bool power_of_two = std::has_single_bit(old_size);
  // With old_size a power of two the old root is itself the first node of the path (RFC
  // 9162 step 2), so the proof omits it.
  uint64_t fn = 0, sn = 0;
  ConsistencyStart(old_size, new_size, fn, sn);
  const size_t want = Steps(fn, sn) + (power_of_two ? 0 : 1);
  if (proof.size() != want) return WrongLength(proof, want);

  Hash fr = power_of_two ? old_root : proof[0];
  Hash sr = fr;
  for (size_t i = power_of_two ? 0 : 1; i < proof.size(); ++i) {
    const Hash& c = proof[i];
    if (StepUp(fn, sn)) {
      VOUCH_ASSIGN_OR_RETURN(fr, NodeHash(c, fr));
      VOUCH_ASSIGN_OR_RETURN(sr, NodeHash(c, sr));
    } else {
      VOUCH_ASSIGN_OR_RETURN(sr, NodeHash(sr, c));
    }
  }
  if (sn != 0 || fr != old_root || sr != new_root) {
    return Error(Code::kBadSignature, "consistency proof from size " + sizes + " does not lead to both roots");
  }
  return Status::Ok();
}

}  // namespace vouch::formats::tlog
