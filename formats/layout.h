// The medium layout, one for every place vouchers are filed (DESIGN.md section 6):
//
//   vouchers/<c1c2>/<c3c4>/<DEVICE-UDF>/<VOUCHER-ID>.<ext>
//
// c1..c4 are the 2nd to 5th characters of the device UDF without dashes (the 1st is the
// type letter, the same for every key). Spec page: formats/layout.md.
#pragma once

#include <string>
#include <string_view>

#include "formats/envelope.h"
#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::formats {

inline constexpr std::string_view kLayoutRoot = "vouchers";

struct LayoutEntry {
  std::string device_udf;  // canonical, with dashes, 140 bits
  std::string voucher_id;  // canonical, with dashes, 260 bits
  EnvelopeKind kind;
};

// "vouchers/B5/SR/MB5S-R4AJ-.../MDDK-....vjj" (always '/', never a leading one).
std::string LayoutPath(const LayoutEntry& entry);
// The directory holding one device's vouchers: "vouchers/B5/SR/MB5S-R4AJ-...".
Result<std::string> DeviceDirectory(std::string_view device_udf);

// Where an envelope belongs, from its own bytes: the device key inside the voucher (decoded
// in full, so a voucher that does not decode is refused) and the id of the bytes. The
// signature is not checked. kUnsupported for a voucher without a device key.
Result<LayoutEntry> LayoutEntryOf(ByteView envelope);

// Parses a layout path and refuses anything that is not exactly one: wrong depth, prefix
// characters that do not match the device UDF, non-canonical UDFs, unknown extension.
// kMalformed, naming the path.
Result<LayoutEntry> ParseLayoutPath(std::string_view path);

}  // namespace vouch::formats
