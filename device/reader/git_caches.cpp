#include "device/reader/git_caches.h"

#include "cache/git/medium.h"

namespace vouch::device::reader {

const GitCaches& GitCacheReader() {
  static const GitCaches reader{
      [] { cache::git::ConfigureForMedia(); },
      [](int repo_fd, const std::string& what, const std::string& udf, const Limits& limits, size_t max_vouchers) {
        cache::git::MediumLimits gl;
        gl.max_voucher = limits.bundle.max_voucher;
        gl.max_proof = limits.bundle.max_proof;
        gl.max_vouchers = max_vouchers;
        return cache::git::ReadDevice(repo_fd, what, udf, gl);
      }};
  return reader;
}

}  // namespace vouch::device::reader
