// Voucher JSON decoding: what decodes re-encodes (unless a time has a fraction, which writers
// refuse) to something that decodes to the same.
#include <cstdlib>

#include "formats/voucher_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = vouch::formats::DecodeVoucher(vouch::ByteView(data, size));
  if (v.ok()) {
    auto once = vouch::formats::EncodeVoucher(*v);
    if (!once.ok()) return 0;
    auto back = vouch::formats::DecodeVoucher(*once);
    if (!back.ok()) std::abort();
    auto twice = vouch::formats::EncodeVoucher(*back);
    if (!twice.ok() || *twice != *once) std::abort();
  }
  return 0;
}
