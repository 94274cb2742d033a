// Voucher JSON decoding: what decodes re-encodes to something that decodes to the same.
#include <cstdlib>

#include "formats/voucher_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = vouch::formats::DecodeVoucher(vouch::ByteView(data, size));
  if (v.ok()) {
    vouch::Bytes once = vouch::formats::EncodeVoucher(*v);
    auto back = vouch::formats::DecodeVoucher(once);
    if (!back.ok() || vouch::formats::EncodeVoucher(*back) != once) std::abort();
  }
  return 0;
}
