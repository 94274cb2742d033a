// Signed notes, checkpoints and proofs: the transparency log's hostile inputs. What parses
// prints back to the same bytes (one spelling per note and per checkpoint); a note never
// opens with a key whose private half nobody has; proof checks finish, whatever the sizes.
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "formats/tlog/checkpoint.h"
#include "formats/tlog/cosignature.h"
#include "formats/tlog/merkle.h"
#include "formats/tlog/note.h"

using namespace vouch;
using namespace vouch::formats::tlog;

namespace {

// Go's published example key (sumdb/note tests): seeds can carry real signatures by it, so
// the fuzzer reaches the verifying path.
const NoteVerifier& Known() {
  static const NoteVerifier v = *NoteVerifier::Parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  return v;
}

uint64_t Load64(const uint8_t* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void Proofs(const uint8_t* data, size_t size) {
  if (size < 16 + 32) return;
  uint64_t a = Load64(data), b = Load64(data + 8);
  Hash leaf{};
  std::memcpy(leaf.data(), data + 16, leaf.size());
  std::vector<Hash> proof((size - 48) / 32);
  for (size_t i = 0; i < proof.size(); ++i) std::memcpy(proof[i].data(), data + 48 + 32 * i, 32);
  Hash root = proof.empty() ? leaf : proof.back();
  (void)VerifyInclusion(a, b, leaf, proof, root);
  (void)VerifyConsistency(a, b, leaf, root, proof);
  // Small trees: a proof computed from these leaves must verify.
  if (proof.size() >= 1 && proof.size() <= 16) {
    uint64_t n = proof.size(), i = a % n, m = b % (n + 1);
    auto p = InclusionProof(proof, i, n);
    auto r = TreeRoot(proof);
    if (!p.ok() || !r.ok() || !VerifyInclusion(i, n, proof[i], *p, *r).ok()) std::abort();
    auto c = ConsistencyProof(proof, m, n);
    auto old = TreeRoot(std::span<const Hash>(proof).first(m));
    if (!c.ok() || !old.ok() || !VerifyConsistency(m, n, *old, *r, *c).ok()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto note = ParseNote(in);
  if (note.ok() && FormatNote(*note) != in) std::abort();
  std::vector<NoteVerifier> known{Known()};
  (void)OpenNote(in, known);
  (void)NoteVerifier::Parse(in);
  (void)NoteSigner::Parse(in);

  auto c = ParseCheckpoint(note.ok() ? std::string_view(note->text) : in);
  if (c.ok()) {
    auto text = FormatCheckpoint(*c);
    if (!text.ok() || *text != (note.ok() ? note->text : std::string(in))) std::abort();
  }
  if (note.ok()) {
    NoteVerifier w = Known();
    w.type = kSignatureTypeCosignature;
    std::vector<NoteVerifier> witnesses{w};
    (void)VerifyCosignatures(*note, witnesses);
  }
  Proofs(data, size);
  return 0;
}
