#include "formats/device_uri.h"

#include <array>
#include <optional>

#include "libvoucher/encoding.h"

namespace vouch::formats {
namespace {

constexpr std::string_view kHex = "0123456789ABCDEF";

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return IsUpper(c) || (c >= 'a' && c <= 'z'); }

// RFC 3986 2.3: the characters a serial keeps as they are.
bool IsUnreserved(char c) { return IsAlpha(c) || IsDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

// Any field value: unreserved characters, base64's "+", "/" and "=", and percent-encoding.
// Never ":" or ";" (the delimiters), "," or '"' (a device URI is one field of a devices
// file), spaces or anything outside ASCII.
bool IsValueChar(char c) { return IsUnreserved(c) || c == '+' || c == '/' || c == '=' || c == '%'; }

int HexValue(char c) {
  size_t i = kHex.find(c);  // upper case only: one spelling
  return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

// The serial number rules shared by the writer and the reader: one line of UTF-8 text a
// voucher can carry and a device state can hold (no control characters).
Status CheckSerial(std::string_view s) {
  if (s.empty()) return Error(Code::kMalformed, "device URI: empty serial number");
  if (s.size() > kMaxDeviceUriSerial) {
    return Error(Code::kTooLarge, "device URI: serial number over " + std::to_string(kMaxDeviceUriSerial) + " bytes");
  }
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if (b < 0x20 || b == 0x7f) return Error(Code::kMalformed, "device URI: control character in the serial number");
      ++i;
      continue;
    }
    // UTF-8 (RFC 3629 4): the shortest form, no surrogates, at most U+10FFFF.
    size_t n = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
    if (n == 0 || b > 0xf4 || i + n > s.size()) return Error(Code::kMalformed, "device URI: serial number is not UTF-8");
    uint32_t cp = b & (0x7f >> n);
    for (size_t k = 1; k < n; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xc0) != 0x80) return Error(Code::kMalformed, "device URI: serial number is not UTF-8");
      cp = (cp << 6) | (c & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
      return Error(Code::kMalformed, "device URI: serial number is not UTF-8");
    }
    if (cp >= 0x80 && cp <= 0x9f) return Error(Code::kMalformed, "device URI: control character in the serial number");
    i += n;
  }
  return Status::Ok();
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (IsUnreserved(c)) {
      out += c;
    } else {
      auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

// The reverse of PercentEncode, refusing every other spelling of the same serial (lower-case
// hex, an unreserved character encoded, a raw "+"): two readers, or a reader and a person
// comparing texts, must not see one serial in two URIs.
Result<std::string> PercentDecode(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '%') {
      if (!IsUnreserved(v[i])) return Error(Code::kMalformed, "device URI: S holds a character that must be percent-encoded");
      out += v[i];
      continue;
    }
    int hi = i + 2 < v.size() ? HexValue(v[i + 1]) : -1, lo = i + 2 < v.size() ? HexValue(v[i + 2]) : -1;
    if (hi < 0 || lo < 0) return Error(Code::kMalformed, "device URI: S has a '%' not followed by two upper-case hex digits");
    char c = static_cast<char>(hi * 16 + lo);
    if (IsUnreserved(c)) return Error(Code::kMalformed, "device URI: S percent-encodes a character written as itself");
    out += c;
    i += 2;
  }
  return out;
}

// The one spelling of a 140-bit key UDF: 7 groups of 4 base32 characters, upper case, joined
// by "-" (libvoucher/udf.h Present).
bool IsKeyUdfSpelling(std::string_view f) {
  if (f.size() != 34) return false;
  for (size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    bool ok = i % 5 == 4 ? c == '-' : IsUpper(c) || (c >= '2' && c <= '7');
    if (!ok) return false;
  }
  return true;
}

// "V:1;K:...;F:...;S:...;" split into its fields: each tag one upper-case letter, present
// once, V first, every value non-empty and of value characters only.
Result<std::array<std::optional<std::string_view>, 26>> SplitFields(std::string_view body) {
  std::array<std::optional<std::string_view>, 26> fields;
  bool first = true;
  while (!body.empty()) {
    if (body.size() < 2 || !IsUpper(body[0]) || body[1] != ':') {
      return Error(Code::kMalformed, "device URI: a field is not TAG:VALUE; (TAG one upper-case letter)");
    }
    char tag = body[0];
    size_t end = body.find(';', 2);
    if (end == std::string_view::npos) return Error(Code::kMalformed, std::string("device URI: field ") + tag + " has no ';'");
    std::string_view value = body.substr(2, end - 2);
    if (value.empty()) return Error(Code::kMalformed, std::string("device URI: field ") + tag + " is empty");
    for (char c : value) {
      if (!IsValueChar(c)) return Error(Code::kMalformed, std::string("device URI: field ") + tag + " holds a character outside the grammar");
    }
    if (first && tag != 'V') return Error(Code::kMalformed, "device URI: the first field is not the version V");
    first = false;
    auto& slot = fields[static_cast<size_t>(tag - 'A')];
    if (slot) return Error(Code::kMalformed, std::string("device URI: field ") + tag + " appears twice");
    slot = value;
    body.remove_prefix(end + 1);
  }
  return fields;
}

}  // namespace

