// The device's side of enrollment receipts (DESIGN.md 9a, formats/receipt.md): the receipt of
// its current generation, signed with z and x, and writing it to a medium.
//
// The receipt is made from the state alone (identity, generation, the generation's z, Z,
// certificate and applied-on time); it is written only through device/medium_writer.h, at
// the path formats::ReceiptPath builds from two UDFs, so nothing from a medium is parsed and
// nothing lands outside the receipts root.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "libvoucher/bytes.h"
#include "libvoucher/device_state.h"
#include "libvoucher/status.h"

namespace vouch::device {

// The receipt of `state`'s current generation: its time is the generation's applied-on. z is
// read from the generation's z.key (checked against z.pub) and wiped when it goes out of
// scope. kNotFound for a device that has not enrolled; the state's own errors otherwise.
Result<Bytes> MakeReceipt(const DeviceState& state);

struct WrittenReceipt {
  std::string path;  // receipts root / formats::ReceiptPath(...)
  std::string id;
  int generation = 0;
  std::string voucher_id;
};

// Reads the state in `state_dir` under its lock (waiting up to `lock_timeout_ms`), makes its
// receipt and writes it below `receipts_root` (medium_writer.h's rules and errors: a link is
// kSymlinkEntry, an existing receipt kExists, a read-only filesystem kIo).
Result<WrittenReceipt> WriteReceipt(const std::filesystem::path& state_dir, const std::filesystem::path& receipts_root,
                                    int lock_timeout_ms = 60000);

// `vouch-device fetch --receipts`: the media that asked for a receipt, and what became of it.
struct MediumReceipt {
  std::string medium;
  std::optional<WrittenReceipt> written;  // set when written
  Status status;                          // why not, otherwise
};
// For each medium that is a directory with a `vouch-receipts` entry at its root (formats::
// kMediumReceiptRoot), writes the receipt there; one that has none is not asked and not
// listed. A `vouch-receipts` that is a link is listed as refused (kSymlinkEntry), never
// followed. A receipt that could not be made is listed for every medium that asked.
std::vector<MediumReceipt> WriteReceiptsToMedia(const std::filesystem::path& state_dir,
                                                const std::vector<std::string>& media, int lock_timeout_ms = 60000);

}  // namespace vouch::device
