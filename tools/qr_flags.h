// --qr, --qr-out FILE.png|FILE.svg, --uri: a device key and serial as a device URI
// (formats/device_uri.md), the text a QR code carries from the device to its owner
// (`vouch key show`, `vouch-device show`). Flags and printing only: the URI is
// formats/device_uri.h's, the drawing formats/qr/'s.
#pragma once

#include <string>

#include "libvoucher/key.h"
#include "libvoucher/status.h"
#include "tools/cli.h"

namespace vouch::tools {

struct QrFlags {
  bool qr = false, uri = false;
  std::string qr_out;

  // Declares the three flags; --qr and --uri exclude `json` (which carries a "uri" member).
  void Add(CLI::App* c, CLI::Option* json);
  bool given() const { return qr || uri || !qr_out.empty(); }

  // Writes --qr-out when given (kUsage for an extension other than .png or .svg; never over
  // an existing file: kExists), then prints the QR code (--qr), the URI (--uri) and the path
  // written, in that order, on stdout. With `json` it only writes the file: the caller's
  // document carries "uri" (and "qr-out").
  Status Emit(const std::string& device_uri, bool json = false) const;
};

// The device URI of X and its serial; a refusal names what was being shown.
Result<std::string> DeviceUriOf(const PublicKey& key, const std::string& serial);

}  // namespace vouch::tools
