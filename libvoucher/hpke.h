// HPKE (RFC 9180) base mode for the one suite vouch's mandatory crypto suite uses:
// KEM 0x0010 DHKEM(P-256, HKDF-SHA256), KDF 0x0001 HKDF-SHA256, AEAD 0x0001 AES-128-GCM.
//
// OpenSSL 3.0 has no HPKE API, so this file composes its primitives (ECDH, HMAC, HKDF-Expand,
// AES-GCM) exactly as RFC 9180 sections 4, 5 and 7.1 write them; the names below follow the
// RFC's so each function can be read beside its pseudo-code. Every secret (DH output,
// shared_secret, key, base_nonce, exporter_secret) lives in SecretBytes and is wiped.
// Vectors: tests/vectors/rfc9180-p256-sha256-aes128gcm-base.txt (RFC 9180 appendix A.3.1).
#pragma once

#include <cstdint>

#include "libvoucher/bytes.h"
#include "libvoucher/key.h"
#include "libvoucher/status.h"

namespace vouch::hpke {

inline constexpr uint16_t kKemP256 = 0x0010;
inline constexpr uint16_t kKdfHkdfSha256 = 0x0001;
inline constexpr uint16_t kAeadAes128Gcm = 0x0001;
inline constexpr size_t kEncSize = 65;   // Nenc: an uncompressed P-256 point
inline constexpr size_t kTagSize = 16;   // Nt
inline constexpr size_t kMaxInputSize = 1 << 20;  // caps info, aad, pt, ct and exports

// DeriveKeyPair(ikm), RFC 9180 section 7.1.3: deterministic keys for the test vectors.
Result<PrivateKey> DeriveKeyPair(ByteView ikm);

// Encap / Decap, RFC 9180 section 4.1. `ephemeral` fixes skE (test vectors only); by default
// a fresh one is generated.
struct Encapsulation {
  Bytes enc;
  SecretBytes shared_secret;
};
Result<Encapsulation> Encap(const PublicKey& pkR, const PrivateKey* ephemeral = nullptr);
Result<SecretBytes> Decap(ByteView enc, const PrivateKey& skR);

// The encryption context of RFC 9180 section 5.2. Move-only; each Seal/Open advances the
// sequence number, and the context refuses to wrap it.
class Context {
 public:
  Result<Bytes> Seal(ByteView aad, ByteView pt);
  Result<SecretBytes> Open(ByteView aad, ByteView ct);
  Result<SecretBytes> Export(ByteView exporter_context, size_t length) const;

  ByteView key() const { return key_.view(); }
  ByteView base_nonce() const { return base_nonce_.view(); }
  ByteView exporter_secret() const { return exporter_secret_.view(); }
  uint64_t sequence() const { return seq_; }

 private:
  friend Result<Context> KeyScheduleBase(ByteView shared_secret, ByteView info);
  Bytes Nonce() const;
  SecretBytes key_, base_nonce_, exporter_secret_;
  uint64_t seq_ = 0;
};

// KeySchedule(mode_base, shared_secret, info, "", ""), RFC 9180 section 5.1.
Result<Context> KeyScheduleBase(ByteView shared_secret, ByteView info);

struct Sender {
  Bytes enc;
  Context context;
};
Result<Sender> SetupBaseS(const PublicKey& pkR, ByteView info, const PrivateKey* ephemeral = nullptr);
Result<Context> SetupBaseR(ByteView enc, const PrivateKey& skR, ByteView info);

// Single-shot API, RFC 9180 section 6.1.
struct Sealed {
  Bytes enc;
  Bytes ct;
};
Result<Sealed> Seal(const PublicKey& pkR, ByteView info, ByteView aad, ByteView pt);
// kDecryptFailed for any wrong key, enc, info, aad or ct; no other detail is given.
Result<SecretBytes> Open(const PrivateKey& skR, ByteView enc, ByteView info, ByteView aad, ByteView ct);

}  // namespace vouch::hpke
