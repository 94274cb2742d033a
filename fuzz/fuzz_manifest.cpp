// Bundle manifests: what decodes re-encodes to the same bytes (the manifest is canonical).
#include <cstdlib>

#include "formats/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = vouch::formats::DecodeManifest(vouch::ByteView(data, size), 64, 64 * 1024);
  if (m.ok()) {
    auto back = vouch::formats::DecodeManifest(vouch::formats::EncodeManifest(*m), 64, 64 * 1024);
    if (!back.ok() || back->entries.size() != m->entries.size()) std::abort();
  }
  return 0;
}
