// Crypto suites (DESIGN.md section 3): which group a device key and its contributions live
// in, and which HPKE cipher suite carries each y_i to the device. The envelope's signature
// follows the signer's key, not the suite (formats/envelope.h).
#pragma once

#include <optional>
#include <string_view>

#include "libvoucher/group.h"

namespace vouch {

enum class Suite { kP256HpkeSha256Aes128Gcm, kX25519HpkeSha256ChaCha20Poly1305, kX448HpkeSha512Aes256Gcm };

inline constexpr std::string_view kSuiteP256 = "P256-HPKE-SHA256-AES128GCM";
inline constexpr std::string_view kSuiteX25519 = "X25519-HPKE-SHA256-CHACHA20POLY1305";
inline constexpr std::string_view kSuiteX448 = "X448-HPKE-SHA512-AES256GCM";

// Every suite this build supports, in the order `--version` lists them.
inline constexpr Suite kSuites[] = {Suite::kP256HpkeSha256Aes128Gcm, Suite::kX25519HpkeSha256ChaCha20Poly1305,
                                    Suite::kX448HpkeSha512Aes256Gcm};

inline std::string_view SuiteName(Suite s) {
  switch (s) {
    case Suite::kP256HpkeSha256Aes128Gcm: return kSuiteP256;
    case Suite::kX25519HpkeSha256ChaCha20Poly1305: return kSuiteX25519;
    case Suite::kX448HpkeSha512Aes256Gcm: return kSuiteX448;
  }
  return {};
}

inline std::optional<Suite> ParseSuite(std::string_view name) {
  if (name == kSuiteP256) return Suite::kP256HpkeSha256Aes128Gcm;
  if (name == kSuiteX25519) return Suite::kX25519HpkeSha256ChaCha20Poly1305;
  if (name == kSuiteX448) return Suite::kX448HpkeSha512Aes256Gcm;
  return std::nullopt;
}

// The short names the command line takes: p256, x25519, x448.
inline std::optional<Suite> ParseSuiteFlag(std::string_view flag) {
  if (flag == "p256") return Suite::kP256HpkeSha256Aes128Gcm;
  if (flag == "x25519") return Suite::kX25519HpkeSha256ChaCha20Poly1305;
  if (flag == "x448") return Suite::kX448HpkeSha512Aes256Gcm;
  return std::nullopt;
}

// The short name ParseSuiteFlag takes.
inline std::string_view SuiteFlag(Suite s) {
  switch (s) {
    case Suite::kP256HpkeSha256Aes128Gcm: return "p256";
    case Suite::kX25519HpkeSha256ChaCha20Poly1305: return "x25519";
    case Suite::kX448HpkeSha512Aes256Gcm: return "x448";
  }
  return {};
}

inline Group SuiteGroup(Suite s) {
  switch (s) {
    case Suite::kP256HpkeSha256Aes128Gcm: return Group::kP256;
    case Suite::kX25519HpkeSha256ChaCha20Poly1305: return Group::kEd25519;
    case Suite::kX448HpkeSha512Aes256Gcm: return Group::kEd448;
  }
  return Group::kP256;
}

inline Suite SuiteOfGroup(Group g) {
  switch (g) {
    case Group::kP256: return Suite::kP256HpkeSha256Aes128Gcm;
    case Group::kEd25519: return Suite::kX25519HpkeSha256ChaCha20Poly1305;
    case Group::kEd448: return Suite::kX448HpkeSha512Aes256Gcm;
  }
  return Suite::kP256HpkeSha256Aes128Gcm;
}

// HPKE parameters of DESIGN.md section 3: info is fixed, aad is the device-key UDF text.
inline constexpr std::string_view kHpkeInfo = "vouch enrolling voucher v1";

}  // namespace vouch
