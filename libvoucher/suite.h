// Crypto suites (DESIGN.md section 3). Only the mandatory P-256 suite is implemented; the
// others are named so that a voucher using them is refused as unsupported, not as malformed.
#pragma once

#include <optional>
#include <string_view>

namespace vouch {

enum class Suite { kP256HpkeSha256Aes128Gcm };

inline constexpr std::string_view kSuiteP256 = "P256-HPKE-SHA256-AES128GCM";

inline std::string_view SuiteName(Suite) { return kSuiteP256; }
inline std::optional<Suite> ParseSuite(std::string_view name) {
  if (name == kSuiteP256) return Suite::kP256HpkeSha256Aes128Gcm;
  return std::nullopt;
}

// HPKE parameters of DESIGN.md section 3: info is fixed, aad is the device-key UDF text.
inline constexpr std::string_view kHpkeInfo = "vouch enrolling voucher v1";

}  // namespace vouch
