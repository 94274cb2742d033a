// Co-generation keys: the device key X, the contributions Y_i, the combined key Z, in any of
// the three groups of DESIGN.md section 3 (libvoucher/group.h). P-256 keys also sign (the
// owner's domain CA, ES256 signers).
//
// A PublicKey always holds a valid point (canonical, in the prime-order group, not the
// identity) and always encodes in the canonical form DESIGN.md section 4 fingerprints: a DER
// SubjectPublicKeyInfo, id-ecPublicKey/prime256v1 with the uncompressed point (91 bytes) for
// P-256, id-Ed25519 (44 bytes) or id-Ed448 (69 bytes, RFC 8410) for the Edwards groups,
// whatever form it was read from. The Edwards form keeps the point's sign, which Z = X + Y
// needs; the X25519/X448 key HPKE encrypts to is derived from it (KemKey).
//
// A PrivateKey holds a scalar in [1, order-1] and its public key. On disk a P-256 key is a
// PKCS#8 EC key; an Edwards key is a PKCS#8 X25519 or X448 key (libvoucher/montgomery.h),
// so that `openssl pkeyutl -derive` can use it. Such a file fixes the scalar only up to sign:
// a key made by Generate is always the + sign, and a co-generated z is read with its public
// key Z (FromPem's `expected`). Both classes are cheap to copy (shared, immutable state) and
// safe to share across threads.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "libvoucher/bytes.h"
#include "libvoucher/file.h"
#include "libvoucher/group.h"
#include "libvoucher/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace vouch {

inline constexpr size_t kSpkiDerSize = 91;  // a P-256 key's
inline constexpr size_t kMaxKeyFileSize = 64 * 1024;

class PublicKey {
 public:
  // SEC1 point bytes, compressed or uncompressed (P-256).
  static Result<PublicKey> FromPoint(ByteView sec1);
  // A point in its group's encoding (group.h); P-256 also takes a compressed point.
  static Result<PublicKey> FromPoint(Group g, ByteView point);
  // DER SubjectPublicKeyInfo: an EC key on P-256, an Ed25519 or an Ed448 key.
  static Result<PublicKey> FromSpkiDer(ByteView der);
  // PEM "PUBLIC KEY", PEM private key (its public half), DER SPKI, or base64 of DER SPKI.
  static Result<PublicKey> Parse(ByteView bytes);

  Group group() const { return group_; }
  const Bytes& point() const { return point_; }  // the group's encoding (65, 32 or 57 bytes)
  Bytes SpkiDer() const;                          // canonical
  std::string Pem() const;
  std::string Fingerprint(int bits = 140) const;  // UDF of SpkiDer(), content type PKIXKey
  // Borrowed; built on first use (most public keys vouch handles are only encoded and
  // fingerprinted). An EC, ED25519 or ED448 key. Null only if OpenSSL cannot allocate.
  EVP_PKEY* pkey() const;
  // Borrowed: the key HPKE encrypts to (libvoucher/hpke.h): the P-256 key itself, or the
  // X25519 / X448 key of the point's Montgomery form. Null only if OpenSSL cannot allocate.
  EVP_PKEY* KemKey() const;

  bool operator==(const PublicKey& o) const { return group_ == o.group_ && point_ == o.point_; }

 private:
  friend class PrivateKey;  // shares its key pair's EVP_PKEY as the public key
  struct Lazy;
  std::shared_ptr<Lazy> lazy_;
  Group group_ = Group::kP256;
  Bytes point_;
};

class PrivateKey {
 public:
  static Result<PrivateKey> Generate(Group g = Group::kP256);
  // 32-byte big-endian scalar in [1, n-1] (P-256).
  static Result<PrivateKey> FromScalar(ByteView be32);
  // A scalar in its group's encoding (group.h).
  static Result<PrivateKey> FromScalar(Group g, ByteView scalar);
  // PEM PKCS#8 "PRIVATE KEY" (or SEC1 "EC PRIVATE KEY"), unencrypted: a P-256 key, or an
  // X25519/X448 key standing for an Edwards scalar. `expected`, when given, is the public key
  // the file must hold; for an X25519/X448 file it also settles the scalar's sign (else +).
  static Result<PrivateKey> FromPem(ByteView pem, const PublicKey* expected = nullptr);

  Group group() const { return public_.group(); }
  SecretBytes Scalar() const;       // the group's encoding
  SecretBytes Pkcs8Pem() const;     // what SavePrivateKey writes
  const PublicKey& Public() const { return public_; }
  // Borrowed, never null: the P-256 EC key pair, or the X25519/X448 key (montgomery.h).
  EVP_PKEY* pkey() const { return pkey_.get(); }
  // Borrowed: the key HPKE decapsulates with. The same as pkey().
  EVP_PKEY* KemKey() const { return pkey_.get(); }

 private:
  std::shared_ptr<EVP_PKEY> pkey_;
  std::shared_ptr<const SecretBytes> scalar_;  // Edwards groups only (P-256's lives in pkey_)
  PublicKey public_;
};

// PKCS#8 PEM of any OpenSSL private key, in wiped memory; empty when OpenSSL cannot encode it
// (SavePrivatePem then reports kCrypto with OpenSSL's reason). The one encoder of private key
// files: co-generation keys, signing keys and log keys alike.
SecretBytes PrivateKeyPem(EVP_PKEY* pkey);

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
Result<PrivateKey> LoadPrivateKey(const std::filesystem::path& path, const PublicKey* expected = nullptr);
Status SavePublicKey(const std::filesystem::path& path, const PublicKey& key,
                     Overwrite overwrite = Overwrite::kYes);
Result<PublicKey> LoadPublicKey(const std::filesystem::path& path);

}  // namespace vouch
