// What every benchmark that issues vouchers sets up the same way: a result it cannot go on
// without, and a certificate spec for its CAs and signers.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "libvoucher/cert.h"
#include "libvoucher/status.h"

namespace vouch::bench {

// The value, or the benchmark stops naming what failed: a number measured past a failed
// setup step would measure the failure.
template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "bench: %s: %s\n", what, r.status().message().c_str());
    std::exit(1);
  }
  return std::move(*r);
}

inline CertSpec Spec(const std::string& cn, bool ca) {
  CertSpec s;
  s.common_name = cn;
  s.ca = ca;
  return s;
}

}  // namespace vouch::bench
