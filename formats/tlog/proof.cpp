#include "formats/tlog/proof.h"

#include <algorithm>

#include "libvoucher/encoding.h"

namespace vouch::formats::tlog {
namespace {

// One line of `rest` without its newline; false at the end or when a line is not ended.
bool NextLine(std::string_view& rest, std::string_view& line) {
  size_t nl = rest.find('\n');
  if (nl == std::string_view::npos) return false;
  line = rest.substr(0, nl);
  rest.remove_prefix(nl + 1);
  return true;
}

}  // namespace

Result<Proof> ParseProof(std::string_view text) {
  if (text.size() > kMaxProofSize) {
    return Error(Code::kTooLarge, "proof of " + std::to_string(text.size()) + " bytes (at most " +
                                      std::to_string(kMaxProofSize) + ")");
  }
  if (text.find('\r') != std::string_view::npos) return Error(Code::kMalformed, "proof has a carriage return");
  std::string_view rest = text, line;
  if (!NextLine(rest, line) || line != kProofHeader) return Error(Code::kMalformed, "proof does not start with c2sp.org/tlog-proof@v1");
  Proof p;
  if (!NextLine(rest, line)) return Error(Code::kMalformed, "proof ends after its header");
  if (line.starts_with("extra ")) {
    auto extra = Base64Decode(line.substr(6));
    if (!extra.ok()) return Error(Code::kMalformed, "proof extra data is not canonical base64");
    p.extra = std::move(*extra);
    if (!NextLine(rest, line)) return Error(Code::kMalformed, "proof ends after its extra data");
  }
  if (!line.starts_with("index ")) return Error(Code::kMalformed, "proof has no index line");
  VOUCH_ASSIGN_OR_RETURN(p.index, ParseDecimal(line.substr(6), "proof index"));
  for (;;) {
    if (!NextLine(rest, line)) return Error(Code::kMalformed, "proof has no blank line before its checkpoint");
    if (line.empty()) break;
    if (p.hashes.size() == kMaxProofHashes) {
      return Error(Code::kTooLarge, "proof of more than " + std::to_string(kMaxProofHashes) + " hashes");
    }
    auto h = Base64Decode(line);
    if (!h.ok() || h->size() != 32) return Error(Code::kMalformed, "proof hash is not canonical base64 of 32 bytes");
    Hash hash;
    std::copy(h->begin(), h->end(), hash.begin());
    p.hashes.push_back(hash);
  }
  // The checkpoint note is checked whole (structure now, signatures by VerifyProof).
  VOUCH_RETURN_IF_ERROR(ParseNote(rest).status().Context("proof checkpoint"));
  p.checkpoint = std::string(rest);
  return p;
}

std::string FormatProof(const Proof& p) {
  std::string out(kProofHeader);
  out += '\n';
  if (p.extra) out += "extra " + Base64Encode(*p.extra) + "\n";
  out += "index " + std::to_string(p.index) + "\n";
  for (const Hash& h : p.hashes) out += Base64Encode(ByteView(h.data(), h.size())) + "\n";
  out += '\n';
  out += p.checkpoint;
  return out;
}

Result<VerifiedProof> VerifyProof(ByteView leaf, std::string_view proof_text, const LogPolicy& policy,
                                  std::optional<uint64_t> now_unix) {
  VOUCH_ASSIGN_OR_RETURN(Proof p, ParseProof(proof_text));
  VOUCH_ASSIGN_OR_RETURN(SignedCheckpoint signed_checkpoint, OpenCheckpoint(p.checkpoint, policy.log));
  const Checkpoint& c = signed_checkpoint.checkpoint;
  VOUCH_ASSIGN_OR_RETURN(Hash leaf_hash, LeafHash(leaf));
  VOUCH_RETURN_IF_ERROR(VerifyInclusion(p.index, c.size, leaf_hash, p.hashes, c.root).Context("log " + c.origin));
  VerifiedProof out;
  out.checkpoint = c;
  out.index = p.index;
  VOUCH_ASSIGN_OR_RETURN(out.cosignatures, VerifyCosignatures(signed_checkpoint.note, policy.witnesses));
  if (out.cosignatures.size() < policy.quorum) {
    return Error(Code::kTooFewWitnesses, "checkpoint of " + c.origin + " at size " + std::to_string(c.size) +
                                             " is cosigned by " + std::to_string(out.cosignatures.size()) +
                                             " of the configured witnesses; " + std::to_string(policy.quorum) +
                                             " required");
  }
  if (now_unix && policy.max_age_seconds) {
    uint64_t newest = 0;
    for (const auto& w : out.cosignatures) newest = std::max(newest, w.timestamp);
    // No counted cosignature means no evidence of when the checkpoint was seen: stale.
    if (out.cosignatures.empty() || (*now_unix > newest && *now_unix - newest > *policy.max_age_seconds)) {
      return Error(Code::kLogStale, "checkpoint of " + c.origin + " at size " + std::to_string(c.size) +
                                        (out.cosignatures.empty() ? std::string(" has no cosignature to date it")
                                                                  : " was last cosigned " + std::to_string(*now_unix - newest) +
                                                                        " s ago (at most " +
                                                                        std::to_string(*policy.max_age_seconds) + " s)"));
    }
  }
  return out;
}

}  // namespace vouch::formats::tlog
