// What became of one voucher (or one source of vouchers) that a reader judged: the device's
// fetch and the cache's imports report in the same shape, so tools print both alike.
#pragma once

#include <string>

#include "libvoucher/status.h"

namespace vouch::formats {

struct CandidateReport {
  std::string source;      // "stick/vouchers/B5/SR/.../MDDK....vjj", "x.vbundle:path"
  std::string id;          // voucher id, when the bytes were an envelope
  std::string created_on;  // as written, when the voucher decoded
  Status status;           // ok, or the refusal
  bool applied = false;    // the device applied it
  bool current = false;    // the voucher the device already runs
  bool logged = false;     // its log proof satisfied the device's log policy
};

}  // namespace vouch::formats
