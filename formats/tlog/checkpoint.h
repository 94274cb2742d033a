// c2sp.org/tlog-checkpoint: the note text a log signs for each tree head.
//
//   <origin>\n
//   <tree size, decimal, no leading zeros>\n
//   <base64 of the 32-byte RFC 6962 root hash>\n
//   [<extension line>\n]...
//
// Parsing is exact (formats/tlog/tlog.md): Format(Parse(text)) == text for every text
// Parse accepts, so a checkpoint has one spelling and witnesses and monitors compare bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "formats/tlog/merkle.h"
#include "formats/tlog/note.h"
#include "libvoucher/status.h"

namespace vouch::formats::tlog {

inline constexpr size_t kMaxCheckpointExtensions = 16;
inline constexpr size_t kMaxOriginSize = 256;

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // opaque, non-empty lines

  bool operator==(const Checkpoint&) const = default;
};

// A tree size or leaf index as the C2SP texts write it: decimal, no sign, no leading zeros
// ("0" itself), at most 2^64-1, so each number has one spelling. kMalformed naming `what`.
Result<uint64_t> ParseDecimal(std::string_view s, std::string_view what);

// kMalformed for a text that is not a checkpoint (fewer than three lines, an empty line, a
// size with a sign, leading zeros or over 2^64-1, a root that is not canonical base64 of
// 32 bytes, no final newline, control characters); kTooLarge over kMaxOriginSize or
// kMaxCheckpointExtensions, or over the note size cap.
Result<Checkpoint> ParseCheckpoint(std::string_view text);

// The note text. kUsage when the checkpoint could not be parsed back (an empty or
// multi-line origin or extension, caps): what is written is always readable.
Result<std::string> FormatCheckpoint(const Checkpoint& checkpoint);

// A signed checkpoint, opened with the log's key: OpenNote with only `log_key`, then
// ParseCheckpoint of its text, then the origin must be the log key's name (a log signs
// only its own checkpoints: kUntrustedSigner otherwise). The note is returned too, so that
// its cosignatures can be checked.
struct SignedCheckpoint {
  Checkpoint checkpoint;
  Note note;
};
Result<SignedCheckpoint> OpenCheckpoint(std::string_view message, const NoteVerifier& log_key);

}  // namespace vouch::formats::tlog
