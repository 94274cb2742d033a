// Enrollment receipts (formats/receipt.h) as an owner reads them off a stick: hostile bytes, and
// hostile paths below a receipts root. A receipt that verifies names a path that parses back to
// its device and id; nothing crashes, nothing runs away.
#include <cstdlib>
#include <string_view>

#include "formats/receipt.h"

using namespace vouch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView in(data, size);
  if (auto v = formats::VerifyReceipt(in); v.ok()) {
    if (v->id != formats::ReceiptId(in) || v->receipt.device_key != v->receipt.device_public_key.Fingerprint()) std::abort();
    auto path = formats::ReceiptPath(v->receipt.device_key, v->id);
    if (!path.ok()) std::abort();
    auto parts = formats::ParseReceiptPath(*path);
    if (!parts.ok() || parts->device_udf != v->receipt.device_key || parts->receipt_id != v->id) std::abort();
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto parts = formats::ParseReceiptPath(text); parts.ok()) {
    auto path = formats::ReceiptPath(parts->device_udf, parts->receipt_id);
    if (!path.ok() || *path != text) std::abort();  // one receipt, one path
  }
  return 0;
}
