// COSE vouchers (formats/cose.h) and their YANG-CBOR payloads (formats/voucher_cbor.h) from
// hostile bytes: never accepted under anchors the input cannot know, never a crash, never deeper
// than the depth cap; and a payload that decodes re-encodes to a voucher that decodes the same.
#include <cstdlib>

#include "formats/cose.h"
#include "formats/voucher_cbor.h"
#include "formats/voucher_json.h"
#include "fuzz/trust_anchors.h"

using namespace vouch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView in(data, size);
  if (formats::VerifyCose(in, fuzz::Anchors(), TimePolicy::None()).ok()) std::abort();
  (void)formats::OpenCoseUnverified(in);
  if (auto v = formats::DecodeVoucherCbor(in); v.ok()) {
    // A voucher with fractional times decodes but is not re-encoded (vouchers carry whole seconds).
    auto json = formats::EncodeVoucher(*v);
    if (auto cbor = formats::EncodeVoucherCbor(*v); cbor.ok()) {
      auto again = formats::DecodeVoucherCbor(*cbor);
      if (!again.ok() || !json.ok() || *formats::EncodeVoucher(*again) != *json) std::abort();
    }
  }
  return 0;
}
