// Device URIs (formats/device_uri.h), the text an owner scans off a device: hostile input.
// What decodes encodes back to a URI that decodes to the same key and serial, and fits in a
// QR code; nothing crashes, nothing runs away.
#include <cstdlib>
#include <string_view>

#include "formats/device_uri.h"
#include "formats/qr/qr_code.h"

using namespace vouch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto d = formats::DecodeDeviceUri(in);
  if (!d.ok()) return 0;
  auto uri = formats::EncodeDeviceUri(d->key, d->serial);
  if (!uri.ok()) std::abort();
  auto again = formats::DecodeDeviceUri(*uri);
  if (!again.ok() || !(again->key == d->key) || again->serial != d->serial) std::abort();
  if (!formats::qr::QrCode::Encode(*uri).ok()) std::abort();
  return 0;
}
