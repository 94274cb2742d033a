// The voucher as RFC 7951 JSON: `ietf-voucher:voucher` (RFC 8366bis) augmented by
// `vouch-enroll:enrollment` (formats/vouch-enroll.yang). Spec page: formats/voucher.md.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"
#include "libvoucher/voucher.h"

namespace vouch::formats {

inline constexpr size_t kMaxVoucherSize = 64 * 1024;  // an envelope, and so its payload

// Strict where enrollment depends on a leaf, tolerant elsewhere (DESIGN.md section 5):
// unknown leaves are ignored; dates may carry fractions and offsets; booleans may be the
// strings "true"/"false"; nonces are opaque. Errors are kMalformed or kTooLarge, naming the leaf.
Result<Voucher> DecodeVoucher(ByteView json);

// Compact JSON, members in the order DESIGN.md section 5 shows. Deterministic. Times are
// written `YYYY-MM-DDTHH:MM:SSZ` from the instants (created_on_text is for display only), the
// one form every RFC 8366 reader parses (formats/voucher.md, Conventions). kMalformed, naming
// the leaf, for an instant that is not a whole second: the drafters (libvoucher/issue.h)
// truncate, and a writer that dropped the fraction itself would sign other than the model says.
Result<Bytes> EncodeVoucher(const Voucher& v);

namespace internal {
// The voucher as a JSON tree, for the YANG-CBOR codec (formats/voucher_cbor.h), which maps SIDs
// to these member names and back: every envelope's voucher goes through one set of reader rules.
Result<Voucher> DecodeVoucherTree(const nlohmann::json& doc);
Result<nlohmann::ordered_json> VoucherTree(const Voucher& v);
}  // namespace internal

}  // namespace vouch::formats
