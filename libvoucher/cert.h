// X.509 certificates: reading them, the checks vouch needs, and issuing the few it makes
// (the owner's certificate for Z; CA certificates for `vouch demo` and tests).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libvoucher/bytes.h"
#include "libvoucher/construction.h"
#include "libvoucher/key.h"
#include "libvoucher/signing_key.h"
#include "libvoucher/status.h"
#include "libvoucher/instant.h"

typedef struct x509_st X509;

namespace vouch {

inline constexpr size_t kMaxCertificateSize = 16 * 1024;
inline constexpr size_t kMaxCertificateFileSize = 256 * 1024;

class Certificate {
 public:
  static Result<Certificate> FromDer(ByteView der);  // the whole input must be one certificate
  // Every certificate in a PEM text (at least one); also accepts a single DER certificate.
  static Result<std::vector<Certificate>> ParseAll(ByteView pem_or_der);
  // Shares an OpenSSL handle (takes a new reference; the caller keeps its own).
  static Certificate Share(X509* x);

  Bytes Der() const;
  std::string Pem() const;
  std::string Subject() const;  // one line, RFC 2253 order: "CN=owner CA,O=Example"
  std::string Issuer() const;
  Instant NotBefore() const;
  Instant NotAfter() const;
  // The subject key when it is a P-256, Ed25519 or Ed448 key; kUnsupported otherwise.
  Result<PublicKey> Key() const;
  EVP_PKEY* pkey() const;  // borrowed; any key type
  X509* x509() const { return x509_.get(); }

  // True when `issuer`'s subject is this certificate's issuer and its key verifies this
  // certificate's signature. Nothing about time or path length: see trust.h for paths.
  bool IssuedBy(const Certificate& issuer) const;

  // True when both certify the same public key (any key type): a CA renewed under its old key
  // is the same party.
  bool SameKey(const Certificate& other) const;

  bool operator==(const Certificate& o) const { return Der() == o.Der(); }

 private:
  std::shared_ptr<X509> x509_;
};

Result<std::vector<Certificate>> LoadCertificates(const std::filesystem::path& path);
Status SaveCertificates(const std::filesystem::path& path, const std::vector<Certificate>& certs);

// keyUsage bits for CertSpec::key_usage (RFC 5280 section 4.2.1.3).
namespace key_usage {
inline constexpr unsigned kDigitalSignature = 1u << 0;
inline constexpr unsigned kNonRepudiation = 1u << 1;
inline constexpr unsigned kKeyEncipherment = 1u << 2;
inline constexpr unsigned kKeyAgreement = 1u << 3;
inline constexpr unsigned kKeyCertSign = 1u << 4;
inline constexpr unsigned kCrlSign = 1u << 5;
}  // namespace key_usage

// What to put in a certificate vouch issues.
struct CertSpec {
  std::string common_name;
  std::string serial_number;  // the subject's serialNumber attribute (2.5.4.5); optional
  std::string organization;   // optional
  bool ca = false;            // basicConstraints CA:TRUE and keyCertSign, else a leaf
  Instant not_before = Instant::Now().Plus(-300);  // five minutes of clock skew
  int64_t days = 365;
  // keyUsage (critical): unset means the default for `ca` (a CA: keyCertSign, cRLSign and
  // digitalSignature, so it may sign vouchers itself; a leaf: digitalSignature); 0 omits the
  // extension. Voucher-signing authority depends on it (libvoucher/authority.h).
  std::optional<unsigned> key_usage = std::nullopt;
  // extendedKeyUsage OIDs, dotted (not critical); empty omits the extension. A voucher
  // signer under an owner needs kVoucherSigningEku; a certificate for Z gets kClientAuthEku.
  std::vector<std::string> extended_key_usage = {};
  // The construction extension (construction.h, not critical): certificates for Z only.
  std::optional<Construction> construction = std::nullopt;
};

// The notAfter of a DER certificate, read from its validity field alone (RFC 5280 4.1): the
// TLVs before it are stepped over, nothing else is decoded and no key is parsed. For readers
// that need only the expiry of certificates checked once already (`vouch cache status` over a
// fleet: OpenSSL 3.0 decodes the subject key of every certificate it parses, through decoders
// that serialise threads on a lock, at some 20 times the cost). kMalformed when the TLVs on
// the way are not a certificate's.
Result<Instant> CertificateNotAfter(ByteView der);

Result<Certificate> SelfSign(const PrivateKey& key, const CertSpec& spec);
// A certificate for `subject_key` signed by `issuer_key`, whose certificate is `issuer`.
Result<Certificate> IssueCertificate(const Certificate& issuer, const PrivateKey& issuer_key,
                                     const PublicKey& subject_key, const CertSpec& spec);
// The same, as DER only: for issuers that just embed it (parsing it back costs more than
// signing it in OpenSSL 3.0).
Result<Bytes> IssueCertificateDer(const Certificate& issuer, const PrivateKey& issuer_key,
                                  const PublicKey& subject_key, const CertSpec& spec);

// The same for envelope signers' keys of any type (P-256, P-384, Ed25519, Ed448), as subject
// and as issuer: signer PKIs for tests and tools. Signed with the issuer key's digest
// (SHA-256, SHA-384, none for EdDSA: RFC 8410 6).
Result<Certificate> SelfSign(const SigningKey& key, const CertSpec& spec);
Result<Certificate> IssueCertificate(const Certificate& issuer, const SigningKey& issuer_key,
                                     const SigningKey& subject_key, const CertSpec& spec);

}  // namespace vouch
