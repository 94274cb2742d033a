// What other parties hand an issuer or a relying party about a co-generated key: contribution
// files (formats/contribution.h) and the construction extension of a certificate for Z
// (libvoucher/construction.h), both hostile input. What parses encodes back to bytes that
// parse to the same keys; nothing crashes, nothing runs away.
#include <cstdlib>

#include "formats/contribution.h"
#include "libvoucher/construction.h"

using namespace vouch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView in(data, size);
  if (auto c = formats::DecodeContribution(in); c.ok()) {
    auto again = formats::DecodeContribution(formats::EncodeContribution(*c));
    if (!again.ok() || again->device_key != c->device_key || again->sealed.enc != c->sealed.enc ||
        again->sealed.ct != c->sealed.ct || again->sealed.key != c->sealed.key) {
      std::abort();
    }
  }
  if (auto k = DecodeConstruction(in); k.ok()) {
    auto der = EncodeConstruction(*k);
    if (!der.ok()) std::abort();
    auto again = DecodeConstruction(*der);
    if (!again.ok() || !(again->device_key == k->device_key) || !(again->contributions == k->contributions)) std::abort();
  }
  return 0;
}
