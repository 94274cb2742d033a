// SHA-256 for the callers above libvoucher/ that need a plain digest (the transparency
// log's Merkle tree and signed-note key ids), so that formats/ calls no OpenSSL.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch {

inline constexpr size_t kSha256Size = 32;
using Sha256Digest = std::array<uint8_t, kSha256Size>;

// SHA-256 of the concatenation of `parts`; taking parts saves callers a copy when they hash
// a prefix byte and two child hashes. kCrypto only if OpenSSL itself fails.
Result<Sha256Digest> Sha256(std::initializer_list<ByteView> parts);
inline Result<Sha256Digest> Sha256(ByteView data) { return Sha256({data}); }

}  // namespace vouch
