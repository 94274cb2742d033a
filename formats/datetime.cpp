#include "formats/datetime.h"

#include <chrono>
#include <cstdio>

namespace vouch::formats {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

Result<Instant> ParseDateTime(std::string_view s) {
  auto bad = [&] { return Error(Code::kMalformed, "'" + std::string(s.substr(0, 64)) + "' is not an RFC 3339 date-time"); };
  int Y, M, D, h, m, sec;
  if (!Digits(s, 0, 4, Y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, M) || s[7] != '-' ||
      !Digits(s, 8, 2, D) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, h) || s[13] != ':' ||
      !Digits(s, 14, 2, m) || s[16] != ':' || !Digits(s, 17, 2, sec)) {
    return bad();
  }
  using namespace std::chrono;
  year_month_day ymd{year{Y}, month{static_cast<unsigned>(M)}, day{static_cast<unsigned>(D)}};
  // Seconds up to 60 are allowed for leap seconds (RFC 3339 5.7); 60 counts as the next second.
  if (!ymd.ok() || h > 23 || m > 59 || sec > 60) return bad();
  size_t i = 19;
  int64_t micros = 0;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    int64_t scale = 100000;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      micros += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start || i - start > 18) return bad();
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!Digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !Digits(s, i + 4, 2, om) || oh > 23 || om > 59) {
      return bad();
    }
    offset = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    i += 6;
  } else {
    return bad();
  }
  if (i != s.size()) return bad();
  int64_t days = sys_days(ymd).time_since_epoch().count();
  int64_t secs = days * 86400 + h * 3600 + m * 60 + sec - offset;
  return Instant{secs * 1000000 + micros};
}

std::string FormatDateTime(Instant t) {
  using namespace std::chrono;
  int64_t secs = t.seconds();
  int64_t frac = t.micros - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(rem / 3600),
                static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  std::string out = buf;
  if (frac != 0) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(frac));
    out += buf;
  }
  return out + "Z";
}

Result<int64_t> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Error(Code::kUsage, "duration '" + std::string(text) + "' is not a number followed by s, m, h, d or w");
  };
  if (text.size() < 2) return bad();
  int64_t n = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9' || n > 100000000) return bad();
    n = n * 10 + (text[i] - '0');
  }
  switch (text.back()) {
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    case 'd': return n * 86400;
    case 'w': return n * 7 * 86400;
    default: return bad();
  }
}

}  // namespace vouch::formats
