#include "formats/tlog/checkpoint.h"

#include <algorithm>

#include "libvoucher/encoding.h"

namespace vouch::formats::tlog {
Result<uint64_t> ParseDecimal(std::string_view s, std::string_view what) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0') ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error(Code::kMalformed, std::string(what) + " '" + std::string(s.substr(0, 32)) +
                                       "' is not a decimal without leading zeros");
  }
  uint64_t v = 0;
  for (char c : s) {
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return Error(Code::kMalformed, std::string(what) + " over 2^64-1");
    v = v * 10 + d;
  }
  return v;
}

Result<Checkpoint> ParseCheckpoint(std::string_view text) {
  VOUCH_RETURN_IF_ERROR(CheckNoteText(text));
  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) {
    size_t nl = rest.find('\n');  // CheckNoteText made sure the text ends in one
    if (nl == 0) return Error(Code::kMalformed, "checkpoint line " + std::to_string(lines.size() + 1) + " is empty");
    lines.push_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
    if (lines.size() > 3 + kMaxCheckpointExtensions) {
      return Error(Code::kTooLarge, "checkpoint has over " + std::to_string(kMaxCheckpointExtensions) + " extension lines");
    }
  }
  if (lines.size() < 3) return Error(Code::kMalformed, "checkpoint has " + std::to_string(lines.size()) + " lines (3 at least)");
  Checkpoint c;
  if (lines[0].size() > kMaxOriginSize) return Error(Code::kTooLarge, "checkpoint origin over 256 bytes");
  c.origin = std::string(lines[0]);
  VOUCH_ASSIGN_OR_RETURN(c.size, ParseDecimal(lines[1], "checkpoint tree size"));
  auto root = Base64Decode(lines[2]);
  if (!root.ok() || root->size() != c.root.size()) {
    return Error(Code::kMalformed, "checkpoint root hash is not canonical base64 of 32 bytes");
  }
  std::copy(root->begin(), root->end(), c.root.begin());
  for (size_t i = 3; i < lines.size(); ++i) c.extensions.emplace_back(lines[i]);
  return c;
}

Result<std::string> FormatCheckpoint(const Checkpoint& c) {
  std::string text = c.origin + "\n" + std::to_string(c.size) + "\n" + Base64Encode(ByteView(c.root.data(), c.root.size())) + "\n";
  for (const std::string& e : c.extensions) text += e + "\n";
  // Writing through the parser keeps the two in step: nothing is written that would be refused.
  auto back = ParseCheckpoint(text);
  if (!back.ok()) return Error(Code::kUsage, "checkpoint cannot be written: " + back.status().message());
  if (!(*back == c)) return Error(Code::kUsage, "checkpoint cannot be written: it would not read back the same");
  return text;
}

Result<SignedCheckpoint> OpenCheckpoint(std::string_view message, const NoteVerifier& log_key) {
  VOUCH_ASSIGN_OR_RETURN(Note note, OpenNote(message, std::span<const NoteVerifier>(&log_key, 1)));
  auto c = ParseCheckpoint(note.text);
  if (!c.ok()) return c.status();
  if (c->origin != log_key.name) {
    return Error(Code::kUntrustedSigner, "checkpoint of origin '" + c->origin + "' signed by the key of log '" +
                                             log_key.name + "'");
  }
  return SignedCheckpoint{std::move(*c), std::move(note)};
}

}  // namespace vouch::formats::tlog
