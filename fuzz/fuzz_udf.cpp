// UDF parsing: any text either parses or is refused; what parses prints back canonically.
#include <cstdlib>
#include <string>

#include "libvoucher/udf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto u = vouch::udf::Udf::Parse(text);
  if (u.ok()) {
    auto again = vouch::udf::Udf::Parse(u->ToString());
    if (!again.ok() || !(*again == *u) || !u->IsPrefixOf(*again)) std::abort();
  }
  return 0;
}
