// libgit2's version, for `vouch --version`, declared apart from git.h so that a caller need
// not include <git2.h> (cache/git/ is the one folder that calls libgit2).
#pragma once

#include "libvoucher/library_version.h"

namespace vouch::cache::git {

// LIBGIT2_VERSION, and git_libgit2_version() at run time.
LinkedLibrary LibraryVersion();

}  // namespace vouch::cache::git
