#include "tools/qr_flags.h"

#include <iostream>
#include <optional>

#include "formats/device_uri.h"
#include "formats/qr/qr_image.h"

namespace vouch::tools {

void QrFlags::Add(CLI::App* c, CLI::Option* json) {
  auto* q = c->add_flag("--qr", qr, "Print the device URI as a QR code (UTF-8 half blocks, black on white) to scan");
  c->add_option("--qr-out", qr_out, "Write the QR code to FILE.png or FILE.svg (never over an existing file)");
  auto* u = c->add_flag("--uri", uri, "Print the device URI (VOUCH:V:1;K:...;F:...;S:...;;), the text the QR code holds");
  if (json) q->excludes(json), u->excludes(json);
}

Status QrFlags::Emit(const std::string& device_uri, bool json) const {
  std::optional<formats::qr::ImageFormat> format;
  if (!qr_out.empty()) {
    format = formats::qr::ImageFormatOf(qr_out);
    if (!format) return Error(Code::kUsage, "--qr-out '" + qr_out + "' does not end in .png or .svg");
  }
  if (!qr && !format) {
    if (uri && !json) std::cout << device_uri << "\n";
    return Status::Ok();
  }
  VOUCH_ASSIGN_OR_RETURN(formats::qr::QrCode code, formats::qr::QrCode::Encode(device_uri));
  if (format) VOUCH_RETURN_IF_ERROR(formats::qr::WriteImage(qr_out, code, *format));
  if (json) return Status::Ok();
  if (qr) std::cout << formats::qr::RenderTerminal(code);
  if (uri) std::cout << device_uri << "\n";
  if (!qr_out.empty()) std::cout << qr_out << "\n";
  return Status::Ok();
}

Result<std::string> DeviceUriOf(const PublicKey& key, const std::string& serial) {
  auto uri = formats::EncodeDeviceUri(key, serial);
  if (!uri.ok()) return uri.status().Context("device " + key.Fingerprint());
  return uri;
}

}  // namespace vouch::tools
