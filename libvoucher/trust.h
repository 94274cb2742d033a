// Trust anchors and certificate paths.
//
// A verifier holds its anchors; a signed input only brings certificates that may help build
// the path to one of them (DESIGN.md section 3). Any anchor may end a path, self-signed or
// not (OpenSSL's X509_V_FLAG_PARTIAL_CHAIN): a device may be given a manufacturer's signing
// certificate itself, without the root above it.
#pragma once

#include <vector>

#include "libvoucher/cert.h"
#include "libvoucher/status.h"
#include "libvoucher/instant.h"

namespace vouch {

inline constexpr int kMaxPathDepth = 8;

// A path that verified: the anchor that ends it, and when every certificate on it, from the
// leaf to that anchor, is valid (so that a decision made a little later can check the time
// again without building the path again).
struct VerifiedPath {
  Certificate anchor;
  Instant not_before;
  Instant not_after;
  // Every certificate from the leaf up to the anchor, both included: who vouched, so that a
  // device can refuse a path through an owner it has left (enroll.h, kNotOwner).
  std::vector<Certificate> chain = {};
};

// Builds and checks a path from `leaf` through any of `intermediates` to one of `anchors`.
// Errors: kExpired / kNotYetValid when the only problem is a validity period at the policy's
// time, kUntrustedSigner otherwise.
Result<VerifiedPath> VerifyPath(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                               const std::vector<Certificate>& anchors, const TimePolicy& time);

}  // namespace vouch
