// Writing to the cache's repository: trees that only grow, commits, compare-and-swap
// moves of the branch and locks (new objects are staged: staging.h). Used by cache.cpp and mirror.cpp.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cache/git/git.h"
#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {

// The branch's commit, or none when the cache is empty.
Result<std::optional<git_oid>> ResolveRef(git_repository* repo, const char* ref);
Result<TreePtr> TreeOf(git_repository* repo, const git_oid& commit);

// A layout path and its blob, as a std::map of them holds it.
using PathEntry = std::pair<const std::string, git_oid>;

// The tree `base` (may be null) plus `entries` (path -> blob, sorted by path, as a map's
// order gives them). A path already present with the same blob is kept; with another blob
// it is kIdMismatch (a cache never changes a path). Every tree it writes is recorded in
// `written` (for the pack).
Result<git_oid> InsertPaths(git_repository* repo, const git_tree* base, const std::vector<const PathEntry*>& entries,
                            std::vector<git_oid>* written);

Result<git_oid> MakeCommit(git_repository* repo, const git_oid& tree, const std::vector<git_oid>& parents,
                           const std::string& message);

// Moves `ref` to `to` if it is still at `from` (none: the ref must not exist). kExists when
// another writer moved it first (or holds its lock): the caller rebuilds and tries again.
// vouch writers move refs only while holding `vouch/ref-lock` exclusively (released by the
// kernel if the process dies), so a ref lock file found then, older than two seconds, was
// left by a writer that was killed mid-update and is removed.
Status CompareAndSwap(git_repository* repo, const char* ref, const git_oid& to, const std::optional<git_oid>& from,
                      const std::string& log);

// Remotes pulled from: refs/vouch/remotes/<key> holds the tip last accepted from a URL, and
// <cache>/vouch/remotes (a git config file) remote.<key>.url the URL, so that messages can
// name it. RemoteUrl answers "<key>" when it was not recorded.
Status RecordRemote(git_repository* repo, const std::string& key, const std::string& url);
std::string RemoteUrl(git_repository* repo, const std::string& key);

// True when `ancestor` is `descendant` or one of its ancestors.
Result<bool> IsAncestor(git_repository* repo, const git_oid& ancestor, const git_oid& descendant);

// An advisory lock on the cache: imports hold it shared, gc exclusive, so gc never drops a
// pack an import is about to point the branch at.
class CacheLock {
 public:
  enum class Mode { kShared, kExclusive };
  static Result<CacheLock> Take(const std::string& cache_path, Mode mode, bool wait = true,
                                const char* name = "lock");
  CacheLock(CacheLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  CacheLock& operator=(CacheLock&&) = delete;
  ~CacheLock();

 private:
  explicit CacheLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace vouch::cache::git
