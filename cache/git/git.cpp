#include "cache/git/git.h"
#include "cache/git/library.h"

#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <string>

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
    // Memory that does not grow with the cache (cache/cache.md, "Memory"). libgit2's object
    // cache is off: it is bounded by objects' raw sizes, not by what they take parsed, and
    // does not hold even that bound (set to 4 MiB, it held every tree a verify of 100,000
    // vouchers read, 39 MB of heap, and over 120 MiB at a million); vouch reads each tree
    // of a walk once, so nothing is lost (verify was faster without it). Packs are mapped
    // in windows of 4 MiB, at most 32 MiB of them, not libgit2's 1 GiB up to 8 GiB: mapped
    // pages count in a process's resident memory as it reads a large cache.
    git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
    git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, size_t{4} << 20);
    git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, size_t{32} << 20);
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

std::string ImportConfigPath(const std::string& cache_dir) {
  return (std::filesystem::path(cache_dir) / "vouch" / "import.config").string();
}

Status UseImportPacking(git_repository* target, git_repository* cache, bool merge) {
  git_config* raw = nullptr;
  if (git_config_new(&raw) != 0) return Fail(Code::kInternal, "config");
  ConfigPtr cfg(raw);
  std::string own = std::string(git_repository_path(cache)) + "config";
  std::string import = ImportConfigPath(git_repository_path(cache));
  // A file that is there but cannot be read is an error, not libgit2's defaults in silence.
  if (::access(own.c_str(), F_OK) == 0 && git_config_add_file_ondisk(raw, own.c_str(), GIT_CONFIG_LEVEL_LOCAL, cache, 0) != 0) {
    return Fail(Code::kIo, own);
  }
  if (::access(import.c_str(), F_OK) == 0 &&
      git_config_add_file_ondisk(raw, import.c_str(), GIT_CONFIG_LEVEL_APP, cache, 0) != 0) {
    return Fail(Code::kIo, import);
  }
  if (merge) {
    // A cache made before init wrote pack.deltaCacheSize keeps up to libgit2's 256 MiB of
    // deltas with deltaCacheLimit 65535: a merge of 48 MiB of packs reached 134 MiB that way.
    // Its merges pack with libgit2's defaults, as before.
    int64_t bound = 0;
    bool bounded = git_config_get_int64(&bound, raw, "pack.deltaCacheSize") == 0;
    git_error_clear();
    if (!bounded) {
      if (git_config_new(&raw) != 0) return Fail(Code::kInternal, "config");
      cfg.reset(raw);  // frees the composed one
    }
  }
  if (git_repository_set_config(target, raw) != 0) return Fail(Code::kInternal, "config");
  return Status::Ok();
}

std::string OidText(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

LinkedLibrary LibraryVersion() {
  int major = 0, minor = 0, rev = 0;
  git_libgit2_version(&major, &minor, &rev);
  return {"libgit2", LIBGIT2_VERSION, std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(rev)};
}

}  // namespace vouch::cache::git
