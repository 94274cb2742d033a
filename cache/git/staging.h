// Where an import builds its objects before they become one pack (cache/cache.md, "Writing").
//
// A staging repository reads every object of the cache and writes new ones to memory only
// (libgit2's mempack). Writing there costs no file system access: libgit2 checks whether an
// object is already stored before it writes it ("freshening") and, when it is not, rescans
// the pack directory; against the cache's own object database that is a stat and a
// directory read per new tree. Flush() then stores what was written as one pack in the
// cache and makes the cache's object database see it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cache/git/id_spool.h"
#include "cache/git/object_id.h"
#include "cache/git/repository.h"
#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

typedef struct git_odb_backend git_odb_backend;

namespace vouch::cache::git {

// A layout path and its blob, as a std::map of them holds it.
using PathEntry = std::pair<const std::string, ObjectId>;

// Sorted (path, blob) pairs, each path once, that can be read from the start again: an
// import that loses the race for the branch rebuilds its tree on the new tip. An import's
// pairs may not fit in memory (cache/sorted_paths.h keeps them on disk).
class PathSource {
 public:
  virtual ~PathSource() = default;
  virtual Status Rewind() = 0;
  virtual const PathEntry* Current() const = 0;  // null at the end
  virtual Status Next() = 0;
};

// Where (path, blob) pairs are gathered, in any order: cache/sorted_paths.h keeps them on
// disk past a run, so a history of any size can be collected in bounded memory.
class PathSink {
 public:
  virtual ~PathSink() = default;
  virtual Status Add(std::string path, const ObjectId& blob) = 0;
};

// A PathSource over a map held in memory.
class MapPaths : public PathSource {
 public:
  explicit MapPaths(const std::map<std::string, ObjectId>& map) : map_(map), at_(map.begin()) {}
  Status Rewind() override {
    at_ = map_.begin();
    return Status::Ok();
  }
  const PathEntry* Current() const override { return at_ == map_.end() ? nullptr : &*at_; }
  Status Next() override {
    ++at_;
    return Status::Ok();
  }

 private:
  const std::map<std::string, ObjectId>& map_;
  std::map<std::string, ObjectId>::const_iterator at_;
};

// A tree written on top of another, and how many paths it added.
struct GrownTree {
  ObjectId tree;
  size_t added = 0;
};

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

  // Writes the tree `base` (none: empty) plus the paths of `paths` from its start; a path
  // already in `base` with the same blob is kept, with another is kIdMismatch.
  Result<GrownTree> Grow(const Tree& base, PathSource& paths);

  // Writes a commit of `tree` with `parents` and `message`, and flushes. Returns the commit.
  Result<ObjectId> Commit(const ObjectId& tree, const std::vector<ObjectId>& parents, const std::string& message);

  // Like Commit, for a tree whose paths may be replaced or removed (the log's).
  Result<ObjectId> CommitChanges(const Tree& base, const std::vector<PathChange>& changes,
                                 const std::vector<ObjectId>& parents, const std::string& message);

  // Writes the pending objects as one pack into the cache (nothing if none) and lets the
  // cache's object database see it. The delta search runs on every core and the indexer
  // beside the compression; packing follows vouch/import.config over the cache's config.
  // Blobs and trees are also flushed whenever kChunkBytes of them are pending, so an import
  // holds at most that much of its objects at once whatever its size (several packs).
  Status Flush();

  // What is staged in memory before it becomes a pack of its own. A pack per 16 MiB of
  // vouchers (some 1,700 real ones) keeps an import's peak near 110 MiB with the
  // packbuilder's deltas (24 MiB: 132 MiB at 100,000 vouchers); a smaller one means more packs
  // for gc to consolidate. `vouch.importChunkBytes` in vouch/import.config overrides it (at
  // least 4 KiB).
  static constexpr uint64_t kChunkBytes = uint64_t{16} << 20;
  // What libgit2 keeps of each staged object besides its bytes, in the mempack and then in
  // the packbuilder (its entry, its map slot): counted, or a chunk of small trees would be
  // several times its nominal size.
  static constexpr uint64_t kObjectOverhead = 256;

 private:
  Staging() = default;
  git_repository* cache_ = nullptr;  // Flush writes its pack here
  Repository staging_;                // reads everything in the cache; writes go to memory
  git_odb_backend* mempack_ = nullptr;  // owned by the staging repository's odb
  // Records an object written to the mempack; flushes at kChunkBytes.
  Status Staged(const ObjectId& id, uint64_t size);

  std::vector<ObjectId> pending_;
  uint64_t pending_bytes_ = 0;
  uint64_t chunk_bytes_ = kChunkBytes;
};

// Writes the objects `ids` (read through `from`) into `into` as packs of about `chunk_bytes`
// each (as Staging flushes): the packbuilder's delta search on every core, the indexer on
// another thread. Returns the size of the packs in bytes.
Result<uint64_t> WritePack(const Repository& from, IdSpool& ids, const Repository& into,
                           uint64_t chunk_bytes = Staging::kChunkBytes);

}  // namespace vouch::cache::git
