// Enrollment receipts in the cache (cache/cache.md, "Receipts"): filed beside the vouchers,
// under their own top folder, append-only like everything on the branch:
//
//   receipts/<c1c2>/<c3c4>/<DEVICE-UDF>/<RECEIPT-ID>.vrj
//
// What a receipt is, and how it is signed and verified, is formats/receipt.h's. Here: where
// the cache files one, and what the cache reads back of one it holds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "formats/receipt.h"
#include "libvoucher/bytes.h"
#include "libvoucher/instant.h"
#include "libvoucher/status.h"

namespace vouch::cache {

// "receipts/<c1c2>/<c3c4>/<DEVICE-UDF>/<RECEIPT-ID>.vrj" (kMalformed for a bad UDF or id).
Result<std::string> ReceiptTreePath(std::string_view device_udf, std::string_view receipt_id);
// The folder holding one device's receipts: "receipts/<c1c2>/<c3c4>/<DEVICE-UDF>".
Result<std::string> ReceiptDirectory(std::string_view device_udf);
// True when `path` lies under the receipts folder (its shape is ParseReceiptTreePath's
// question): the one test of which folder a cache path is in.
bool IsReceiptTreePath(std::string_view path);
// Refuses anything that is not exactly a receipt's path in a cache tree (kMalformed).
Result<formats::ReceiptPathParts> ParseReceiptTreePath(std::string_view path);

// What `cache status` and an import's rollback check read of a receipt the cache already
// holds. Every receipt on the branch was verified when it came (import, pull) and is again by
// `cache verify`, so its signatures are not checked a second time: a fleet's status reads
// 10,000 receipts in well under a second only this way.
struct HeldReceipt {
  std::string voucher_id;
  int64_t generation = 0;
  Instant time;
  std::string time_text;  // as written
};
// kMalformed for bytes that are not a receipt's JWS, or a payload without these members.
Result<HeldReceipt> ReadHeldReceipt(ByteView bytes);

}  // namespace vouch::cache
