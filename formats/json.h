// Parsing JSON from hostile sources: size cap, nesting cap, and duplicate member names
// refused (two readers that keep different duplicates would see different vouchers).
#pragma once

#include <nlohmann/json.hpp>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::formats {

inline constexpr int kMaxJsonDepth = 16;

// kTooLarge over `cap` bytes; kMalformed for invalid UTF-8 or JSON, a leading byte-order
// mark, nesting over kMaxJsonDepth, duplicate names, or anything after the value but white space.
Result<nlohmann::json> ParseJson(ByteView text, size_t cap, std::string_view what);

// Compact text with members in insertion order (ordered_json), as every writer emits.
inline std::string Compact(const nlohmann::ordered_json& j) { return j.dump(); }

// `s` as a JSON string, exactly as Compact writes it: printable ASCII without '"' or '\'
// (base64, names) is copied as it is, anything else goes through nlohmann's escaping. For
// writers that assemble a document of a fixed shape around long base64 values, which
// nlohmann's serializer would otherwise read byte by byte.
inline void AppendJsonString(std::string& out, std::string_view s) {
  bool plain = true;
  for (char c : s) plain = plain && c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  if (!plain) {
    out += nlohmann::ordered_json(std::string(s)).dump();
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

}  // namespace vouch::formats
