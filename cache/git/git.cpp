#include "cache/git/git.h"

#include <mutex>

namespace vouch::cache::git {

void Init() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_libgit2_init();
    // Objects are hashed by what they claim to be; verifying them on read is what lets a
    // hostile pack not become a lie about content (libgit2 defaults this on; say so here).
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 1);
    // Owner validation guards git's hooks and config-driven commands, none of which libgit2
    // runs; a stick's files belong to whoever mounted it, and must still be readable.
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    // Memory that does not grow with the cache (cache/cache.md, "Bounds on memory"): libgit2
    // keeps up to 256 MiB of parsed objects and maps up to 8 GiB of packs by default, and
    // mapped pack pages count in a process's resident memory as it reads a large cache.
    git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, ssize_t{16} << 20);
    git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, size_t{64} << 20);
    // The limit is kept only between windows, and a window is 1 GiB by default: a pack under
    // 1 GiB is one window, mapped whole, and every page a walk touches stays resident (a
    // 100,000-device cache's 600 MB pack made a status run 407 MiB). Smaller windows let
    // libgit2 unmap the ones least used.
    git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, size_t{8} << 20);
  });
}

Status Fail(Code code, std::string_view what, int error) {
  const git_error* e = git_error_last();
  std::string msg(what);
  if (e && e->message) {
    msg += ": ";
    msg += e->message;
  } else if (error != -1) {
    msg += ": libgit2 error " + std::to_string(error);
  }
  git_error_clear();
  return Status(code, std::move(msg));
}

std::string OidText(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

}  // namespace vouch::cache::git
