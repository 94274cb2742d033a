// HPKE (RFC 9180) base mode for the three cipher suites of DESIGN.md section 3:
//
//   P-256   KEM 0x0010 DHKEM(P-256, HKDF-SHA256)  KDF 0x0001 HKDF-SHA256  AEAD 0x0001 AES-128-GCM
//   X25519  KEM 0x0020 DHKEM(X25519, HKDF-SHA256) KDF 0x0001 HKDF-SHA256  AEAD 0x0003 ChaCha20Poly1305
//   X448    KEM 0x0021 DHKEM(X448, HKDF-SHA512)   KDF 0x0003 HKDF-SHA512  AEAD 0x0002 AES-256-GCM
//
// OpenSSL 3.0 has no HPKE API, so this file composes its primitives (ECDH, X25519, X448, HMAC,
// HKDF-Expand, AES-GCM, ChaCha20-Poly1305) exactly as RFC 9180 sections 4, 5 and 7.1 write
// them; the names below follow the RFC's so each function can be read beside its pseudo-code.
// Every secret (DH output, shared_secret, key, base_nonce, exporter_secret, serialized private
// keys) lives in SecretBytes and is wiped.
//
// Keys are OpenSSL EVP_PKEYs of the suite's type: EC on P-256 (prime256v1), X25519 or X448.
// Every function refuses a key of another type with kInvalidKey, and a null key with kUsage,
// before it uses it; a recipient key without its private half is kInvalidKey too. Key arguments are
// borrowed; keys returned are owned (KeyPtr). The P-256 overloads on PublicKey / PrivateKey
// (key.h) are the same functions with the P-256 suite.
//
// Vectors: tests/vectors/rfc9180-p256-sha256-aes128gcm-base.txt and
// rfc9180-x25519-sha256-chacha20poly1305-base.txt (RFC 9180 appendices A.3.1 and A.2.1). RFC
// 9180 has no X448 vectors: tests/integration/hpke_x448.sh checks X448 against hpke-js.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "libvoucher/bytes.h"
#include "libvoucher/key.h"
#include "libvoucher/status.h"

namespace vouch::hpke {

inline constexpr uint16_t kKemP256 = 0x0010;
inline constexpr uint16_t kKemX25519 = 0x0020;
inline constexpr uint16_t kKemX448 = 0x0021;
inline constexpr uint16_t kKdfHkdfSha256 = 0x0001;
inline constexpr uint16_t kKdfHkdfSha512 = 0x0003;
inline constexpr uint16_t kAeadAes128Gcm = 0x0001;
inline constexpr uint16_t kAeadAes256Gcm = 0x0002;
inline constexpr uint16_t kAeadChaCha20Poly1305 = 0x0003;
inline constexpr size_t kEncSize = 65;   // Nenc of the P-256 suite: an uncompressed point
inline constexpr size_t kTagSize = 16;   // Nt, the same for all three AEADs
inline constexpr size_t kMaxInputSize = 1 << 20;  // caps info, aad, pt, ct and exports

// One cipher suite: its RFC 9180 identifiers and the sizes they fix (sections 7.1-7.3). Use
// the three constants below; any other value is refused as kUsage.
struct CipherSuite {
  std::string_view name;  // as DESIGN.md section 3 names the vouch suite built on it
  uint16_t kem_id, kdf_id, aead_id;
  size_t n_secret;  // Nsecret: the KEM's shared secret
  size_t n_enc;     // Nenc = Npk: a serialized public key
  size_t n_sk;      // Nsk: a serialized private key
  size_t n_h;       // Nh of the KDF
  size_t n_k, n_n, n_t;  // the AEAD's key, nonce and tag
  bool operator==(const CipherSuite&) const = default;
};

inline constexpr CipherSuite kP256Sha256Aes128Gcm = {
    "P256-HPKE-SHA256-AES128GCM", kKemP256, kKdfHkdfSha256, kAeadAes128Gcm, 32, 65, 32, 32, 16, 12, 16};
inline constexpr CipherSuite kX25519Sha256ChaCha20Poly1305 = {
    "X25519-HPKE-SHA256-CHACHA20POLY1305", kKemX25519, kKdfHkdfSha256, kAeadChaCha20Poly1305, 32, 32, 32, 32, 32, 12, 16};
inline constexpr CipherSuite kX448Sha512Aes256Gcm = {
    "X448-HPKE-SHA512-AES256GCM", kKemX448, kKdfHkdfSha512, kAeadAes256Gcm, 64, 56, 56, 64, 32, 12, 16};
inline constexpr const CipherSuite* kSuites[] = {&kP256Sha256Aes128Gcm, &kX25519Sha256ChaCha20Poly1305,
                                                 &kX448Sha512Aes256Gcm};

// The suite with this name, or null.
const CipherSuite* FindSuite(std::string_view name);

// An owned EVP_PKEY (freed with EVP_PKEY_free).
struct KeyFree {
  void operator()(EVP_PKEY* key) const;
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// GenerateKeyPair(), RFC 9180 section 4: a fresh key pair of the suite's KEM.
Result<KeyPtr> GenerateKeyPair(const CipherSuite& suite);
// DeriveKeyPair(ikm), RFC 9180 section 7.1.3: deterministic keys for the test vectors.
Result<KeyPtr> DeriveKeyPair(const CipherSuite& suite, ByteView ikm);
Result<PrivateKey> DeriveKeyPair(ByteView ikm);  // P-256

// Serialize/DeserializePublicKey, RFC 9180 section 7.1.1: the uncompressed P-256 point (65
// bytes; a compressed one is refused), or the raw X25519 (32) / X448 (56) u-coordinate.
// Deserializing refuses a wrong size or a point off the curve as kInvalidKey; any 32 or 56
// bytes are an X25519 or X448 key (small-order ones are caught by DH, see Encap and Decap).
Result<Bytes> SerializePublicKey(const CipherSuite& suite, EVP_PKEY* pk);
Result<KeyPtr> DeserializePublicKey(const CipherSuite& suite, ByteView pkm);
// Serialize/DeserializePrivateKey, RFC 9180 section 7.1.2: the 32-byte big-endian P-256
// scalar in [1, n-1], or the X25519 / X448 scalar clamped as that section requires.
Result<SecretBytes> SerializePrivateKey(const CipherSuite& suite, EVP_PKEY* sk);
Result<KeyPtr> DeserializePrivateKey(const CipherSuite& suite, ByteView skm);

// Encap / Decap, RFC 9180 section 4.1. `ephemeral` fixes skE (test vectors only); by default
// a fresh one is generated. An X25519 / X448 DH output of all zeros (pkR of small order) is
// refused as RFC 9180 section 7.1.4 requires: Encap says kInvalidKey (the recipient's key is
// unusable), Decap kDecryptFailed (like any other bad enc).
struct Encapsulation {
  Bytes enc;
  SecretBytes shared_secret;
};
Result<Encapsulation> Encap(const CipherSuite& suite, EVP_PKEY* pkR, EVP_PKEY* ephemeral = nullptr);
Result<SecretBytes> Decap(const CipherSuite& suite, ByteView enc, EVP_PKEY* skR);
Result<Encapsulation> Encap(const PublicKey& pkR, const PrivateKey* ephemeral = nullptr);  // P-256
Result<SecretBytes> Decap(ByteView enc, const PrivateKey& skR);                            // P-256

class Context;
// KeySchedule(mode_base, shared_secret, info, "", ""), RFC 9180 section 5.1.
Result<Context> KeyScheduleBase(const CipherSuite& suite, ByteView shared_secret, ByteView info);
Result<Context> KeyScheduleBase(ByteView shared_secret, ByteView info);  // P-256

// The encryption context of RFC 9180 section 5.2. Move-only; each Seal/Open advances the
// sequence number, and the context refuses to wrap it.
class Context {
 public:
  Result<Bytes> Seal(ByteView aad, ByteView pt);
  // kDecryptFailed for any wrong key, enc, info, aad or ct; no other detail is given.
  Result<SecretBytes> Open(ByteView aad, ByteView ct);
  // Secret export, RFC 9180 section 5.3; kUsage past 255 * Nh bytes.
  Result<SecretBytes> Export(ByteView exporter_context, size_t length) const;

