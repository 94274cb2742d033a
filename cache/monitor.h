// `vouch log monitor`: the owner's alarm (spec page cache/log.md, "Monitoring"). Lists every
// voucher the log gained since the last run for the devices watched, checks each against
// the log (its bytes are the leaf the tiles hold) and flags those the owner did not issue.
// State: one file holding the last checkpoint seen; a log that does not extend it is a
// fork (kLogFork, both kept as evidence beside the state file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "formats/tlog/note.h"
#include "libvoucher/status.h"

namespace vouch::cache {

struct MonitorRequest {
  std::set<std::string> devices;              // canonical device UDFs
  std::set<std::string> expected;             // voucher ids the owner issued
  std::filesystem::path state;                // the last checkpoint seen (created on the first run)
  std::optional<formats::tlog::NoteVerifier> log_key;  // checks the checkpoint's signature when given
  std::string ref{kLogRef};                   // the log branch to read
};

struct MonitorReport {
  std::string origin;
  uint64_t from = 0, to = 0;  // the leaves looked at: [from, to)
  struct Seen {
    uint64_t leaf = 0;
    std::string path, device, id;
    bool expected = false;
  };
  std::vector<Seen> vouchers;  // for the watched devices, in leaf order
  size_t unexpected = 0;
};

// Reads the log, checks it extends the state's checkpoint, lists the new leaves of watched
// devices. The state moves to the new checkpoint only when nothing unexpected was found,
// so the alarm repeats until the owner accounts for the voucher (adds it to what is expected).
Result<MonitorReport> Monitor(const Cache& cache, const MonitorRequest& request);

// The voucher ids of every voucher file under `dir` (what an owner issued: `vouch issue
// --out-dir` trees, bundles' contents unpacked). Files that are not vouchers are refused.
Result<std::set<std::string>> VoucherIdsIn(const std::filesystem::path& dir);

}  // namespace vouch::cache
