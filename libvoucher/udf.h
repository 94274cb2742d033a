// UDF fingerprints (draft-hallambaker-mesh-udf), as DESIGN.md section 4 fixes them.
//
//   TCDV    = H(UTF8(content_type) || ":" || H(data))        H = SHA-2-512 or SHA3-512
//   binary  = [type + c] || TCDV                                65 bytes
//   text    = Base32(binary) cut to ceil(bits / 5) characters, groups of 4 joined by "-"
//
// type is 0x60 for SHA-2-512 ('M...') and 0x50 for SHA3-512 ('K...'); c in 0..4 is the
// compression level, set by the number of zero bits at the END of TCDV (>= 20, 30, 40, 50).
// Compression changes only the type byte. `bits` counts the type byte, so 140 bits is 28
// characters. Spec page: docs/udf.md. Vectors: tests/vectors/udf-vectors.json.
#pragma once

#include <string>
#include <string_view>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::udf {

enum class Alg { kSha2_512, kSha3_512 };

inline constexpr int kMinBits = 100;        // shorter is refused: too easy to collide
inline constexpr int kMaxBits = 65 * 8;     // the whole binary
inline constexpr int kKeyBits = 140;        // device and combined keys (28 characters)
inline constexpr int kContentBits = 260;    // voucher and bundle ids (52 characters)
inline constexpr std::string_view kKeyContentType = "PKIXKey";

inline constexpr uint8_t kTypeSha2 = 0x60;
inline constexpr uint8_t kTypeSha3 = 0x50;
inline constexpr uint8_t kTypeNonce = 0x68;

// The 65-byte binary fingerprint of `data` labelled with `content_type`.
Result<Bytes> ContentDigestBinary(Alg alg, std::string_view content_type, ByteView data);

// The presentation of `data` at `bits` precision (kMinBits..kMaxBits).
Result<std::string> ContentDigest(Alg alg, std::string_view content_type, ByteView data, int bits);

// The presentation of any UDF binary (type byte first) at `bits` precision.
std::string Present(ByteView binary, int bits);

// The SHA-2-512 fingerprint of a DER SubjectPublicKeyInfo, content type "PKIXKey".
std::string KeyFingerprint(ByteView spki_der, int bits = kKeyBits);

// A parsed UDF: the canonical characters (upper case, no dashes) and what they encode.
class Udf {
 public:
  // Case-insensitive; '-' anywhere is ignored; any other character outside the base32
  // alphabet, fewer than kMinBits or more than kMaxBits is refused (code kMalformed).
  static Result<Udf> Parse(std::string_view text);

  const std::string& chars() const { return chars_; }  // "MB5SR4AJ..."
  std::string ToString() const;                         // "MB5S-R4AJ-..."
  int bits() const { return static_cast<int>(chars_.size()) * 5; }
  uint8_t type() const { return type_; }  // the first byte (0x60..0x64, 0x50..0x54, 0x68, ...)

  // True when this UDF, read at its own precision, is the start of `longer`: the way a
  // short fingerprint a person typed is matched against a full one. Same length counts.
  bool IsPrefixOf(const Udf& longer) const;

  bool operator==(const Udf& o) const { return chars_ == o.chars_; }

 private:
  std::string chars_;
  uint8_t type_ = 0;
};

}  // namespace vouch::udf
