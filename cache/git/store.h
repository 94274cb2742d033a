// Writing trees that only grow, and commits, into a repository (the staging one: staging.h).
// Internal to cache/git/.
#pragma once

#include <string>
#include <vector>

#include "cache/git/git.h"
#include "cache/git/staging.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {

// The tree `base` (may be null) plus `entries` (path -> blob, sorted by path, as a map's
// order gives them). A path already present with the same blob is kept; with another blob
// it is kIdMismatch (a cache never changes a path). Every tree it writes is recorded in
// `written` (for the pack).
Result<ObjectId> InsertPaths(git_repository* repo, const git_tree* base, const std::vector<const PathEntry*>& entries,
                             std::vector<ObjectId>* written);

// The tree `base` (may be null) with each change applied: a blob put at a path (replacing
// what was there) or a path removed (blob none). For trees that are rewritten, not only
// grown (the transparency log's: its checkpoint and partial tiles are replaced). The trees
// written are recorded in `written`.
Result<ObjectId> ReplacePaths(git_repository* repo, const git_tree* base, const std::vector<PathChange>& changes,
                              std::vector<ObjectId>* written);

Result<ObjectId> MakeCommit(git_repository* repo, const ObjectId& tree, const std::vector<ObjectId>& parents,
                            const std::string& message);

}  // namespace vouch::cache::git
