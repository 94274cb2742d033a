// What `cache status` learned of each blob, kept for the next run (cache/cache.md, "Status").
//
// A blob never changes (its id is its content's hash) and the branch only grows, so what was
// read of a voucher (its created-on, its certificate's notAfter) or of a receipt (generation,
// time, voucher id) once holds for good. Status reads only the blobs this file does not know
// and then rewrites it: a fleet's status costs its tree walk and the blobs new since the last
// run, not a decode of every voucher each time. Derived and local, like the log's lookup: kept
// in <cache>/vouch/status-facts, never mirrored; a missing or damaged file (or line) is only
// read again from the blobs. Written best effort (a read-only cache is still answered).
//
// Text, one blob a line, sorted by blob id:
//   v <blob hex> <created-on, microseconds since the epoch> <certificate notAfter, us | ->
//   r <blob hex> <generation> <time, us> <voucher id>
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>

#include "cache/git/object_id.h"
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

class StatusFacts {
 public:
  // The file under `cache` as it is; what cannot be read is left out (read again later).
  static StatusFacts Load(const std::filesystem::path& cache);

  const VoucherFacts* Voucher(const git::ObjectId& blob) const;
  const ReceiptFacts* Receipt(const git::ObjectId& blob) const;
  void Add(const git::ObjectId& blob, VoucherFacts f);
  void Add(const git::ObjectId& blob, ReceiptFacts f);

  // Rewrites the file (atomically) when something was added since Load.
  Status Save() const;

 private:
  std::filesystem::path path_;
  std::unordered_map<git::ObjectId, VoucherFacts> vouchers_;
  std::unordered_map<git::ObjectId, ReceiptFacts> receipts_;
  bool changed_ = false;
};

}  // namespace vouch::cache
