// Instants and the device's clock policy.
//
// An Instant is microseconds since the Unix epoch, UTC: fine enough to order vouchers whose
// created-on carries fractional seconds, wide enough for any date a voucher can hold.
// Parsing and formatting RFC 3339 text is a wire concern and lives in formats/datetime.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace vouch {

struct Instant {
  int64_t micros = 0;
  static Instant FromSeconds(int64_t s) { return {s * 1000000}; }
  static Instant Now() {
    using namespace std::chrono;
    return {duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()};
  }
  int64_t seconds() const { return micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000); }
  Instant Plus(int64_t seconds_delta) const { return {micros + seconds_delta * 1000000}; }
  // The whole second at or before this instant. Vouchers carry whole seconds (DESIGN.md 5):
  // drafters truncate, so the model holds exactly what the bytes will say.
  Instant WholeSeconds() const { return FromSeconds(seconds()); }
  bool IsWholeSecond() const { return micros % 1000000 == 0; }
  auto operator<=>(const Instant&) const = default;
};

// How time-dependent checks run (certificate validity, created-on and expires-on).
//   kNow:    against the system clock (a trusted clock);
//   kAt:     against a given instant (inspecting old vouchers, tests);
//   kNone:   no time checks at all (a device with no trusted clock, RFC 8995 section 2.6.1).
struct TimePolicy {
  enum class Kind { kNow, kAt, kNone } kind = Kind::kNow;
  Instant at;
  static TimePolicy Now() { return {}; }
  static TimePolicy At(Instant t) { return {Kind::kAt, t}; }
  static TimePolicy None() { return {Kind::kNone, {}}; }
  // The instant checks run against, or none when time is not checked.
  std::optional<Instant> Effective() const {
    if (kind == Kind::kNone) return std::nullopt;
    return kind == Kind::kAt ? at : Instant::Now();
  }
};

}  // namespace vouch