bool LooksLikeDeviceUri(std::string_view text) {
  if (text.size() <= kDeviceUriScheme.size() || text[kDeviceUriScheme.size()] != ':') return false;
  for (size_t i = 0; i < kDeviceUriScheme.size(); ++i) {
    // RFC 3986 3.1: schemes are case-insensitive (some scanners change the case of a code).
    char c = text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != kDeviceUriScheme[i]) return false;
  }
  return true;
}

Result<std::string> EncodeDeviceUri(const PublicKey& key, std::string_view serial) {
  VOUCH_RETURN_IF_ERROR(CheckSerial(serial));
  return std::string(kDeviceUriScheme) + ":V:1;K:" + Base64Encode(key.SpkiDer()) + ";F:" + key.Fingerprint() +
         ";S:" + PercentEncode(serial) + ";;";
}

Result<DeviceUri> DecodeDeviceUri(std::string_view text) {
  if (text.size() > kMaxDeviceUriSize) {
    return Error(Code::kTooLarge, "device URI: over " + std::to_string(kMaxDeviceUriSize) + " bytes");
  }
  if (!LooksLikeDeviceUri(text)) return Error(Code::kMalformed, "device URI: does not start with VOUCH:");
  std::string_view rest = text.substr(kDeviceUriScheme.size() + 1);
  if (rest.size() < 2 || rest.substr(rest.size() - 2) != ";;") {
    return Error(Code::kMalformed, "device URI: does not end with ';;'");
  }
  rest.remove_suffix(1);  // the terminating ';': each field keeps its own
  VOUCH_ASSIGN_OR_RETURN(auto fields, SplitFields(rest));
  auto field = [&](char tag) { return fields[static_cast<size_t>(tag - 'A')]; };

  auto v = field('V');
  if (!v) return Error(Code::kMalformed, "device URI: no version V");
  for (char c : *v) {
    if (!IsDigit(c)) return Error(Code::kMalformed, "device URI: version V is not a number");
  }
  if (*v != "1") return Error(Code::kUnsupported, "device URI: version " + std::string(v->substr(0, 8)) + " (this reader knows 1)");
  for (char tag : {'K', 'F', 'S'}) {
    if (!field(tag)) return Error(Code::kMalformed, std::string("device URI: no field ") + tag);
  }

  auto der = Base64Decode(*field('K'));
  if (!der.ok()) return Error(Code::kMalformed, "device URI: K is not standard base64 with padding");
  auto key = PublicKey::FromSpkiDer(*der);
  if (!key.ok()) return key.status().Context("device URI: K");
  // One spelling: the canonical SPKI (libvoucher/key.h), as the fingerprint is computed over.
  if (Base64Encode(key->SpkiDer()) != *field('K')) {
    return Error(Code::kMalformed, "device URI: K is not the canonical SubjectPublicKeyInfo of its key");
  }
  if (!IsKeyUdfSpelling(*field('F'))) {
    return Error(Code::kMalformed, "device URI: F is not a 140-bit UDF (XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX)");
  }
  std::string udf = key->Fingerprint();
  if (udf != *field('F')) {
    return Error(Code::kUdfMismatch, "device URI: F " + std::string(*field('F')) + " is not the UDF of K (" + udf + ")");
  }

  if (field('S')->size() > 3 * kMaxDeviceUriSerial) {
    return Error(Code::kTooLarge, "device URI: serial number over " + std::to_string(kMaxDeviceUriSerial) + " bytes");
  }
  VOUCH_ASSIGN_OR_RETURN(std::string serial, PercentDecode(*field('S')));
  VOUCH_RETURN_IF_ERROR(CheckSerial(serial));
  return DeviceUri{*std::move(key), std::move(serial)};
}

}  // namespace vouch::formats
