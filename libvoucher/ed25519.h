// Ed25519 (RFC 8032, pure, no context) for the transparency log's keys: the log signs its
// checkpoints and witnesses cosign them with Ed25519, as c2sp.org/signed-note and
// c2sp.org/tlog-cosignature require. Keys travel raw (32-byte public key, 32-byte seed)
// inside note key texts; on disk a private key is PKCS#8 PEM, mode 0600, like P-256 keys.
#pragma once

#include <filesystem>
#include <memory>

#include "libvoucher/bytes.h"
#include "libvoucher/file.h"
#include "libvoucher/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace vouch::ed25519 {

inline constexpr size_t kPublicKeySize = 32;
inline constexpr size_t kSeedSize = 32;
inline constexpr size_t kSignatureSize = 64;

class PrivateKey {
 public:
  static Result<PrivateKey> Generate();
  // The 32-byte RFC 8032 private key (what Go calls the seed).
  static Result<PrivateKey> FromSeed(ByteView seed);
  // PEM PKCS#8 "PRIVATE KEY" of an Ed25519 key, unencrypted; any other key type is kInvalidKey.
  static Result<PrivateKey> FromPem(ByteView pem);

  const Bytes& PublicKey() const { return public_; }  // 32 bytes
  SecretBytes Seed() const;                           // 32 bytes
  SecretBytes Pkcs8Pem() const;                       // what SavePrivateKey writes
  Result<Bytes> Sign(ByteView message) const;         // 64 bytes

 private:
  // Takes ownership of `pkey`, checking it is Ed25519; every factory ends here.
  static Result<PrivateKey> Adopt(EVP_PKEY* pkey);

  std::shared_ptr<EVP_PKEY> pkey_;  // immutable once built, so copies may share it
  Bytes public_;
};

// kBadSignature when the signature does not verify or is not 64 bytes; kInvalidKey when the
// public key is not 32 bytes or OpenSSL refuses it.
Status Verify(ByteView public_key, ByteView message, ByteView signature);

// PKCS#8 PEM, written atomically with mode 0600 (WriteFileAtomic creates it so).
Status SavePrivateKey(const std::filesystem::path& path, const PrivateKey& key,
                      Overwrite overwrite = Overwrite::kNo);
Result<PrivateKey> LoadPrivateKey(const std::filesystem::path& path);

}  // namespace vouch::ed25519
