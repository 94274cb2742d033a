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

}  // namespace vouch::formats
