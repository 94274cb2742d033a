// Shared by the fuzz targets that verify signatures: fixed trust anchors, made once.
#pragma once

#include "libvoucher/cert.h"

namespace vouch::fuzz {

inline const std::vector<Certificate>& Anchors() {
  static const std::vector<Certificate> anchors = [] {
    auto key = *PrivateKey::Generate();
    CertSpec s;
    s.common_name = "fuzz anchor";
    s.ca = true;
    return std::vector<Certificate>{*SelfSign(key, s)};
  }();
  return anchors;
}

}  // namespace vouch::fuzz
