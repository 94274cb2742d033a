// The medium layout, one for every place vouchers are filed (DESIGN.md section 6):
//
//   vouchers/<c1c2>/<c3c4>/<DEVICE-UDF>/<VOUCHER-ID>.<ext>
//
// c1..c4 are the 2nd to 5th characters of the device UDF without dashes (the 1st is the
// type letter, the same for every key). Spec page: formats/layout.md.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "formats/envelope.h"
#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch {
class FileBatch;  // libvoucher/file.h
}

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
// The same below the root, "B5/SR/MB5S-R4AJ-...": receipts (formats/receipt.h) are filed by
// device the same way under their own root. kMalformed for anything but a 140-bit UDF.
Result<std::string> DeviceSubdirectory(std::string_view device_udf);
// A path below a root checked as "<c1c2>/<c3c4>/<DEVICE-UDF>/<FILE>": the device directory a
// canonical 140-bit UDF, the prefix directories its characters. Returns the UDF and FILE (a
// view into `path`, not checked); kMalformed saying why otherwise.
struct DeviceFile {
  std::string device_udf;
  std::string_view file;
};
Result<DeviceFile> ParseDeviceFile(std::string_view path);
// The canonical text (upper case, dashes every four) of a UDF of exactly `bits` bits; empty
// for anything else, a non-canonical spelling of one included.
std::string CanonicalUdf(std::string_view text, int bits);

// The UDF a plain voucher (no enrollment, no device key: DESIGN.md 5) is filed under: the
// content digest of its serial number as media type "application/vouch-serial-number", 140
// bits, so that a pledge that knows only its serial finds its directory. A serial is not unique
// across manufacturers: a directory may hold vouchers for several pledges, each of which
// keeps only what its own anchor signed.
std::string SerialUdf(std::string_view serial_number);

// Where an envelope belongs, from what it says: the device key inside the voucher (the
// serial's UDF for a plain voucher) and the envelope's id. The first decodes the
// voucher (in full, so one that does not decode is refused; the signature is not checked);
// the second files a voucher already decoded, as VerifyVoucher returns it.
Result<LayoutEntry> LayoutEntryOf(const Envelope& envelope);
Result<LayoutEntry> LayoutEntryOf(const Envelope& envelope, const Voucher& voucher);

// The one check of bytes found at a layout path (a bundle entry, a file on a stick, a blob
// in a cache): they must have the id they are filed under, and be the kind of envelope
// the extension names. Returns them identified, kind and id from the path, so nothing
// hashes them again. kIdMismatch, naming `where`.
Result<Envelope> CheckFiled(const LayoutEntry& filed, Bytes bytes, std::string_view where);

// Writes an envelope at its layout path under `dir` (atomically; the name is the content's
// id, so an existing file of that name already holds these bytes). Returns the path.
Result<std::string> FileEnvelope(const Envelope& envelope, std::string_view device_udf, const std::string& dir);
// The same into a batch (libvoucher/file.h FileBatch): the path, and the ticket Commit
// answers for it by. Nothing is at the path until the batch commits.
Result<std::pair<std::string, size_t>> StageEnvelope(const Envelope& envelope, std::string_view device_udf, const std::string& dir,
                                                     FileBatch& batch);

// Parses a layout path and refuses anything that is not exactly one: wrong depth, prefix
// characters that do not match the device UDF, non-canonical UDFs, unknown extension.
// kMalformed, naming the path.
Result<LayoutEntry> ParseLayoutPath(std::string_view path);

// A voucher's proof of inclusion in a transparency log (formats/tlog/proof.h) sits beside
// it: the voucher's layout path + ".tlog-proof". One proof per voucher, whatever the log.
inline constexpr std::string_view kProofSuffix = ".tlog-proof";
std::string ProofPath(const LayoutEntry& voucher);
bool IsProofPath(std::string_view path);  // ends in kProofSuffix (not checked further)
// The voucher a proof path is for: kMalformed unless it is a layout path + ".tlog-proof".
Result<LayoutEntry> ParseProofPath(std::string_view path);

}  // namespace vouch::formats
