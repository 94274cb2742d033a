// Bundle opening plus lookup: any bytes as a .vbundle file.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "formats/bundle.h"
#include "formats/layout.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("vouch-fuzz-bundle-" + std::to_string(getpid()) + ".zip");
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  vouch::formats::BundleLimits limits;
  limits.max_entries = 64;
  auto b = vouch::formats::Bundle::Open(path, limits);
  if (b.ok()) {
    for (const auto& e : b->manifest().entries) {
      auto entry = e.proof ? vouch::formats::ParseProofPath(e.path) : vouch::formats::ParseLayoutPath(e.path);
      if (!entry.ok()) std::abort();  // Open promised layout paths and proof paths
      (void)b->ReadDevice(entry->device_udf);
    }
    (void)b->ReadAll();
  }
  return 0;
}
