// Where an import builds its objects before they become one pack (cache/cache.md, "Writing").
//
// A staging repository reads every object of the cache and writes new ones to memory only
// (libgit2's mempack). Writing there costs no file system access: libgit2 checks whether an
// object is already stored before it writes it ("freshening") and, when it is not, rescans
// the pack directory; against the cache's own object database that is a stat and a
// directory read per new tree. Flush() then stores what was written as one pack in the
// cache and makes the cache's object database see it.
#pragma once

#include <string>
#include <vector>

#include "cache/git/git.h"
#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {

class Staging {
 public:
  // Writes <cache>/vouch/import.config, how imports pack (unless it exists): settings for
  // the packbuilder that apply to staged objects only, over the cache's own config.
  static Status Configure(const std::string& cache_path);
  static Result<Staging> Begin(git_repository* cache);
  Staging(Staging&&) noexcept = default;
  Staging& operator=(Staging&&) noexcept = default;
  ~Staging() = default;  // objects not flushed are dropped

  // Reads everything in the cache; writes (trees, commits) go to memory.
  git_repository* repo() const { return staging_.get(); }

  // Stores a blob whose id the caller computed (git_odb_hash, on any thread).
  Status WriteBlob(const git_oid& oid, ByteView data);
  // Notes an object written to repo() some other way (trees, commits) for the next Flush.
  void Record(const git_oid& oid) { pending_.push_back(oid); }

  // Writes the pending objects as one pack into the cache (nothing if none) and lets the
  // cache's object database see it. The delta search runs on every core and the indexer
  // beside the compression; packing follows vouch/import.config over the cache's config.
  Status Flush();

 private:
  Staging() = default;
  git_repository* cache_ = nullptr;
  OdbPtr cache_odb_;
  RepoPtr staging_;
  git_odb_backend* mempack_ = nullptr;  // owned by the staging repository's odb
  std::vector<git_oid> pending_;
};

// Writes the objects `ids` (read through `from`) as one pack into `into`: the packbuilder's
// delta search on every core, the indexer on another thread (what Staging::Flush does).
// Returns the size of the pack in bytes.
Result<uint64_t> WritePack(git_repository* from, const std::vector<git_oid>& ids, git_odb* into);

}  // namespace vouch::cache::git
