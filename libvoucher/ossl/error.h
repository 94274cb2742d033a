// Turning OpenSSL's error queue into a Status.
#pragma once

#include <string_view>

#include "libvoucher/status.h"
#include "libvoucher/library_version.h"

namespace vouch::ossl {

// Returns Status(code, "<what>: <first reason on the queue>") and empties the queue, so a
// stale error never surfaces in an unrelated later call.
Status Fail(Code code, std::string_view what);

// Empties the queue; used after calls whose failure is an expected answer, not an error.
void ClearErrors();

// OpenSSL (libcrypto): OPENSSL_VERSION_STR, and OpenSSL_version() at run time.
LinkedLibrary LibraryVersion();

}  // namespace vouch::ossl
