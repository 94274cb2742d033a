// The fleet file of `vouch issue --batch` and `vouch sign --devices`: one device per line,
//   serial,public key
// where the key is base64 DER SubjectPublicKeyInfo, or a PEM block in double quotes (it may
// span lines). Blank lines, lines starting with '#', and a first line "serial,..." are skipped.
// In a two-column file a line may instead be one device URI (formats/device_uri.md, what a
// device's QR code says): its serial and key are taken from it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::formats {

inline constexpr size_t kMaxDevicesFileSize = 256u << 20;
inline constexpr size_t kMaxDevices = 1000000;

struct DeviceLine {
  int line = 0;  // 1-based line where the record starts
  std::string serial;
  std::string key_text;  // as written; parsed by the caller so a bad key fails one line only
  // The third column, in files that have one (`vouch renew --batch`: the combined key Z).
  std::string extra_text = {};
  // Not ok for a device URI line that does not decode (kMalformed, kUdfMismatch, ...): the
  // caller reports it as that line's error, the other lines go on.
  Status status = {};
};

// kMalformed only for a file that cannot be split into records (an unterminated quote).
// `columns` is 2 (serial,key) or 3 (serial,key,extra); a record with more fields than that
// comes back with an empty key_text (and extra_text), which the caller reports as its line's
// error. A header line starting "serial," is skipped. A device URI line (columns 2 only)
// comes back with the URI's serial and its key as base64 DER, or with its refusal in status.
Result<std::vector<DeviceLine>> ParseDevicesCsv(std::string_view text, int columns = 2);

// The same file read a block at a time, so that a fleet of a million devices is never all in
// memory (`vouch issue --batch`): the same records, lines and refusals as ParseDevicesCsv
// gives for the whole text. A record is at most kMaxDeviceRecord bytes (a PEM key is < 1 KiB).
inline constexpr size_t kMaxDeviceRecord = 64u << 10;
class DevicesFile {
 public:
  static Result<DevicesFile> Open(const std::filesystem::path& path, int columns = 2);
  // The next records, at most `max`; none at the end of the file.
  Result<std::vector<DeviceLine>> Next(size_t max);

  DevicesFile(DevicesFile&&) noexcept;
  DevicesFile& operator=(DevicesFile&&) noexcept;
  ~DevicesFile();

 private:
  static constexpr size_t kBlock = 1u << 20;
  struct State;
  DevicesFile();
  std::unique_ptr<State> state_;
  std::string path_;
};

}  // namespace vouch::formats
