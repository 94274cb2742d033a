// vouch-medium-reader: the confined process that reads media for vouch-device
// (DESIGN.md section 9, device/protocol.md). It opens the media it is given, enters its
// sandbox (sandbox.h), scans them for one device's vouchers (scanner.h) and writes what it
// found as protocol records to `out_fd`, ending with the end record. It holds no key and
// decides nothing: everything it sends is judged by the device as hostile.
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
};

// Returns the process exit status: 0 when the end record was written, 1 otherwise (the
// device then treats the whole read as failed).
int Serve(const ReaderOptions& options, int out_fd);

}  // namespace vouch::device::reader
