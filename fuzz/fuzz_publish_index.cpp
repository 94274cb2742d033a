// The index of a published tree (cache/publish.md): the first thing a reader of a static
// mirror takes from a hostile server. What parses encodes back to the same bytes (one
// spelling), and every entry's shard path stays below vouch.vshards/.
#include <cstdlib>
#include <string>

#include "cache/publish_index.h"

using namespace vouch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto index = cache::DecodeIndex(ByteView(data, size));
  if (!index.ok()) return 0;
  auto again = cache::EncodeIndex(*index);
  if (!again.ok() || *again != Bytes(data, data + size)) std::abort();
  for (const auto& e : index->entries) {
    std::string p = cache::PublishIndex::ShardPath(e);
    if (p.find("..") != std::string::npos || p.rfind("vouch.vshards/", 0) != 0) std::abort();
  }
  return 0;
}
