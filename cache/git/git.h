// The one header that includes libgit2, and only cache/git/*.cpp include it: owning handles,
// library start-up, libgit2's errors as a Status, and git_oid to and from ObjectId.
//
// The rest of vouch sees git through the headers beside this one (repository.h, object_id.h,
// history.h, staging.h, remote.h, transport.h, medium.h, lock.h), which name no libgit2 type
// but the opaque handles they forward-declare; cache/*.cpp hold the cache's rules and call
// no git_* function.
#pragma once

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "cache/git/object_id.h"
#include "libvoucher/deleter.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {

using vouch::Deleter;

using RepoPtr = std::unique_ptr<git_repository, Deleter<git_repository_free>>;
using OdbPtr = std::unique_ptr<git_odb, Deleter<git_odb_free>>;
using OdbObjectPtr = std::unique_ptr<git_odb_object, Deleter<git_odb_object_free>>;
using TreePtr = std::unique_ptr<git_tree, Deleter<git_tree_free>>;
using CommitPtr = std::unique_ptr<git_commit, Deleter<git_commit_free>>;
using BlobPtr = std::unique_ptr<git_blob, Deleter<git_blob_free>>;
using RefPtr = std::unique_ptr<git_reference, Deleter<git_reference_free>>;
using TreeBuilderPtr = std::unique_ptr<git_treebuilder, Deleter<git_treebuilder_free>>;
using SignaturePtr = std::unique_ptr<git_signature, Deleter<git_signature_free>>;
using RevwalkPtr = std::unique_ptr<git_revwalk, Deleter<git_revwalk_free>>;
using DiffPtr = std::unique_ptr<git_diff, Deleter<git_diff_free>>;
using RemotePtr = std::unique_ptr<git_remote, Deleter<git_remote_free>>;
using ObjectPtr = std::unique_ptr<git_object, Deleter<git_object_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, Deleter<git_tree_entry_free>>;
using ConfigPtr = std::unique_ptr<git_config, Deleter<git_config_free>>;
using PackbuilderPtr = std::unique_ptr<git_packbuilder, Deleter<git_packbuilder_free>>;
// Object database backends and pack writers are freed through their own tables; a backend is
// owned here only until a database takes it.
inline void FreeBackend(git_odb_backend* b) { b->free(b); }
inline void FreeWritepack(git_odb_writepack* w) { w->free(w); }
using BackendPtr = std::unique_ptr<git_odb_backend, Deleter<FreeBackend>>;
using WritepackPtr = std::unique_ptr<git_odb_writepack, Deleter<FreeWritepack>>;

// Starts libgit2 once per process (thread-safe); every function here calls it.
void Init();

// Status(code, "<what>: <libgit2's last error message>").
Status Fail(Code code, std::string_view what, int error = -1);

std::string OidText(const git_oid& oid);

// <cache>/vouch/import.config: how imports and gc's merges pack (cache/cache.md, "Writing").
std::string ImportConfigPath(const std::string& cache_dir);
// Gives `target` (a repository wrapped around an object database of its own) the config of
// `cache` with vouch/import.config over it (either may be missing: libgit2's defaults then;
// one that cannot be read is kIo), so that a packbuilder on `target` packs as imports do.
// For gc's merges (`merge`), only if import.config bounds the deltas kept
// (pack.deltaCacheSize); otherwise libgit2's defaults.
Status UseImportPacking(git_repository* target, git_repository* cache, bool merge = false);

// The directory `path` of `tree` (none: no such directory, or a file there); kMalformed when
// its tree cannot be read.
Result<TreePtr> SubtreeAt(git_tree* tree, const std::string& path);

// ObjectId is git_oid's 20 bytes (libgit2 1.5 has no other object format).
static_assert(sizeof(git_oid) == ObjectId::kSize);
inline ObjectId IdOf(const git_oid& oid) { return ObjectId(oid.id); }
inline git_oid OidOf(const ObjectId& id) {
  git_oid oid;
  std::memcpy(oid.id, id.bytes().data(), ObjectId::kSize);
  return oid;
}

}  // namespace vouch::cache::git
