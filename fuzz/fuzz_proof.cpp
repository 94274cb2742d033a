// Log proofs and device log policies: what a stick hands the device's judge beside a voucher
// (formats/tlog/proof.h) and the device's own policy file (device/log_policy.h). What parses
// prints back to the same bytes (one spelling each); checking a proof against a policy, or a
// policy against another, finishes and never accepts a checkpoint nobody could have signed.
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "device/log_policy.h"
#include "formats/tlog/proof.h"

using namespace vouch;
using namespace vouch::formats::tlog;

namespace {

// Go's published example key (its private half is public too: seeds may carry real
// signatures by it), as the log, and a witness key whose private half nobody has.
const device::LogPolicy& Policy() {
  static const device::LogPolicy p = *device::MakeLogPolicy(
      "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
      {NoteVerifier::FromPublicKey("witness.example/w1", kSignatureTypeCosignature, Bytes(32, 7))->Text()}, 0,
      std::nullopt);
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto proof = ParseProof(in);
  if (proof.ok() && FormatProof(*proof) != in) std::abort();
  // The leaf: the input's first bytes, or nothing.
  ByteView leaf(data, size < 64 ? size : 64);
  (void)device::CheckLogged(Policy(), leaf, Bytes(data, data + size), 1800000000);
  device::LogPolicy quorum = Policy();
  quorum.quorum = 1;  // a witness whose key nobody holds: never enough
  if (device::CheckLogged(quorum, leaf, Bytes(data, data + size), std::nullopt).ok()) std::abort();

  auto policy = device::ParseLogPolicy(in);
  if (policy.ok()) {
    if (device::FormatLogPolicy(*policy) != in) std::abort();
    // A policy always tightens itself.
    if (!device::CheckTightens(*policy, *policy).ok()) std::abort();
    (void)device::CheckTightens(Policy(), *policy);
    (void)device::CheckTightens(*policy, Policy());
  }
  return 0;
}
