#include "formats/qr/qr_code.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>
#include <string>

namespace vouch::formats::qr {
namespace {

struct QrcodeFree {
  void operator()(QRcode* q) const { QRcode_free(q); }
};
using QrcodePtr = std::unique_ptr<QRcode, QrcodeFree>;

}  // namespace

Result<QrCode> QrCode::Encode(std::string_view text) {
  // Byte mode, whatever the text: QRcode_encodeString would switch to alphanumeric or kanji
  // mode for runs of such characters, and a URI must come back from a scanner byte for byte.
  // Version 0 lets the library pick the smallest version that fits.
  errno = 0;
  QrcodePtr q(QRcode_encodeData(static_cast<int>(text.size()), reinterpret_cast<const unsigned char*>(text.data()), 0,
                                QR_ECLEVEL_M));
  if (!q) {
    if (errno == ERANGE) return Error(Code::kTooLarge, "QR code: " + std::to_string(text.size()) + " bytes do not fit in a QR code at level M");
    return Error(Code::kInternal, "QR code: libqrencode failed (errno " + std::to_string(errno) + ")");
  }
  QrCode code;
  code.version_ = q->version;
  code.size_ = q->width;
  size_t n = static_cast<size_t>(q->width) * static_cast<size_t>(q->width);
  code.modules_.resize(n);
  // libqrencode's bytes carry flags in the upper bits; bit 0 is the module's colour.
  for (size_t i = 0; i < n; ++i) code.modules_[i] = q->data[i] & 1;
  return code;
}

LinkedLibrary LibraryVersion() {
  std::string v = QRcode_APIVersionString();
  return {"libqrencode", v, v};
}

}  // namespace vouch::formats::qr
