// CMS SignedData (RFC 5652) through OpenSSL's CMS API, which vouch calls from here only. The
// voucher's rules on top (which content types, exactly one signer, paths to anchors, who may
// sign) are formats/cms.cpp's; this file knows DER and signatures, not vouchers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "libvoucher/bytes.h"
#include "libvoucher/cert.h"
#include "libvoucher/signing_key.h"
#include "libvoucher/ossl/handles.h"
#include "libvoucher/status.h"

namespace vouch::ossl {

inline constexpr const char* kIdDataOid = "1.2.840.113549.1.7.1";

class SignedData {
 public:
  // DER ContentInfo of type SignedData, nothing after it. kTooLarge over `max_size` bytes,
  // kMalformed otherwise ("<what> is not DER ContentInfo", "... has bytes after its DER",
  // "... is not SignedData"). Signatures are not checked.
  static Result<SignedData> Parse(ByteView der, size_t max_size, const std::string& what);

  // Signs `content` as eContentType `content_type_oid` with signed attributes, including
  // `chain` (signer first): ECDSA with SHA-256 for a P-256 key, with SHA-384 for P-384 (RFC
  // 5753 7.1, RFC 5754 3.3). kUnsupported for Ed25519 and Ed448 (see VerifySignatures), kCrypto,
  // kUsage (no certificate).
  static Result<Bytes> Sign(ByteView content, const char* content_type_oid, const SigningKey& key,
                            const std::vector<Certificate>& chain);

  std::string ContentTypeOid() const;         // eContentType, dotted; empty when absent
  std::optional<Bytes> Content() const;       // none when detached
  std::vector<Certificate> Certificates() const;
  int SignerInfos() const;

  // Checks every SignerInfo's signature (with its signed attributes' digest and content type)
  // using signer certificates carried inside, and returns the first signer's certificate.
  // Whose certificate it is and what it may sign are the caller's to judge. Each signer's
  // key decides its algorithms: a P-256 key with digest SHA-256 and ecdsa-with-SHA256, a
  // P-384 key with SHA-384 and ecdsa-with-SHA384; any other pairing is kBadSignature. EdDSA
  // (RFC 8419) is kUnsupported: OpenSSL 3.0's CMS verifies neither Ed25519 (it hands the
  // SignerInfo's SHA-512 to EdDSA, which takes no digest) nor Ed448 (it knows no
  // id-shake256-len). Other key types (RSA, ...) are kUnsupported, as in JWS.
  // kMalformed (no signer certificate).
  Result<Certificate> VerifySignatures() const;

 private:
  explicit SignedData(CmsPtr cms) : cms_(std::move(cms)) {}
  CmsPtr cms_;
};

}  // namespace vouch::ossl
