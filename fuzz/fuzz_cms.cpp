// CMS verification against anchors the input cannot know: never accepted, never a crash.
#include <cstdlib>

#include "formats/cms.h"
#include "fuzz/trust_anchors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = vouch::formats::VerifyCms(vouch::ByteView(data, size), vouch::fuzz::Anchors(), vouch::TimePolicy::None());
  if (v.ok()) std::abort();
  (void)vouch::formats::OpenCmsUnverified(vouch::ByteView(data, size));
  return 0;
}
