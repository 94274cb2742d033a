#include "libvoucher/sha256.h"

#include <openssl/evp.h>

#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/handles.h"

namespace vouch {

Result<Sha256Digest> Sha256(std::initializer_list<ByteView> parts) {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return ossl::Fail(Code::kCrypto, "sha-256");
  }
  for (ByteView part : parts) {
    if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) return ossl::Fail(Code::kCrypto, "sha-256");
  }
  Sha256Digest out{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &n) != 1 || n != out.size()) {
    return ossl::Fail(Code::kCrypto, "sha-256");
  }
  return out;
}

}  // namespace vouch
