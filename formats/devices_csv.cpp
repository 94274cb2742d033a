#include "formats/devices_csv.h"

#include "formats/device_uri.h"
#include "libvoucher/encoding.h"

namespace vouch::formats {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<std::vector<DeviceLine>> ParseDevicesCsv(std::string_view text, int columns) {
  if (columns != 2 && columns != 3) return Error(Code::kInternal, "a devices file has 2 or 3 columns");
  std::vector<DeviceLine> out;
  size_t pos = 0;
  int line = 1;
  bool first = true;
  while (pos < text.size()) {
    int start_line = line;
    // One record: up to an unquoted newline.
    std::string fields[3];
    int field = 0;
    bool quoted = false, too_many = false;
    for (; pos < text.size(); ++pos) {
      char c = text[pos];
      if (c == '\n') ++line;
      if (quoted) {
        if (c == '"') quoted = false;
        else fields[field] += c;
      } else if (c == '"') {
        quoted = true;
      } else if (c == '\n') {
        ++pos;
        break;
      } else if (c == ',') {
        if (field == columns - 1) too_many = true;
        else ++field;
      } else {
        fields[field] += c;
      }
    }
    if (quoted) return Error(Code::kMalformed, "devices file line " + std::to_string(start_line) + ": unterminated quote");
    std::string_view serial = Trim(fields[0]), key = Trim(fields[1]), extra = Trim(fields[2]);
    bool header = first && serial == "serial";
    first = false;
    if (header || (serial.empty() && key.empty() && extra.empty()) || (!serial.empty() && serial[0] == '#')) continue;
    if (out.size() >= kMaxDevices) return Error(Code::kTooLarge, "devices file has more than 1,000,000 devices");
    DeviceLine d{start_line, std::string(serial), std::string(key), std::string(extra)};
    if (too_many) d.key_text.clear(), d.extra_text.clear();  // reported as a bad line by the caller
    if (columns == 2 && field == 0 && LooksLikeDeviceUri(serial)) {
      // A line that is one device URI (scanned QR codes pasted into the file): a URI holds
      // no ',' (formats/device_uri.md), so it is always the only field of its line.
      auto uri = DecodeDeviceUri(serial);
      if (uri.ok()) d.serial = uri->serial, d.key_text = Base64Encode(uri->key.SpkiDer());
      else d.status = uri.status();
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace vouch::formats
