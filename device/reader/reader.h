// vouch-medium-reader and vouch-git-reader: the confined processes that read media for
// vouch-device (DESIGN.md section 9, device/protocol.md). Each opens the media it is given,
// enters its sandbox (sandbox.h), scans them for one device's vouchers (scanner.h) and writes
// what it found as protocol records to `out_fd`, ending with the end record. The medium
// reader reads trees and bundles and says whether there are git caches; only then does the
// device start the git reader, the one process that loads libgit2, for those. Neither holds
// a key or decides anything: everything they send is judged by the device as hostile.
#pragma once

#include <string>
#include <vector>

#include "device/reader/sandbox.h"
#include "device/reader/scanner.h"

namespace vouch::device::reader {

struct ReaderOptions {
  std::string device_udf;
  std::vector<std::string> media;
  Limits limits;
  SandboxOptions sandbox;
  size_t max_refusals = 256;  // refusals sent one by one; the rest are tallied by code
  const GitCaches* git = nullptr;  // the git reader: git caches only (scanner.h)
};

// Returns the process exit status: 0 when the end record was written, 1 otherwise (the
// device then treats the whole read as failed).
int Serve(const ReaderOptions& options, int out_fd);

}  // namespace vouch::device::reader
