// P-256 keys: the device key X, the owner's contribution Y, the combined key Z, signer keys.
//
// A PublicKey always holds a valid point (on the curve, not infinity) and always encodes in
// the canonical form DESIGN.md section 4 fingerprints: SubjectPublicKeyInfo with
// id-ecPublicKey, the named curve prime256v1 and the uncompressed point (91 bytes DER),
// whatever form it was read from. A PrivateKey holds a scalar in [1, n-1] and its public key.
// Both are cheap to copy (shared, immutable OpenSSL handles) and safe to share across threads.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "libvoucher/bytes.h"
#include "libvoucher/file.h"
#include "libvoucher/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace vouch {

inline constexpr size_t kSpkiDerSize = 91;
inline constexpr size_t kMaxKeyFileSize = 64 * 1024;

class PublicKey {
 public:
  // SEC1 point bytes, compressed or uncompressed.
  static Result<PublicKey> FromPoint(ByteView sec1);
  // DER SubjectPublicKeyInfo. Any EC key on P-256 is accepted and re-encoded canonically.
  static Result<PublicKey> FromSpkiDer(ByteView der);
  // PEM "PUBLIC KEY", PEM private key (its public half), DER SPKI, or base64 of DER SPKI.
  static Result<PublicKey> Parse(ByteView bytes);

  const Bytes& point() const { return point_; }  // 65 bytes, uncompressed
  Bytes SpkiDer() const;                          // canonical, 91 bytes
  std::string Pem() const;
  std::string Fingerprint(int bits = 140) const;  // UDF of SpkiDer(), content type PKIXKey
  // Borrowed. Built on first use: most public keys vouch handles (Z, device keys in a
  // batch) are only encoded and fingerprinted, and building an EVP_PKEY costs more than
  // checking the point. Null only if OpenSSL cannot allocate.
  EVP_PKEY* pkey() const;

  bool operator==(const PublicKey& o) const { return point_ == o.point_; }

 private:
  friend class PrivateKey;  // shares its key pair's EVP_PKEY as the public key
  struct Lazy;
  std::shared_ptr<Lazy> lazy_;
  Bytes point_;
};

class PrivateKey {
 public:
  static Result<PrivateKey> Generate();
  // 32-byte big-endian scalar in [1, n-1].
  static Result<PrivateKey> FromScalar(ByteView be32);
  // PEM PKCS#8 "PRIVATE KEY" (or SEC1 "EC PRIVATE KEY"), unencrypted, P-256 only.
  static Result<PrivateKey> FromPem(ByteView pem);

  SecretBytes Scalar() const;       // 32 bytes, big-endian
  SecretBytes Pkcs8Pem() const;     // what SavePrivateKey writes
  const PublicKey& Public() const { return public_; }
  EVP_PKEY* pkey() const { return pkey_.get(); }  // borrowed, never null

 private:
  std::shared_ptr<EVP_PKEY> pkey_;
  PublicKey public_;
};

// Writes a private key's PEM (empty when its encoding failed: kCrypto) atomically with mode
// 0600. The one writer of private key files, for P-256 and Ed25519 keys alike.
Status SavePrivatePem(const std::filesystem::path& path, const SecretBytes& pem, Overwrite overwrite);

// Reads a private key file (at most kMaxKeyFileSize, into wiped memory) and parses it with
// `from_pem`; a refusal names the file. The one reader of private key files.
template <class Key, class FromPem>
Result<Key> LoadPrivateKeyFile(const std::filesystem::path& path, FromPem from_pem) {
  VOUCH_ASSIGN_OR_RETURN(SecretBytes pem, ReadSecretFile(path, kMaxKeyFileSize));
  Result<Key> key = from_pem(pem.view());
  if (!key.ok()) return key.status().Context(path.string());
  return key;
}

// Writes PKCS#8 PEM atomically with mode 0600.
Status SavePrivateKey(const std::filesystem::path& path, const PrivateKey& key,
                      Overwrite overwrite = Overwrite::kNo);
Result<PrivateKey> LoadPrivateKey(const std::filesystem::path& path);
Status SavePublicKey(const std::filesystem::path& path, const PublicKey& key,
                     Overwrite overwrite = Overwrite::kYes);
Result<PublicKey> LoadPublicKey(const std::filesystem::path& path);

}  // namespace vouch