  const CipherSuite& suite() const { return suite_; }
  ByteView key() const { return key_.view(); }
  ByteView base_nonce() const { return base_nonce_.view(); }
  ByteView exporter_secret() const { return exporter_secret_.view(); }
  uint64_t sequence() const { return seq_; }

 private:
  friend Result<Context> KeyScheduleBase(const CipherSuite&, ByteView, ByteView);
  Bytes Nonce() const;
  CipherSuite suite_ = kP256Sha256Aes128Gcm;  // a copy: the caller's may not outlive us
  SecretBytes key_, base_nonce_, exporter_secret_;
  uint64_t seq_ = 0;
};

struct Sender {
  Bytes enc;
  Context context;
};
Result<Sender> SetupBaseS(const CipherSuite& suite, EVP_PKEY* pkR, ByteView info, EVP_PKEY* ephemeral = nullptr);
Result<Context> SetupBaseR(const CipherSuite& suite, ByteView enc, EVP_PKEY* skR, ByteView info);
Result<Sender> SetupBaseS(const PublicKey& pkR, ByteView info, const PrivateKey* ephemeral = nullptr);  // P-256
Result<Context> SetupBaseR(ByteView enc, const PrivateKey& skR, ByteView info);                        // P-256

// Single-shot API, RFC 9180 section 6.1.
struct Sealed {
  Bytes enc;
  Bytes ct;
};
Result<Sealed> Seal(const CipherSuite& suite, EVP_PKEY* pkR, ByteView info, ByteView aad, ByteView pt);
// kDecryptFailed for any wrong key, enc, info, aad or ct; no other detail is given.
Result<SecretBytes> Open(const CipherSuite& suite, EVP_PKEY* skR, ByteView enc, ByteView info, ByteView aad,
                         ByteView ct);
Result<Sealed> Seal(const PublicKey& pkR, ByteView info, ByteView aad, ByteView pt);  // P-256
// The same as Seal on the P-256 suite, to the 65-byte uncompressed point `pkRm` (a PublicKey's
// point(), checked on the curve here) with no EVP_PKEY made for it or the ephemeral key.
Result<Sealed> SealToPoint(ByteView pkRm, ByteView info, ByteView aad, ByteView pt);
Result<SecretBytes> Open(const PrivateKey& skR, ByteView enc, ByteView info, ByteView aad, ByteView ct);  // P-256

}  // namespace vouch::hpke
