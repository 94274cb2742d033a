// Which version of a third-party library a program was built against and which one it runs
// with (`vouch --version`). Each is reported by the one folder that calls that library
// (DESIGN.md section 2), as LibraryVersion() there; the tools only print them.
#pragma once

#include <string>

namespace vouch {

struct LinkedLibrary {
  std::string name;     // "OpenSSL", "libgit2", ...
  std::string built;    // from the library's version macros when vouch was compiled
  std::string running;  // from the library itself at run time ("" when it cannot say)
};

}  // namespace vouch
