#include "formats/layout.h"

#include <filesystem>
#include <vector>

#include "formats/voucher_json.h"
#include "libvoucher/file.h"
#include "libvoucher/udf.h"

namespace vouch::formats {
namespace {

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '/') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

}  // namespace

std::string CanonicalUdf(std::string_view text, int bits) {
  // What udf::Udf::Parse and ToString would give back unchanged: bits / 5 upper-case base32
  // characters in groups of four joined by dashes. Checked here character by character, as
  // a manifest has thousands of paths (layout_test compares this with Parse and ToString).
  if (bits < udf::kMinBits || bits > udf::kMaxBits || bits % 5 != 0) return {};
  const size_t chars = static_cast<size_t>(bits / 5);
  if (text.size() != chars + (chars - 1) / 4) return {};
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i % 5 == 4 ? c != '-' : !((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) return {};
  }
  return std::string(text);
}

Result<std::string> DeviceSubdirectory(std::string_view device_udf) {
  auto u = udf::Udf::Parse(device_udf);
  if (!u.ok() || u->bits() != udf::kKeyBits) {
    return Error(Code::kMalformed, "'" + std::string(device_udf) + "' is not a 140-bit device UDF");
  }
  const std::string& c = u->chars();
  return c.substr(1, 2) + "/" + c.substr(3, 2) + "/" + u->ToString();
}

Result<std::string> DeviceDirectory(std::string_view device_udf) {
  VOUCH_ASSIGN_OR_RETURN(std::string sub, DeviceSubdirectory(device_udf));
  return std::string(kLayoutRoot) + "/" + sub;
}

Result<DeviceFile> ParseDeviceFile(std::string_view path) {
  auto parts = Split(path);
  if (parts.size() != 4) return Error(Code::kMalformed, "not <root>/XX/XX/DEVICE/FILE");
  DeviceFile f{CanonicalUdf(parts[2], udf::kKeyBits), parts[3]};
  if (f.device_udf.empty()) return Error(Code::kMalformed, "device directory is not a canonical 140-bit UDF");
  // c1c2 and c3c4 are the 2nd to 5th characters without dashes; the canonical text puts
  // its first dash after the 4th. (A manifest has thousands of paths: no second parse.)
  const std::string& u = f.device_udf;
  if (parts[0].size() != 2 || parts[1].size() != 2 || parts[0][0] != u[1] || parts[0][1] != u[2] || parts[1][0] != u[3] ||
      parts[1][1] != u[5]) {
    return Error(Code::kMalformed, "prefix directories do not match the device UDF");
  }
  return f;
}

std::string LayoutPath(const LayoutEntry& e) {
  auto dir = DeviceDirectory(e.device_udf);
  return (dir.ok() ? *dir : std::string()) + "/" + e.voucher_id + "." + std::string(Extension(e.kind));
}

Result<LayoutEntry> ParseLayoutPath(std::string_view path) {
  auto bad = [&](const std::string& why) {
    return Error(Code::kMalformed, "'" + std::string(path.substr(0, 200)) + "' is not a layout path: " + why);
  };
  const std::string root = std::string(kLayoutRoot) + "/";
  if (path.substr(0, root.size()) != root) return bad("not vouchers/XX/XX/DEVICE/ID.ext");
  auto below = ParseDeviceFile(path.substr(root.size()));
  if (!below.ok()) return bad(below.status().message());
  LayoutEntry e;
  e.device_udf = std::move(below->device_udf);
  std::string_view file = below->file;
  size_t dot = file.rfind('.');
  if (dot == std::string_view::npos) return bad("file has no extension");
  auto kind = KindFromExtension(file.substr(dot + 1));
  if (!kind) return bad("extension is not .vjj, .vcj or .vch");
  e.kind = *kind;
  e.voucher_id = CanonicalUdf(file.substr(0, dot), udf::kContentBits);
  if (e.voucher_id.empty()) return bad("file name is not a canonical 260-bit voucher id");
  return e;
}

std::string SerialUdf(std::string_view serial_number) {
  auto u = udf::ContentDigest(udf::Alg::kSha2_512, "application/vouch-serial-number", AsBytes(serial_number), udf::kKeyBits);
  return u.ok() ? *u : std::string();
}

Result<LayoutEntry> LayoutEntryOf(const Envelope& envelope, const Voucher& v) {
  if (!v.enrollment) {
    std::string under = SerialUdf(v.serial_number);
    VOUCH_RETURN_IF_ERROR(DeviceDirectory(under).status());
    return LayoutEntry{under, envelope.id, envelope.kind};
  }
  VOUCH_RETURN_IF_ERROR(DeviceDirectory(v.enrollment->device_key).status());
  return LayoutEntry{v.enrollment->device_key, envelope.id, envelope.kind};
}

Result<LayoutEntry> LayoutEntryOf(const Envelope& envelope) {
  VOUCH_ASSIGN_OR_RETURN(Voucher v, DecodeUnverified(envelope));
  return LayoutEntryOf(envelope, v);
}

Result<Envelope> CheckFiled(const LayoutEntry& filed, Bytes bytes, std::string_view where) {
  std::string id = VoucherId(filed.kind, bytes);
  auto sniffed = Sniff(bytes);  // the extension's kind is the bytes' kind, or the id is not theirs
  if (id != filed.voucher_id || !sniffed.ok() || *sniffed != filed.kind) {
    return Error(Code::kIdMismatch, std::string(where) + ": bytes do not have the id they are filed under");
  }
  return Envelope{filed.kind, std::move(id), std::move(bytes)};
}

namespace {

// The envelope's layout path under `dir`, its folders made.
Result<std::filesystem::path> LayoutFolderFor(const Envelope& envelope, std::string_view device_udf, const std::string& dir) {
  namespace fs = std::filesystem;
  // LayoutPath has no error to return; without this check a UDF it cannot file (a plain
  // voucher's empty one) would make "/<ID>.vjj", a path outside `dir`.
  VOUCH_RETURN_IF_ERROR(DeviceDirectory(device_udf).status());
  fs::path path = fs::path(dir) / LayoutPath({std::string(device_udf), envelope.id, envelope.kind});
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Error(Code::kIo, path.parent_path().string() + ": cannot create directory: " + ec.message());
  return path;
}

}  // namespace

Result<std::string> FileEnvelope(const Envelope& envelope, std::string_view device_udf, const std::string& dir) {
  VOUCH_ASSIGN_OR_RETURN(std::filesystem::path path, LayoutFolderFor(envelope, device_udf, dir));
  VOUCH_RETURN_IF_ERROR(WriteFileAtomic(path, envelope.bytes, 0644));
  return path.string();
}

Result<std::pair<std::string, size_t>> StageEnvelope(const Envelope& envelope, std::string_view device_udf, const std::string& dir,
                                                     FileBatch& batch) {
  VOUCH_ASSIGN_OR_RETURN(std::filesystem::path path, LayoutFolderFor(envelope, device_udf, dir));
  VOUCH_ASSIGN_OR_RETURN(size_t ticket, batch.Stage(path, envelope.bytes, 0644));
  return std::pair{path.string(), ticket};
}

std::string ProofPath(const LayoutEntry& voucher) { return LayoutPath(voucher) + std::string(kProofSuffix); }

bool IsProofPath(std::string_view path) { return path.ends_with(kProofSuffix); }

Result<LayoutEntry> ParseProofPath(std::string_view path) {
  if (!IsProofPath(path)) return Error(Code::kMalformed, std::string(path) + ": not a proof path (no .tlog-proof)");
  return ParseLayoutPath(path.substr(0, path.size() - kProofSuffix.size()));
}

}  // namespace vouch::formats
