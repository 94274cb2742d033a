// RFC 3339 / YANG date-and-time text (RFC 6991) and the durations the CLI takes.
#pragma once

#include <string>
#include <string_view>

#include "libvoucher/status.h"
#include "libvoucher/instant.h"

namespace vouch::formats {

// "2026-11-27T10:00:00Z", "2022-07-10T17:08:18.720-04:00", "...t...z" (RFC 3339 5.6 allows
// lower case). Fractions beyond microseconds are truncated. kMalformed otherwise.
Result<Instant> ParseDateTime(std::string_view text);
// "2026-11-27T10:00:00Z", with ".ffffff" only when the instant has a fraction.
std::string FormatDateTime(Instant t);
// "30d", "12h", "90m", "3600s", "2w" -> seconds; kUsage otherwise.
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace vouch::formats
