// A QR code's modules (ISO/IEC 18004), made by libqrencode: the formats/qr/ folder is the only
// code that calls libqrencode (qr_code.cpp) and libpng (qr_png.cpp). Drawing is qr_image.h.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "libvoucher/status.h"
#include "libvoucher/library_version.h"

namespace vouch::formats::qr {

// The light border every rendering draws around the symbol, in modules: the quiet zone
// ISO/IEC 18004 asks for (4 modules), without which scanners miss codes on busy backgrounds.
inline constexpr int kQuietZone = 4;

class QrCode {
 public:
  // `text` in byte mode (8-bit, exactly these bytes) at error-correction level M (15% of
  // the symbol can be lost), in the smallest version that holds it. kTooLarge when it does
  // not fit in version 40 (2331 bytes at level M); kInternal when the library fails otherwise.
  static Result<QrCode> Encode(std::string_view text);

  int version() const { return version_; }  // 1..40
  int size() const { return size_; }        // modules per side, quiet zone excluded: 17 + 4 * version
  // True for a dark module; false outside the symbol (the quiet zone and beyond).
  bool dark(int x, int y) const {
    return x >= 0 && y >= 0 && x < size_ && y < size_ && modules_[static_cast<size_t>(y) * size_ + x] != 0;
  }

 private:
  int version_ = 0, size_ = 0;
  std::vector<uint8_t> modules_;  // row by row, 1 for dark
};

// libqrencode: QRcode_APIVersionString() (it has no version macro; built is the same).
LinkedLibrary LibraryVersion();

}  // namespace vouch::formats::qr
