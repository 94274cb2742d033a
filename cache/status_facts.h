// What `cache status` learned of each blob, kept for the next run (cache/cache.md, "Status").
//
// A blob never changes (its id is its content's hash) and the branch only grows, so what was
// read of a voucher (its created-on, its certificate's notAfter) or of a receipt (generation,
// time, voucher id) once holds for good. Status reads only the blobs this file does not know:
// a fleet's status costs its tree walk and the blobs new since the last run, not a decode of
// every voucher each time. Derived and local, like the log's lookup: kept in
// <cache>/vouch/status-facts, never mirrored; a missing or damaged file (or line) is only read
// again from the blobs. Written best effort (a read-only cache is still answered).
//
// The file is never held whole (a fleet of a million devices makes some 150 MB of it): it is
// sorted by device UDF, the order status walks the devices in, so a run over every device reads
// it once beside its walk (a merge-join), and a run over named devices finds each by binary
// search. Text, a header line, then one blob a line:
//   vouch-status-facts 2
//   <device UDF> v <blob hex> <created-on, us since the epoch> <certificate notAfter, us | -> <crc>
//   <device UDF> r <blob hex> <generation> <time, us> <voucher id> <crc>
// <crc> is the CRC-32 (zlib) of the line before it, eight lowercase hex digits: a line damaged
// on disk is read again from its blob, not believed. A line is at most 512 bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cache/git/object_id.h"
#include "libvoucher/file.h"
#include "libvoucher/instant.h"
#include "libvoucher/status.h"

namespace vouch::cache {

struct VoucherFacts {
  Instant created_on;
  std::optional<Instant> certificate_not_after;  // none: no certificate for Z
};

struct ReceiptFacts {
  int64_t generation = 0;
  Instant time;
  std::string voucher_id;
};

// What the file holds for one device, by blob.
struct DeviceFacts {
  std::unordered_map<git::ObjectId, VoucherFacts> vouchers;
  std::unordered_map<git::ObjectId, ReceiptFacts> receipts;
  // As Take found them, for Put: the device's lines as they stood, whether every line read
  // since the previous device's was its own and sound, and where they ended.
  std::string lines;
  bool clean = true;
  uint64_t end = 0;
};

// One line of the file, its newline included (what Put takes; tests forge lines with it).
std::string FactsLine(std::string_view device, const git::ObjectId& blob, const VoucherFacts& f);
std::string FactsLine(std::string_view device, const git::ObjectId& blob, const ReceiptFacts& f);

class StatusFacts {
 public:
  // The file under `cache` as it is. Trusted only as ssh trusts its files: a regular file
  // owned by the user running status and writable by no one else; any other is not read.
  static StatusFacts Open(const std::filesystem::path& cache);

  StatusFacts(StatusFacts&&) = default;
  StatusFacts& operator=(StatusFacts&&) = default;
  ~StatusFacts();  // an unfinished new file is removed

  // A run over every device: Take each device's facts in ascending UDF order, then Put what
  // they are now (its lines, FactsLine, in the order of its files), in the same order (a few
  // devices may be taken ahead of their Put), and Save at the end. The file is rewritten (a
  // new file, renamed over) only when it would change: a damaged, stale or unsorted line, or
  // a fact it lacked.
  DeviceFacts Take(std::string_view device);
  void Put(const DeviceFacts& taken, std::string_view lines);
  Status Save();

  // A run over named devices, in any order: each found by binary search; nothing is written
  // (the next run over every device records what was new).
  DeviceFacts Find(std::string_view device);

 private:
  StatusFacts() = default;
  bool NextLine(std::string* out);          // the next whole line (newline stripped), false at the end
  bool Parse(std::string_view text, std::string_view device, DeviceFacts* into) const;
  void StartWriting();
  void Write(std::string_view text);

  std::filesystem::path path_;
  UniqueFd in_;                 // the file read, when it is trusted and has the header
  uint64_t size_ = 0;           // its size when opened
  uint64_t header_end_ = 0;     // where its first line starts
  uint64_t read_at_ = 0;        // the offset of the next line NextLine returns
  std::string buffer_;          // read ahead, from buffer_at_
  uint64_t buffer_at_ = 0;
  // The line read past the device last taken (it belongs to a later one).
  std::optional<std::string> pending_;
  uint64_t pending_at_ = 0;
  // Until something changes the file's bytes up to clean_end_ are what a rewrite would write,
  // and nothing is written; the first change starts the new file with a copy of them.
  uint64_t clean_end_ = 0;
  bool put_any_ = false;
  UniqueFd out_;
  std::filesystem::path out_path_;
  std::string out_buffer_;
  bool failed_ = false;         // writing failed: the old file stays, the run is still answered
};

}  // namespace vouch::cache
