#include "formats/manifest.h"

#include "formats/json.h"
#include "formats/layout.h"
#include "libvoucher/udf.h"

namespace vouch::formats {

Bytes EncodeManifest(const Manifest& m) {
  nlohmann::ordered_json doc;
  doc["format"] = kManifestFormat;
  doc["created-on"] = m.created_on;
  doc["count"] = m.entries.size();
  doc["entries"] = nlohmann::ordered_json::array();
  for (const auto& e : m.entries) {
    nlohmann::ordered_json j;
    j["path"] = e.path;
    j["size"] = e.size;
    j["id"] = e.id;
    doc["entries"].push_back(std::move(j));
  }
  return ToBytes(Compact(doc));
}

Result<Manifest> DecodeManifest(ByteView bytes, size_t max_entries, uint64_t max_voucher) {
  // A manifest line is under 300 bytes; the cap follows the entry cap.
  VOUCH_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJson(bytes, 512 * (max_entries + 1), "bundle manifest"));
  // Types are checked before values are read: nlohmann's value() and get() throw on a
  // mismatch (the fuzzer's first find: {"format":{}} crashed the reader).
  auto format = doc.is_object() ? doc.find("format") : doc.end();
  if (!doc.is_object() || format == doc.end() || !format->is_string() || *format != kManifestFormat) {
    return Error(Code::kMalformed, "bundle manifest is not format vouch-bundle/1");
  }
  auto created = doc.find("created-on");
  auto count = doc.find("count");
  auto entries = doc.find("entries");
  if (created == doc.end() || !created->is_string() || count == doc.end() || !count->is_number_unsigned() ||
      entries == doc.end() || !entries->is_array()) {
    return Error(Code::kMalformed, "bundle manifest lacks created-on, count or entries");
  }
  if (entries->size() > max_entries) {
    return Error(Code::kTooManyEntries, "bundle holds " + std::to_string(entries->size()) + " vouchers, over the cap of " +
                                            std::to_string(max_entries));
  }
  if (count->get<uint64_t>() != entries->size()) {
    return Error(Code::kManifestMismatch, "bundle manifest count is not the number of its entries");
  }
  Manifest m;
  m.created_on = created->get<std::string>();
  for (const auto& e : *entries) {
    if (!e.is_object() || !e.contains("path") || !e["path"].is_string() || !e.contains("size") ||
        !e["size"].is_number_unsigned() || !e.contains("id") || !e["id"].is_string() || e.size() != 3) {
      return Error(Code::kMalformed, "bundle manifest entry is not {path, size, id}");
    }
    ManifestEntry me{e["path"].get<std::string>(), e["size"].get<uint64_t>(), e["id"].get<std::string>()};
    auto layout = ParseLayoutPath(me.path);
    if (!layout.ok()) return Error(Code::kUnsafePath, "bundle manifest: " + layout.status().message());
    if (layout->voucher_id != me.id) {
      return Error(Code::kManifestMismatch, "bundle manifest id " + me.id.substr(0, 14) + "... is not the id its path names");
    }
    if (me.size > max_voucher) {
      return Error(Code::kTooLarge, "bundle entry " + me.path + " declares " + std::to_string(me.size) + " bytes, over the cap");
    }
    if (!m.entries.empty() && !(m.entries.back().path < me.path)) {
      return Error(Code::kManifestUnsorted, "bundle manifest entries are not sorted by path without repeats");
    }
    m.entries.push_back(std::move(me));
  }
  return m;
}

std::string BundleId(ByteView manifest_bytes) {
  auto id = udf::ContentDigest(udf::Alg::kSha2_512, kBundleMediaType, manifest_bytes, udf::kContentBits);
  return id.ok() ? *id : std::string();
}

}  // namespace vouch::formats
