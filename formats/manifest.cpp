#include "formats/manifest.h"

#include "formats/json.h"
#include "formats/layout.h"
#include "formats/tlog/proof.h"
#include "libvoucher/udf.h"

namespace vouch::formats {

static_assert(tlog::kMaxProofSize == 64 * 1024, "manifest.h's default proof cap is tlog's");

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

Result<Manifest> DecodeManifest(ByteView bytes, size_t max_entries, uint64_t max_voucher, uint64_t max_proof) {
  // A manifest line is under 300 bytes; the cap follows the entry cap.
  VOUCH_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJson(bytes, ManifestCap(max_entries), "bundle manifest"));
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
  // Each voucher may have its proof: twice the voucher cap bounds the entries before any is
  // read, and the vouchers are counted as they are.
  if (entries->size() > 2 * max_entries) {
    return Error(Code::kTooManyEntries, "bundle holds " + std::to_string(entries->size()) + " entries, over the cap of " +
                                            std::to_string(max_entries) + " vouchers and their proofs");
  }
  if (count->get<uint64_t>() != entries->size()) {
    return Error(Code::kManifestMismatch, "bundle manifest count is not the number of its entries");
  }
  Manifest m;
  m.created_on = created->get<std::string>();
  size_t vouchers = 0;
  for (const auto& e : *entries) {
    if (!e.is_object() || !e.contains("path") || !e["path"].is_string() || !e.contains("size") ||
        !e["size"].is_number_unsigned() || !e.contains("id") || !e["id"].is_string() || e.size() != 3) {
      return Error(Code::kMalformed, "bundle manifest entry is not {path, size, id}");
    }
    ManifestEntry me{e["path"].get<std::string>(), e["size"].get<uint64_t>(), e["id"].get<std::string>()};
    me.proof = IsProofPath(me.path);
    auto layout = me.proof ? ParseProofPath(me.path) : ParseLayoutPath(me.path);
    if (!layout.ok()) return Error(Code::kUnsafePath, "bundle manifest: " + layout.status().message());
    if (layout->voucher_id != me.id) {
      return Error(Code::kManifestMismatch, "bundle manifest id " + me.id.substr(0, 14) + "... is not the id its path names");
    }
    uint64_t cap = me.proof ? max_proof : max_voucher;
    if (me.size > cap) {
      return Error(Code::kTooLarge, "bundle entry " + me.path + " declares " + std::to_string(me.size) + " bytes, over the cap");
    }
    if (!m.entries.empty() && !(m.entries.back().path < me.path)) {
      return Error(Code::kManifestUnsorted, "bundle manifest entries are not sorted by path without repeats");
    }
    // Sorted by path, a voucher's proof comes right after it (nothing valid sorts between
    // "X.vjj" and "X.vjj.tlog-proof"). A proof whose voucher is not there is refused, not
    // ignored: a bundle lists exactly what it holds, and no writer makes one.
    if (me.proof && (m.entries.empty() || m.entries.back().proof ||
                     m.entries.back().path != std::string_view(me.path).substr(0, me.path.size() - kProofSuffix.size()))) {
      return Error(Code::kManifestMismatch, "bundle manifest lists the proof " + me.path.substr(0, 200) + " without its voucher");
    }
    if (!me.proof && ++vouchers > max_entries) {
      return Error(Code::kTooManyEntries, "bundle holds more than " + std::to_string(max_entries) + " vouchers");
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
