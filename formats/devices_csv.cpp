#include "formats/devices_csv.h"

#include <cerrno>
#include <cstdio>

#include "formats/device_uri.h"
#include "libvoucher/encoding.h"

namespace vouch::formats {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// One record at a time from text that may end mid-record (a file read a block at a time).
// Next() answers false when the text holds no complete record and more may come
// (`*complete` false), or at the end of the text.
class RecordParser {
 public:
  explicit RecordParser(int columns) : columns_(columns) {}

  // Parses the record at text[*pos...] into *out (true), or skips it (blank, comment, the
  // header: true with out->line == 0). `eof`: nothing follows `text`.
  Result<bool> Next(std::string_view text, size_t* pos, bool eof, DeviceLine* out) {
    size_t p = *pos;
    int line = line_;
    int start_line = line;
    std::string fields[3];
    int field = 0;
    bool quoted = false, too_many = false, ended = false;
    for (; p < text.size(); ++p) {
      char c = text[p];
      if (c == '\n') ++line;
      if (quoted) {
        if (c == '"') quoted = false;
        else fields[field] += c;
      } else if (c == '"') {
        quoted = true;
      } else if (c == '\n') {
        ++p;
        ended = true;
        break;
      } else if (c == ',') {
        if (field == columns_ - 1) too_many = true;
        else ++field;
      } else {
        fields[field] += c;
      }
    }
    if (!ended && !eof) return false;  // the rest of this record is still to come
    if (p == *pos) return false;       // nothing left
    if (quoted) return Error(Code::kMalformed, "devices file line " + std::to_string(start_line) + ": unterminated quote");
    *pos = p;
    line_ = line;
    std::string_view serial = Trim(fields[0]), key = Trim(fields[1]), extra = Trim(fields[2]);
    bool header = first_ && serial == "serial";
    first_ = false;
    *out = DeviceLine{};
    if (header || (serial.empty() && key.empty() && extra.empty()) || (!serial.empty() && serial[0] == '#')) return true;
    if (++count_ > kMaxDevices) return Error(Code::kTooLarge, "devices file has more than 1,000,000 devices");
    DeviceLine d{start_line, std::string(serial), std::string(key), std::string(extra)};
    if (too_many) d.key_text.clear(), d.extra_text.clear();  // reported as a bad line by the caller
    if (columns_ == 2 && field == 0 && LooksLikeDeviceUri(serial)) {
      // A line that is one device URI (scanned QR codes pasted into the file): a URI holds
      // no ',' (formats/device_uri.md), so it is always the only field of its line.
      auto uri = DecodeDeviceUri(serial);
      if (uri.ok()) d.serial = uri->serial, d.key_text = Base64Encode(uri->key.SpkiDer());
      else d.status = uri.status();
    }
    *out = std::move(d);
    return true;
  }

 private:
  int columns_;
  int line_ = 1;
  bool first_ = true;
  size_t count_ = 0;
};

}  // namespace

Result<std::vector<DeviceLine>> ParseDevicesCsv(std::string_view text, int columns) {
  if (columns != 2 && columns != 3) return Error(Code::kInternal, "a devices file has 2 or 3 columns");
  std::vector<DeviceLine> out;
  RecordParser parser(columns);
  size_t pos = 0;
  DeviceLine d;
  for (;;) {
    VOUCH_ASSIGN_OR_RETURN(bool got, parser.Next(text, &pos, true, &d));
    if (!got) break;
    if (d.line) out.push_back(std::move(d));
  }
  return out;
}

struct DevicesFile::State {
  explicit State(int columns) : parser(columns) {}
  RecordParser parser;
  std::FILE* file = nullptr;
  std::string buffer;
  size_t pos = 0;
  uint64_t read = 0;
  bool eof = false;
  ~State() {
    if (file) std::fclose(file);
  }
};

DevicesFile::DevicesFile() = default;
DevicesFile::DevicesFile(DevicesFile&&) noexcept = default;
DevicesFile& DevicesFile::operator=(DevicesFile&&) noexcept = default;
DevicesFile::~DevicesFile() = default;

Result<DevicesFile> DevicesFile::Open(const std::filesystem::path& path, int columns) {
  if (columns != 2 && columns != 3) return Error(Code::kInternal, "a devices file has 2 or 3 columns");
  DevicesFile f;
  f.state_ = std::make_unique<State>(columns);
  f.state_->file = std::fopen(path.c_str(), "rb");
  if (!f.state_->file) return Error(errno == ENOENT ? Code::kNotFound : Code::kIo, path.string() + ": cannot open");
  f.path_ = path.string();
  return f;
}

Result<std::vector<DeviceLine>> DevicesFile::Next(size_t max) {
  State& s = *state_;
  std::vector<DeviceLine> out;
  DeviceLine d;
  while (out.size() < max) {
    VOUCH_ASSIGN_OR_RETURN(bool got, s.parser.Next(s.buffer, &s.pos, s.eof, &d));
    if (got) {
      if (d.line) out.push_back(std::move(d));
      continue;
    }
    if (s.eof) break;
    // More of the file: what is left of the buffer, then the next block.
    s.buffer.erase(0, s.pos);
    s.pos = 0;
    if (s.buffer.size() > kMaxDeviceRecord) {
      return Error(Code::kTooLarge, path_ + ": a record over " + std::to_string(kMaxDeviceRecord >> 10) + " KiB");
    }
    size_t at = s.buffer.size();
    s.buffer.resize(at + kBlock);
    size_t n = std::fread(s.buffer.data() + at, 1, kBlock, s.file);
    s.buffer.resize(at + n);
    s.read += n;
    if (s.read > kMaxDevicesFileSize) return Error(Code::kTooLarge, path_ + ": over " + std::to_string(kMaxDevicesFileSize >> 20) + " MiB");
    if (n < kBlock) {
      if (std::ferror(s.file)) return Error(Code::kIo, path_ + ": read error");
      s.eof = true;
    }
  }
  return out;
}

}  // namespace vouch::formats
