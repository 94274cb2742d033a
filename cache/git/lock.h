// An advisory lock on the cache: imports hold it shared, gc exclusive, so gc never drops a
// pack an import is about to point the branch at. Ref moves take another one ("ref-lock",
// repository.h).
#pragma once

#include <string>

#include "libvoucher/status.h"

namespace vouch::cache::git {

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
