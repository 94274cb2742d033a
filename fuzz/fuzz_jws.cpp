// JWS verification against anchors the input cannot know: never accepted, never a crash.
#include <cstdlib>

#include "formats/jws.h"
#include "fuzz/trust_anchors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = vouch::formats::VerifyJws(vouch::ByteView(data, size), vouch::fuzz::Anchors(), vouch::TimePolicy::None());
  if (v.ok()) std::abort();  // nobody outside this process holds the anchor's key
  (void)vouch::formats::OpenJwsUnverified(vouch::ByteView(data, size));
  return 0;
}
