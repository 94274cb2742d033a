// CMS vouchers made with OpenSSL's CMS API directly, for what SignCms never writes: several
// SignerInfos, or a digest that is not the signer key's.
#pragma once

#include <catch2/catch.hpp>
#include <openssl/cms.h>
#include <openssl/objects.h>

#include <vector>

#include "formats/cms.h"

namespace vouch::test {

// One SignerInfo per signer, each over `md`.
inline Bytes CmsSignedBy(ByteView payload, const std::vector<formats::Signer>& signers, const EVP_MD* md = EVP_sha256()) {
  const unsigned flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
  CMS_ContentInfo* cms = CMS_sign(nullptr, nullptr, nullptr, nullptr, flags);
  ASN1_OBJECT* oid = OBJ_txt2obj(formats::kAnimaJsonVoucherOid, 1);
  REQUIRE(CMS_set1_eContentType(cms, oid) == 1);
  ASN1_OBJECT_free(oid);
  for (const auto& s : signers) REQUIRE(CMS_add1_signer(cms, s.chain[0].x509(), s.key.pkey(), md, flags));
  BIO* in = BIO_new_mem_buf(payload.data(), static_cast<int>(payload.size()));
  REQUIRE(CMS_final(cms, in, nullptr, flags) == 1);
  BIO_free(in);
  unsigned char* der = nullptr;
  int n = i2d_CMS_ContentInfo(cms, &der);
  REQUIRE(n > 0);
  Bytes out(der, der + n);
  OPENSSL_free(der);
  CMS_ContentInfo_free(cms);
  return out;
}

}  // namespace vouch::test
