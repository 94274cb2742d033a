// Writing trees that only grow, and commits, into a repository (the staging one: staging.h).
// Internal to cache/git/.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cache/git/git.h"
#include "cache/git/staging.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {

// Told of every tree written (for the pack), with its size.
using TreeWritten = std::function<Status(const ObjectId& id, uint64_t size)>;

// The tree `base` (may be null) plus the paths `entries` gives from where it is (sorted, each
// once; read to its end). A path already present with the same blob is kept; with another
// blob it is kIdMismatch (a cache never changes a path). Only the directories on the way to
// the current path are held at once, so the paths may be more than memory holds.
Result<GrownTree> InsertPaths(git_repository* repo, const git_tree* base, PathSource& entries, const TreeWritten& written);

// The tree `base` (may be null) with each change applied: a blob put at a path (replacing
// what was there) or a path removed (blob none). For trees that are rewritten, not only
// grown (the transparency log's: its checkpoint and partial tiles are replaced). The trees
// written are recorded in `written`.
Result<ObjectId> ReplacePaths(git_repository* repo, const git_tree* base, const std::vector<PathChange>& changes,
                              std::vector<ObjectId>* written);

Result<ObjectId> MakeCommit(git_repository* repo, const ObjectId& tree, const std::vector<ObjectId>& parents,
                            const std::string& message);

}  // namespace vouch::cache::git
