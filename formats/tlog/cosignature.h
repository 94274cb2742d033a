// c2sp.org/tlog-cosignature, the Ed25519 v1 type: a witness's signature line on a log's
// checkpoint note, saying "as of time T, this is the largest consistent tree I have seen for
// this origin".
//
//   key ID    = SHA-256(name || "\n" || 0x04 || 32-byte Ed25519 public key)[:4]
//   signed    = "cosignature/v1\ntime <T>\n" || checkpoint note text
//   signature = T as 8 bytes big-endian || Ed25519 signature (64 bytes)
//
// The witness keys are NoteVerifiers of type 0x04 (their vkeys carry 0x04 too).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "formats/tlog/note.h"
#include "libvoucher/ed25519.h"
#include "libvoucher/status.h"

namespace vouch::formats::tlog {

inline constexpr uint64_t kMaxCosignatureTime = (uint64_t{1} << 63) - 1;  // the spec's bound

// What the witness signs for `checkpoint_text` (a checkpoint's note text) at `timestamp`.
std::string CosignedMessage(std::string_view checkpoint_text, uint64_t timestamp);

struct Cosigner {
  std::string name;
  uint32_t key_id = 0;
  ed25519::PrivateKey key;

  static Result<Cosigner> Make(std::string_view name, ed25519::PrivateKey key);
  NoteVerifier Verifier() const;  // type 0x04
  // kMalformed unless `checkpoint_text` parses as a checkpoint; kUsage over the time bound.
  Result<NoteSignature> Cosign(std::string_view checkpoint_text, uint64_t timestamp) const;
};

struct VerifiedCosignature {
  std::string name;  // the witness (its NoteVerifier's name)
  uint32_t key_id = 0;
  uint64_t timestamp = 0;
};

// The cosignatures in `note` (a checkpoint note, its log signature already checked by
// OpenCheckpoint) from the type-0x04 keys in `witnesses`. Lines of other keys are ignored;
// a line of a known witness that is not 72 bytes, has a time over 2^63-1 or does not verify
// refuses the whole note (kBadSignature), as c2sp.org/signed-note asks. Each witness is
// listed once however many lines it has (a repeated cosignature never counts twice), with
// its newest time.
Result<std::vector<VerifiedCosignature>> VerifyCosignatures(const Note& note, std::span<const NoteVerifier> witnesses);

}  // namespace vouch::formats::tlog
