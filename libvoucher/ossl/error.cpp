#include "libvoucher/ossl/error.h"

#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include <string>

namespace vouch::ossl {

Status Fail(Code code, std::string_view what) {
  std::string message(what);
  unsigned long e = ERR_get_error();
  if (e != 0) {
    const char* reason = ERR_reason_error_string(e);
    message += ": ";
    message += reason ? reason : "openssl error " + std::to_string(e);
  }
  ERR_clear_error();
  return Status(code, std::move(message));
}

void ClearErrors() { ERR_clear_error(); }

LinkedLibrary LibraryVersion() {
  return {"OpenSSL", OPENSSL_VERSION_STR, OpenSSL_version(OPENSSL_VERSION_STRING)};
}

}  // namespace vouch::ossl
