// `vouch --version` and `vouch-device --version`: the version meson gives the project, the
// suites this build supports (DESIGN.md section 3) and the third-party libraries it was built
// against. Each library's folder reports its own version (LibraryVersion() there); this only
// prints.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "libvoucher/library_version.h"

namespace vouch::tools {

// The project's version, from meson.build (project(version : ...)).
std::string_view ProjectVersion();

// "<prog> <version>", then "suites:" with one line per suite (flag name, suite id), then
// "built with:" with one line per library ("OpenSSL 3.0.11", and " (running 3.0.15)" when
// the library loaded at run time says another version).
std::string VersionText(std::string_view prog, const std::vector<LinkedLibrary>& libraries);

}  // namespace vouch::tools
