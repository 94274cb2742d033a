// The HTTP(S) boundary: the only code that calls libcurl (DESIGN.md section 2). A static
// mirror (cache/publish.md) is read through it; every server is hostile, so every transfer
// is capped in bytes and time, speaks only http and https, follows few redirects and only to
// the scheme it started with, and never decompresses (no Accept-Encoding: no zip bombs).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"
#include "libvoucher/library_version.h"

namespace vouch::cache::http {

struct Limits {
  long connect_seconds = 15;      // to connect (TCP and TLS)
  long low_speed_bytes = 1024;    // a transfer slower than this many bytes a second ...
  long low_speed_seconds = 30;    // ... for this long ends
  long max_redirects = 4;
  // Every transfer ends after base_seconds plus one second per min_rate_bytes of its cap: a
  // server that trickles just above the low-speed limit still cannot hold a reader for days.
  long base_seconds = 60;
  uint64_t min_rate_bytes = 16 * 1024;
  long max_seconds = 3600;  // and never more than this, whatever its cap
  // When the whole run (an index and its shards) must be over: each transfer ends by it, and
  // one started after it is refused (kIo, "time budget").
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

// Now plus `seconds`.
std::chrono::steady_clock::time_point Deadline(long seconds);

// "http://..." or "https://..." (the scheme in any case).
bool IsHttpUrl(std::string_view url);
// `url` fit for a message: user and password ("https://user:secret@host/") replaced by "***",
// and cut at 200 characters. Every error this file returns names URLs so.
std::string Redact(std::string_view url);
// `base` with `path` below it: "http://h/m" + "vouch.index" -> "http://h/m/vouch.index".
std::string Join(std::string_view base, std::string_view path);

// GETs `url` and writes the body to `fd` (from its current offset), at most `max_bytes`.
// Returns the bytes written. Codes: kUnsupported (a scheme other than http or https, or a
// redirect to one), kNotFound (404, 410), kTooLarge (a body, or a declared Content-Length,
// over `max_bytes`; more redirects than the limit), kIo (any other status than 200, no
// connection, a timeout, TLS), kTruncated (a body shorter than its Content-Length). What was written before a failure stays in `fd`: the caller
// writes to a temporary file and throws it away.
Result<uint64_t> Get(const std::string& url, int fd, uint64_t max_bytes, const Limits& limits = {});
// The same, into memory (an index).
Result<Bytes> GetBytes(const std::string& url, uint64_t max_bytes, const Limits& limits = {});

// libcurl: LIBCURL_VERSION, and curl_version_info() at run time.
LinkedLibrary LibraryVersion();

}  // namespace vouch::cache::http
