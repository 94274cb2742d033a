// Envelope signing keys (DESIGN.md section 3, "Signatures on envelopes"): who signs a JWS or
// CMS voucher, and the one check of a JWS signature against a certificate's key.
//
//   key                     JWS alg (RFC 7518 3.4, RFC 8037 3.1)   signature bytes (JWS form)
//   EC P-256 (prime256v1)   ES256  ECDSA with SHA-256             64: r || s, 32 bytes each
//   EC P-384 (secp384r1)    ES384  ECDSA with SHA-384             96: r || s, 48 bytes each
//   Ed25519                 EdDSA  pure Ed25519, no context        64
//   Ed448                   EdDSA  pure Ed448, empty context       114
//
// The algorithm follows from the key and nothing else: a SigningKey has exactly one, and a
// verifier takes the algorithm a JWS header names only as a claim to be checked against the
// certificate's key (no algorithm confusion: ES256 is verified with a P-256 key only, and so
// on). A SigningKey is immutable, cheap to copy (a shared OpenSSL handle) and safe to share
// across threads.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "libvoucher/bytes.h"
#include "libvoucher/file.h"
#include "libvoucher/key.h"
#include "libvoucher/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace vouch {

enum class SignatureAlg { kEs256, kEs384, kEd25519, kEd448 };

inline constexpr SignatureAlg kSignatureAlgs[] = {SignatureAlg::kEs256, SignatureAlg::kEs384, SignatureAlg::kEd25519,
                                                  SignatureAlg::kEd448};

// "ES256", "ES384", "EdDSA", "EdDSA": the JWS `alg` (EdDSA names both curves, RFC 8037 3.1).
std::string_view JwsAlgName(SignatureAlg alg);
// "P-256", "P-384", "Ed25519", "Ed448": the key type, as messages and flags name it.
std::string_view KeyTypeName(SignatureAlg alg);
// Parses KeyTypeName, case-insensitively ("p256", "P-256", "ed25519", ...); kUsage otherwise.
Result<SignatureAlg> SignatureAlgFromName(std::string_view name);
// The length of a signature in its JWS form: 64, 96, 64, 114.
size_t SignatureSize(SignatureAlg alg);

// What a public or private key can sign with. kUnsupported (naming the key type or curve)
// for anything else: RSA, DSA, X25519, EC keys on other curves.
Result<SignatureAlg> SignatureAlgOf(EVP_PKEY* key);

class SigningKey {
 public:
  static Result<SigningKey> Generate(SignatureAlg alg);
  // Unencrypted PEM PKCS#8 "PRIVATE KEY" of any of the four, or SEC1 "EC PRIVATE KEY" (what
  // `openssl ecparam -genkey` writes). kMalformed for other PEM (a certificate, a public or an
  // encrypted key), kUnsupported for another key type or curve.
  static Result<SigningKey> FromPem(ByteView pem);
  // Every P-256 key is an ES256 signer: implicit, so that formats::Signer{p256_key, chain}
  // and the other P-256 call sites keep reading as they did. Shares the key's handle.
  SigningKey(const PrivateKey& p256);  // NOLINT(google-explicit-constructor)

  SignatureAlg alg() const { return alg_; }
  std::string_view JwsAlg() const { return JwsAlgName(alg_); }
  SecretBytes Pkcs8Pem() const;  // what SaveSigningKey writes; empty when encoding failed
  EVP_PKEY* pkey() const { return pkey_.get(); }  // borrowed, never null

  // The JWS form of a signature over `message` (table above). kCrypto only.
  Result<Bytes> Sign(ByteView message) const;
  // True when `public_key` (a certificate's, say) is this key's public half.
  bool IsKeyOf(EVP_PKEY* public_key) const;

 private:
  SigningKey(std::shared_ptr<EVP_PKEY> pkey, SignatureAlg alg) : pkey_(std::move(pkey)), alg_(alg) {}
  std::shared_ptr<EVP_PKEY> pkey_;
  SignatureAlg alg_;
};

// Checks a JWS signature (`raw`, in the form of the table above) by `key`, a certificate's
// public key, for the header's `jws_alg`:
//   kUnsupported   jws_alg is none of ES256, ES384, EdDSA ("none", "HS256", "RS256", ...);
//   kBadSignature  the key is not one jws_alg is made with (ES256 with a P-384, Ed25519 or
//                  RSA key; EdDSA with an EC key, ...), the signature has the wrong length or
//                  encoding, or it does not verify.
// A mismatch is a bad signature, not an unsupported one: the header claims that this key made
// an <alg> signature, and that claim is false whatever the bytes are.
Status VerifyJwsSignature(EVP_PKEY* key, std::string_view jws_alg, ByteView message, ByteView raw);

// ECDSA signatures between the JWS form (r || s, each left-padded to `half` bytes: 32 for
// P-256, 48 for P-384) and the DER ECDSA-Sig-Value CMS and X.509 carry. kBadSignature for
// a malformed input or values longer than `half`.
Result<Bytes> EcdsaDerToRaw(ByteView der, size_t half);
Result<Bytes> EcdsaRawToDer(ByteView raw, size_t half);

// PKCS#8 PEM through the one writer of private key files (key.h): atomic, mode 0600.
Status SaveSigningKey(const std::filesystem::path& path, const SigningKey& key, Overwrite overwrite = Overwrite::kNo);
// Through the one reader (key.h); a refusal names the file.
Result<SigningKey> LoadSigningKey(const std::filesystem::path& path);

}  // namespace vouch
