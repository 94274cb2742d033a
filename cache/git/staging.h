// Where an import builds its objects before they become one pack (cache/cache.md, "Writing").
//
// A staging repository reads every object of the cache and writes new ones to memory only
// (libgit2's mempack). Writing there costs no file system access: libgit2 checks whether an
// object is already stored before it writes it ("freshening") and, when it is not, rescans
// the pack directory; against the cache's own object database that is a stat and a
// directory read per new tree. Flush() then stores what was written as one pack in the
// cache and makes the cache's object database see it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cache/git/object_id.h"
#include "cache/git/repository.h"
#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

typedef struct git_odb_backend git_odb_backend;

namespace vouch::cache::git {

// A layout path and its blob, as a std::map of them holds it.
using PathEntry = std::pair<const std::string, ObjectId>;

// A path put (blob) or removed (none), for trees that are rewritten (store.h, ReplacePaths).
struct PathChange {
  std::string path;
  std::optional<ObjectId> blob;
};

class Staging {
 public:
  // Writes <cache>/vouch/import.config, how imports pack (unless it exists): settings for
  // the packbuilder that apply to staged objects only, over the cache's own config.
  static Status Configure(const std::string& cache_path);
  // Reads through `cache`'s handle, which must outlive it.
  static Result<Staging> Begin(const Repository& cache);
  Staging(Staging&&) noexcept = default;
  Staging& operator=(Staging&&) noexcept = default;
  ~Staging() = default;  // objects not flushed are dropped

  // Reads every object of the cache and every object staged so far.
  const Repository& reader() const { return staging_; }

  // Stores a blob whose id the caller computed (ObjectId::OfBlob, on any thread).
  Status WriteBlob(const ObjectId& id, ByteView data);

  // Writes the tree `base` (none: empty) plus the paths `fresh` (sorted, none of them in
  // `base`), a commit of it with `parents` and `message`, and flushes. Returns the commit.
  Result<ObjectId> Commit(const Tree& base, const std::vector<const PathEntry*>& fresh,
                          const std::vector<ObjectId>& parents, const std::string& message);

  // Like Commit, for a tree whose paths may be replaced or removed (the log's).
  Result<ObjectId> CommitChanges(const Tree& base, const std::vector<PathChange>& changes,
                                 const std::vector<ObjectId>& parents, const std::string& message);

  // Writes the pending objects as one pack into the cache (nothing if none) and lets the
  // cache's object database see it. The delta search runs on every core and the indexer
  // beside the compression; packing follows vouch/import.config over the cache's config.
  Status Flush();

 private:
  Staging() = default;
  git_repository* cache_ = nullptr;  // Flush writes its pack here
  Repository staging_;                // reads everything in the cache; writes go to memory
  git_odb_backend* mempack_ = nullptr;  // owned by the staging repository's odb
  std::vector<ObjectId> pending_;
};

// Writes the objects `ids` (read through `from`) as one pack into `into`: the packbuilder's
// delta search on every core, the indexer on another thread (what Staging::Flush does).
// Returns the size of the pack in bytes.
Result<uint64_t> WritePack(const Repository& from, const std::vector<ObjectId>& ids, const Repository& into);

}  // namespace vouch::cache::git
