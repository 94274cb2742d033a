// The voucher in YANG-CBOR (RFC 9254) with SIDs (RFC 9595), as the constrained-voucher draft
// (cBRSKI) carries it inside COSE: `ietf-voucher:voucher` (SID 2451, its leaves 2452-2462) and
// the `vouch-enroll:enrollment` augmentation (formats/vouch-enroll.sid, SIDs 60101-60112 in the
// experimental range). Keys inside a container or list entry are deltas from the parent's SID.
// Spec page: formats/voucher.md, "YANG-CBOR payload".
//
// The codec maps SIDs to the member names of the RFC 7951 JSON form and back, and the JSON
// decoder's rules judge every leaf (formats/voucher_json.h), so a voucher means the same in all
// three envelopes.
#pragma once

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"
#include "libvoucher/voucher.h"

namespace vouch::formats {

// Accepts SID keys (delta-coded) and, where RFC 9254 allows, member names as text keys
// ("ietf-voucher:voucher", "created-on", "vouch-enroll:enrollment"); one leaf written both ways
// is malformed. Unknown SIDs and names are ignored, as unknown JSON leaves are. Refused
// (kMalformed): what formats/cbor/cbor.h refuses, tags, a leaf of the wrong CBOR type, an
// enumeration value outside the enumeration.
Result<Voucher> DecodeVoucherCbor(ByteView cbor);

// Deterministic CBOR (RFC 8949 4.2.1), SID keys only. kUsage for a voucher that CBOR cannot
// carry as it is (a nonce or idevid-issuer that is not base64: both are binary leaves).
Result<Bytes> EncodeVoucherCbor(const Voucher& v);

}  // namespace vouch::formats
