// Enrollment receipts (DESIGN.md section 9a): what a device writes after it applies a voucher,
// signed with z (the proof of possession of Z that no CA could get before) and with x (the
// factory key), carried back to the owner on the stick. Spec page: formats/receipt.md.
//
// A JWS (RFC 7515) in the general JSON serialization with exactly two signatures, in this
// order: by Z (protected header {"alg":A,"typ":"vouch-receipt+jws","kid":"<UDF of Z>"}) and by
// X (the same with "kid":"<UDF of X>"); A is the suite's signature algorithm (ES256 for
// P-256, EdDSA for the Edwards suites). The payload is
//   {"vouch-receipt":{"device-key":"<UDF of X>","device-public-key":"<base64 SPKI of X>",
//     "serial-number":"...","voucher-id":"<id of the applied voucher>",
//     "combined-key":"<base64 SPKI of Z>","generation":N,"time":"<RFC 3339, device clock>",
//     "certificate":"<base64 DER certificate for Z; when the device holds one>"}}
// Files are named by the receipt id (UDF of kReceiptMediaType over the exact bytes, 260
// bits) with the extension kReceiptExtension, at
//   <root>/<c1c2>/<c3c4>/<DEVICE-UDF>/<RECEIPT-ID>.vrj
// where root is "receipts" in a cache tree and "vouch-receipts" on a medium.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "libvoucher/bytes.h"
#include "libvoucher/cert.h"
#include "libvoucher/instant.h"
#include "libvoucher/key.h"
#include "libvoucher/status.h"

namespace vouch::formats {

inline constexpr size_t kMaxReceiptSize = 16 * 1024;
inline constexpr std::string_view kReceiptMediaType = "application/vouch-receipt+jws";
inline constexpr std::string_view kReceiptTyp = "vouch-receipt+jws";
inline constexpr std::string_view kReceiptExtension = "vrj";  // no dot
inline constexpr std::string_view kReceiptRoot = "receipts";          // in a cache tree
inline constexpr std::string_view kMediumReceiptRoot = "vouch-receipts";  // at a medium's root

struct Receipt {
  std::string device_key;  // UDF of X, 140 bits, canonical
  PublicKey device_public_key;  // X
  std::string serial_number;
  std::string voucher_id;  // the voucher applied, canonical 260-bit UDF
  PublicKey combined_key;  // Z
  int64_t generation = 0;  // >= 1: the device's generation holding that voucher
  Instant time;            // when it was applied, by the device's clock (trusted or not)
  std::optional<Certificate> certificate;  // the device's certificate for Z, when it has one
};

// Signs with z then x. kInvalidKey when z is not Z's private key or x not X's, or they are in
// different groups.
Result<Bytes> SignReceipt(const Receipt& receipt, const PrivateKey& z, const PrivateKey& x);

// The receipt id: UDF of kReceiptMediaType over the exact bytes, 260 bits.
std::string ReceiptId(ByteView bytes);

struct VerifiedReceipt {
  Receipt receipt;
  std::string id;
};
// Checks everything a receipt says about itself: at most kMaxReceiptSize (kTooLarge); JSON
// that every reader reads alike (no duplicate member, no BOM: kMalformed); exactly two
// signatures, kid Z then kid X, both verifying over the payload with the algorithm of the
// keys' group (kBadSignature); device-key is the UDF of device-public-key; X and Z in one
// group; the certificate, when present, carries Z (kCertificateMismatch). Who X and Z are is
// the caller's question (a voucher, a device key, a trust anchor).
Result<VerifiedReceipt> VerifyReceipt(ByteView bytes);

// "<c1c2>/<c3c4>/<DEVICE-UDF>/<RECEIPT-ID>.vrj", relative to a receipts root.
Result<std::string> ReceiptPath(std::string_view device_udf, std::string_view receipt_id);
struct ReceiptPathParts {
  std::string device_udf;
  std::string receipt_id;
};
// Refuses anything that is not exactly such a path (kMalformed, naming it).
Result<ReceiptPathParts> ParseReceiptPath(std::string_view relative_path);

}  // namespace vouch::formats
