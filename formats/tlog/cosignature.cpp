#include "formats/tlog/cosignature.h"

#include <algorithm>

#include "formats/tlog/checkpoint.h"

namespace vouch::formats::tlog {
namespace {

constexpr size_t kTimestampSize = 8;

}  // namespace

std::string CosignedMessage(std::string_view checkpoint_text, uint64_t timestamp) {
  return "cosignature/v1\ntime " + std::to_string(timestamp) + "\n" + std::string(checkpoint_text);
}

Result<Cosigner> Cosigner::Make(std::string_view name, ed25519::PrivateKey key) {
  VOUCH_ASSIGN_OR_RETURN(NoteVerifier v, NoteVerifier::FromPublicKey(name, kSignatureTypeCosignature, key.PublicKey()));
  return Cosigner{v.name, v.key_id, std::move(key)};
}

NoteVerifier Cosigner::Verifier() const {
  return NoteVerifier{name, kSignatureTypeCosignature, key_id, key.PublicKey()};
}

Result<NoteSignature> Cosigner::Cosign(std::string_view checkpoint_text, uint64_t timestamp) const {
  if (timestamp > kMaxCosignatureTime) return Error(Code::kUsage, "cosignature time over 2^63-1");
  auto checkpoint = ParseCheckpoint(checkpoint_text);
  if (!checkpoint.ok()) return checkpoint.status().Context("cosigning");
  VOUCH_ASSIGN_OR_RETURN(Bytes sig, key.Sign(AsBytes(CosignedMessage(checkpoint_text, timestamp))));
  Bytes out;
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(timestamp >> shift));
  out.insert(out.end(), sig.begin(), sig.end());
  return NoteSignature{name, key_id, std::move(out), true};
}

Result<std::vector<VerifiedCosignature>> VerifyCosignatures(const Note& note, std::span<const NoteVerifier> witnesses) {
  std::vector<VerifiedCosignature> out;
  for (const NoteSignature& s : note.signatures) {
    const NoteVerifier* w = nullptr;
    for (const NoteVerifier& v : witnesses) {
      if (v.type == kSignatureTypeCosignature && v.name == s.name && v.key_id == s.key_id) {
        w = &v;
        break;
      }
    }
    if (w == nullptr) continue;
    const std::string who = "cosignature by " + s.name;
    if (s.signature.size() != kTimestampSize + ed25519::kSignatureSize) {
      return Error(Code::kBadSignature, who + " is " + std::to_string(s.signature.size()) + " bytes (72 expected)");
    }
    uint64_t t = 0;
    for (size_t i = 0; i < kTimestampSize; ++i) t = (t << 8) | s.signature[i];
    if (t > kMaxCosignatureTime) return Error(Code::kBadSignature, who + " has a time over 2^63-1");
    ByteView sig = ByteView(s.signature).subspan(kTimestampSize);
    if (!ed25519::Verify(w->public_key, AsBytes(CosignedMessage(note.text, t)), sig).ok()) {
      return Error(Code::kBadSignature, who + " does not verify");
    }
    bool seen = false;
    for (VerifiedCosignature& v : out) {
      if (v.name == w->name && v.key_id == w->key_id) {
        seen = true;
        v.timestamp = std::max(v.timestamp, t);
      }
    }
    if (!seen) out.push_back(VerifiedCosignature{w->name, w->key_id, t});
  }
  return out;
}

}  // namespace vouch::formats::tlog
