// The libpng boundary: the only code that calls libpng.
#include <png.h>

#include <cstring>

#include "formats/qr/qr_image.h"

namespace vouch::formats::qr {

Result<Bytes> RenderPng(const QrCode& code, int scale) {
  if (scale < 1 || scale > 64) return Error(Code::kInternal, "QR code: PNG scale " + std::to_string(scale) + " is not 1..64");
  const int n = (code.size() + 2 * kQuietZone) * scale;
  std::vector<uint8_t> pixels(static_cast<size_t>(n) * static_cast<size_t>(n), 0xff);
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      if (code.dark(x / scale - kQuietZone, y / scale - kQuietZone)) pixels[static_cast<size_t>(y) * n + x] = 0;
    }
  }
  // libpng's simplified API (1.6): it reports errors in image.message instead of longjmp,
  // which would skip the destructors of this C++ frame.
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(n);
  image.height = static_cast<png_uint_32>(n);
  image.format = PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr)) {
    std::string why = image.message;
    png_image_free(&image);
    return Error(Code::kInternal, "QR code: libpng: " + why);
  }
  Bytes png(size);
  if (!png_image_write_to_memory(&image, png.data(), &size, 0, pixels.data(), 0, nullptr)) {
    std::string why = image.message;
    png_image_free(&image);
    return Error(Code::kInternal, "QR code: libpng: " + why);
  }
  png.resize(size);
  return png;
}

LinkedLibrary PngLibraryVersion() { return {"libpng", PNG_LIBPNG_VER_STRING, png_get_libpng_ver(nullptr)}; }

}  // namespace vouch::formats::qr
