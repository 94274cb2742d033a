// c2sp.org/tlog-proof@v1: an offline proof that an entry is in a log, the log's checkpoint
// (with its witnesses' cosignatures) carried along, so a device with no network can check it.
//
//   c2sp.org/tlog-proof@v1
//   [extra <base64>]
//   index <decimal>
//   <base64 hash>...           RFC 6962 PATH, the leaf's sibling first
//   <blank line>
//   <the signed checkpoint note, verbatim>
//
// And the policy a verifier holds: the log's key, the witnesses it trusts, how many of them
// must have cosigned, and how old their newest cosignature may be. formats/tlog/tlog.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/tlog/checkpoint.h"
#include "formats/tlog/cosignature.h"
#include "formats/tlog/merkle.h"
#include "formats/tlog/note.h"
#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::formats::tlog {

inline constexpr std::string_view kProofHeader = "c2sp.org/tlog-proof@v1";
inline constexpr std::string_view kProofExtension = ".tlog-proof";  // c2sp's SHOULD
// A proof file: 63 hashes and a checkpoint with a hundred cosignatures fit in 16 KiB; the
// cap leaves room and keeps what a hostile medium can make a device read small.
inline constexpr size_t kMaxProofSize = 64 * 1024;

struct Proof {
  std::optional<Bytes> extra;  // opaque, unauthenticated: vouch writes none and ignores it
  uint64_t index = 0;
  std::vector<Hash> hashes;
  std::string checkpoint;  // the signed note, verbatim
};

// kTooLarge over kMaxProofSize or kMaxProofHashes hashes; kMalformed for anything the
// format does not allow (header, "index" without leading zeros, non-canonical base64 of
// anything but 32 bytes, no blank line, a checkpoint that is not a note, CR anywhere).
Result<Proof> ParseProof(std::string_view text);
// The exact inverse of ParseProof.
std::string FormatProof(const Proof& proof);

// Who must have signed: the log, and at least `quorum` distinct witnesses among `witnesses`.
struct LogPolicy {
  NoteVerifier log;                   // type 0x01; its name is the log's origin
  std::vector<NoteVerifier> witnesses;  // type 0x04
  size_t quorum = 0;
  // With a trusted clock: the newest counted cosignature may be at most this old.
  std::optional<uint64_t> max_age_seconds;
};

struct VerifiedProof {
  Checkpoint checkpoint;
  uint64_t index = 0;
  std::vector<VerifiedCosignature> cosignatures;  // of configured witnesses, one each
};

// Checks `proof_text` for `leaf` (the entry's exact bytes): parse; the checkpoint signed by
// the log's key for its origin (OpenCheckpoint); the inclusion of LeafHash(leaf) at the
// index under the checkpoint's root; then the cosignatures. Codes: kMalformed/kTooLarge
// (parse, a proof of the wrong length), kUntrustedSigner (not the log's key or origin),
// kBadSignature (a signature or the inclusion does not verify: another leaf, reordered
// hashes), kTooFewWitnesses (fewer than `quorum` distinct witnesses), kLogStale (with `now`
// and max_age_seconds: the newest counted cosignature is older than that).
Result<VerifiedProof> VerifyProof(ByteView leaf, std::string_view proof_text, const LogPolicy& policy,
                                  std::optional<uint64_t> now_unix = std::nullopt);

}  // namespace vouch::formats::tlog
