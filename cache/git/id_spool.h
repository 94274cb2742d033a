// The ids of the objects a pull must move into the cache, in memory that does not grow with
// the pull (cache/cache.md, "Memory"). A full pull of a million vouchers brings some two
// million objects; their ids alone, with the set that kept them unique, took more memory
// than the 128 MiB a pull may use. Ids are kept in a block in memory and spilled to an
// anonymous file beside the cache as blocks fill; they are read back in the order added.
// An id added twice is kept twice (a verification meets an object again only where two
// branches added the same file): it may be stored twice. So the count of ids is not the count
// of objects: nothing may be judged by it (Quarantine::Adopt re-packs every pull for this).
// After a failed write the spool refuses everything (kIo): what it holds is not known.
#pragma once

#include <cstdio>
#include <filesystem>
#include <functional>
#include <span>
#include <vector>

#include "cache/git/object_id.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {

class IdSpool {
 public:
  static constexpr size_t kBlock = 4096;  // ids in memory, and read back at a time (80 KiB)

  // Spills go to an anonymous file in `dir` (made when the first block fills).
  explicit IdSpool(std::filesystem::path dir) : dir_(std::move(dir)) {}
  IdSpool(const IdSpool&) = delete;
  IdSpool& operator=(const IdSpool&) = delete;
  ~IdSpool();

  Status Add(const ObjectId& id);
  // How many ids were added, repeats included.
  uint64_t size() const { return spilled_ + block_.size(); }
  // Calls `f` with the ids in the order added, up to kBlock at a time; stops at its first
  // error and returns it.
  Status ForEach(const std::function<Status(std::span<const ObjectId>)>& f);

 private:
  Status Spill();

  std::filesystem::path dir_;
  std::FILE* file_ = nullptr;
  uint64_t spilled_ = 0;
  std::vector<ObjectId> block_;
  bool failed_ = false;
};

}  // namespace vouch::cache::git
