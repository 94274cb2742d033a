// Reading media (a mounted stick, a directory, a bundle file) for one device's vouchers
// (DESIGN.md section 9). This runs only inside the confined readers (device/reader/reader.h):
// it parses ZIP and git, so it never shares a process with the device's key. The medium
// reader reads trees and bundles and only notes git caches (Sink::GitCaches); the git reader,
// which alone links libgit2 (git_caches.h), walks the same media again for the git caches.
//
// Read-only: nothing is opened for writing, no link is followed (every directory is reached
// with openat(O_NOFOLLOW) from its parent's descriptor), no other filesystem is entered, no
// FIFO, socket or device is opened, and every walk and read is bounded by a budget that
// counts work: entries looked at, files and bytes read, manifest entries checked, git
// objects read. A file reached through several hard links is read once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "formats/bundle.h"
#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::device::reader {

struct Limits {
  size_t max_depth = 8;                  // directory levels below a mount point
  size_t max_dirents = 200000;           // directory entries looked at, all media together
  size_t max_vouchers = 4096;            // candidate vouchers sent for this device
  size_t max_files = 8192;               // voucher and proof files opened in the device's directories
  uint64_t max_bytes = 256ull << 20;     // voucher and proof bytes read, all sources
  size_t max_bundles = 1024;             // bundle files opened
  uint64_t max_manifest_entries = 262144;  // manifest entries checked, all bundles
  size_t max_git_caches = 16;            // git caches opened
  std::chrono::milliseconds deadline{12000};  // then stop, and send what was found
  formats::BundleLimits bundle;           // also caps voucher and proof files (max_voucher, max_proof)
};

// Where the reader's findings go (the protocol writer, or a test).
class Sink {
 public:
  virtual ~Sink() = default;
  // A voucher, and the log proof found beside it, if any (its bytes unchecked but capped).
  virtual void Voucher(const std::string& source, ByteView envelope, const std::optional<Bytes>& proof) = 0;
  virtual void Refused(const std::string& source, const Status& why) = 0;
  virtual void Note(const std::string& text) = 0;
  // The media hold at least one git cache, which this reader did not read (no GitCaches).
  virtual void GitCaches() {}
};

// What reads a git cache's directory for the device: cache/git's medium reader, linked only
// into the git reader (git_caches.h). `repo_fd` is the cache's directory, `what` names it.
struct GitCaches {
  std::function<void()> prepare;  // once, before the sandbox (libgit2's process-wide settings)
  std::function<Result<std::vector<formats::PackedVoucher>>(int repo_fd, const std::string& what, const std::string& udf,
                                                            const Limits& limits, size_t max_vouchers)>
      read;
};

// A medium named on the command line, opened before the reader gives up its privileges
// (the path may be one that only root can reach; what is below it need not be).
struct Medium {
  std::string path;
  int fd = -1;       // O_RDONLY, or -1
  int error = 0;     // errno of the failed open
};
Medium OpenMedium(const std::string& path);

// Looks under each medium for `vouchers/` trees, `*.vbundle` files and `vouch.vshards` shard
// sets, and sends only the vouchers filed under `device_udf`, each with the log proof beside
// it when there is one (formats/layout.md, "Proofs beside vouchers"); `*.git` caches it only
// reports (Sink::GitCaches). With `git`, it reads the `*.git` caches and nothing else: what a
// medium holds besides them, and what is wrong with a medium itself, the first reader said.
void ScanMedia(const std::vector<Medium>& media, const std::string& device_udf, const Limits& limits, Sink& sink,
               const GitCaches* git = nullptr);

}  // namespace vouch::device::reader
