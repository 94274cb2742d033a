// Receipts in the cache: their paths, what is read back of one held, and the cache's rules for
// taking one in (Cache::CheckFiledReceipt for histories, Cache::AddReceipts for imports).
#include "cache/receipts.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "cache/cache.h"
#include "cache/git/staging.h"
#include "formats/datetime.h"
#include "formats/json.h"
#include "formats/jws.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"
#include "libvoucher/parallel.h"

namespace vouch::cache {
namespace {

std::string RootSlash() { return std::string(formats::kReceiptRoot) + "/"; }

}  // namespace

Result<std::string> ReceiptTreePath(std::string_view device_udf, std::string_view receipt_id) {
  VOUCH_ASSIGN_OR_RETURN(std::string rel, formats::ReceiptPath(device_udf, receipt_id));
  return RootSlash() + rel;
}

Result<std::string> ReceiptDirectory(std::string_view device_udf) {
  VOUCH_ASSIGN_OR_RETURN(std::string dir, formats::DeviceSubdirectory(device_udf));
  return RootSlash() + dir;
}

bool IsReceiptTreePath(std::string_view path) { return path.substr(0, formats::kReceiptRoot.size() + 1) == RootSlash(); }

Result<formats::ReceiptPathParts> ParseReceiptTreePath(std::string_view path) {
  if (!IsReceiptTreePath(path)) {
    return Error(Code::kMalformed, "'" + std::string(path.substr(0, 200)) + "' is not under " + RootSlash());
  }
  return formats::ParseReceiptPath(path.substr(formats::kReceiptRoot.size() + 1));
}

Result<HeldReceipt> ReadHeldReceipt(ByteView bytes) {
  VOUCH_ASSIGN_OR_RETURN(formats::Unverified jws, formats::OpenJwsUnverified(bytes, formats::kReceiptTyp));
  VOUCH_ASSIGN_OR_RETURN(nlohmann::json doc, formats::ParseJson(jws.payload, formats::kMaxReceiptSize, "receipt payload"));
  auto bad = [](const char* what) { return Error(Code::kMalformed, std::string("receipt payload has no ") + what); };
  if (!doc.is_object() || !doc.contains("vouch-receipt") || !doc["vouch-receipt"].is_object()) return bad("vouch-receipt object");
  const nlohmann::json& r = doc["vouch-receipt"];
  HeldReceipt out;
  if (!r.contains("voucher-id") || !r["voucher-id"].is_string()) return bad("voucher-id");
  if (!r.contains("generation") || !r["generation"].is_number_integer()) return bad("generation");
  if (!r.contains("time") || !r["time"].is_string()) return bad("time");
  out.voucher_id = r["voucher-id"].get<std::string>();
  out.generation = r["generation"].get<int64_t>();
  out.time_text = r["time"].get<std::string>();
  VOUCH_ASSIGN_OR_RETURN(out.time, formats::ParseDateTime(out.time_text));
  return out;
}

Result<std::string> Cache::CheckFiledReceipt(const std::string& path, ByteView bytes) const {
  auto parts = ParseReceiptTreePath(path);
  if (!parts.ok()) return Error(Code::kUnsafePath, parts.status().message());
  if (formats::ReceiptId(bytes) != parts->receipt_id) {
    return Error(Code::kIdMismatch, path + ": bytes do not have the id they are filed under");
  }
  auto verified = formats::VerifyReceipt(bytes);
  if (!verified.ok()) return verified.status().Context(path);
  if (verified->receipt.device_key != parts->device_udf) {
    return Error(Code::kWrongDevice, path + ": the receipt inside is for another device");
  }
  return path;
}

Result<bool> Cache::AdmitReceipt(const formats::VerifiedReceipt& v, const std::string& path, const git::Tree& base,
                                 git::Staging& staging, const std::map<std::string, git::ObjectId>& entries,
                                 std::map<std::string, std::pair<int64_t, std::string>>* highest) const {
  const formats::Receipt& r = v.receipt;
  // Named by the id of its bytes: the same path is the same receipt.
  if (entries.count(path) || base.EntryAt(path)) return false;
  // The voucher it names, under its own device's directory, in the cache as it is or as
  // this import stages it (the staging repository reads both).
  VOUCH_ASSIGN_OR_RETURN(std::string dir, formats::DeviceDirectory(r.device_key));
  std::optional<formats::LayoutEntry> filed;
  std::optional<git::ObjectId> blob;
  for (formats::EnvelopeKind kind : formats::kEnvelopeKinds) {
    formats::LayoutEntry e{r.device_key, r.voucher_id, kind};
    std::string at = formats::LayoutPath(e);
    if (auto it = entries.find(at); it != entries.end()) blob = it->second;
    else blob = base.EntryAt(at);
    if (blob) {
      filed = e;
      break;
    }
  }
  if (!blob) {
    return Error(Code::kNotFound, "receipt " + v.id + " names voucher " + r.voucher_id + ", which is not among the vouchers of device " +
                                      r.device_key + " in the cache");
  }
  VOUCH_ASSIGN_OR_RETURN(Bytes bytes, staging.reader().ReadBlob(*blob, formats::kMaxVoucherSize));
  VOUCH_ASSIGN_OR_RETURN(formats::Envelope envelope, formats::CheckFiled(*filed, std::move(bytes), dir));
  VOUCH_ASSIGN_OR_RETURN(Voucher voucher, formats::DecodeUnverified(envelope));
  auto voucher_dir = voucher.enrollment ? formats::DeviceDirectory(voucher.enrollment->device_key) : Result<std::string>(std::string());
  if (!voucher_dir.ok() || *voucher_dir != dir) {
    return Error(Code::kWrongDevice, "receipt " + v.id + " is for device " + r.device_key + ", voucher " + r.voucher_id + " for another");
  }
  auto z = PublicKey::FromSpkiDer(voucher.enrollment->combined_key);
  if (!z.ok() || !(*z == r.combined_key)) {
    return Error(Code::kCombinedKeyMismatch, "receipt " + v.id + " names a combined key other than voucher " + r.voucher_id + "'s");
  }
  // Generations only grow: the highest held for the device, read once per device per import.
  auto known = highest->find(r.device_key);
  if (known == highest->end()) {
    std::pair<int64_t, std::string> top{0, ""};
    VOUCH_ASSIGN_OR_RETURN(std::string receipts_dir, ReceiptDirectory(r.device_key));
    VOUCH_ASSIGN_OR_RETURN(auto held, base.Files(receipts_dir));
    for (const auto& [held_path, held_blob] : held) {
      VOUCH_ASSIGN_OR_RETURN(Bytes b, repo_.ReadBlob(held_blob, formats::kMaxReceiptSize));
      auto h = ReadHeldReceipt(b);
      if (!h.ok()) return h.status().Context(held_path);
      if (h->generation > top.first) top = {h->generation, h->voucher_id};
    }
    known = highest->emplace(r.device_key, top).first;
  }
  // The same enrollment told again (a P-256 device signs afresh each time it is asked, and
  // dist/vouch-fetch.in asks at every insertion of a stick that wants receipts) is nothing new:
  // not added, not refused.
  if (r.generation == known->second.first && r.voucher_id == known->second.second) return false;
  if (r.generation <= known->second.first) {
    return Error(Code::kRollback, "receipt " + v.id + " is generation " + std::to_string(r.generation) + ", not after generation " +
                                      std::to_string(known->second.first) + " already held for device " + r.device_key);
  }
  known->second = {r.generation, r.voucher_id};
  return true;
}

Status Cache::AddReceipts(const std::vector<Offered>& offered, const std::string& source, const git::Tree& base,
                          git::Staging& staging, const StagedUnder& staged,
                          std::vector<std::pair<std::string, git::ObjectId>>* admitted_out, AddReport* report) {
  // Verifying is the costly part (two signatures each) and each receipt stands alone.
  struct Checked {
    Result<formats::VerifiedReceipt> receipt = Error(Code::kInternal, "not checked");
    std::string path;
  };
  std::vector<Checked> checked(offered.size());
  ParallelFor(offered.size(), [&](size_t i) {
    Checked& c = checked[i];
    c.receipt = formats::VerifyReceipt(offered[i].bytes);
    if (!c.receipt.ok()) return;
    auto path = ReceiptTreePath(c.receipt->receipt.device_key, c.receipt->id);
    if (!path.ok()) c.receipt = path.status();
    else c.path = *path;
  }, /*grain=*/8);
  // Each device's receipts oldest first: an import may bring a device's whole run of them.
  std::vector<size_t> order(offered.size());
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](size_t i) {
    return checked[i].receipt.ok() ? std::make_pair(checked[i].receipt->receipt.device_key, checked[i].receipt->receipt.generation)
                                   : std::make_pair(std::string(), int64_t{0});
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  // This import's vouchers under the receipts' devices: the only ones a receipt can name.
  std::set<std::string> dirs;
  for (const Checked& c : checked) {
    if (!c.receipt.ok()) continue;
    if (auto dir = formats::DeviceDirectory(c.receipt->receipt.device_key); dir.ok()) dirs.insert(*dir + "/");
  }
  std::map<std::string, git::ObjectId> entries;
  if (!dirs.empty()) {
    VOUCH_ASSIGN_OR_RETURN(entries, staged(dirs));
  }
  std::map<std::string, std::pair<int64_t, std::string>> highest;
  for (size_t i : order) {
    const Offered& o = offered[i];
    Checked& c = checked[i];
    Result<bool> admitted = c.receipt.ok() ? AdmitReceipt(*c.receipt, c.path, base, staging, entries, &highest)
                                           : Result<bool>(c.receipt.status());
    if (admitted.ok() && !*admitted) {
      ++report->present;
      continue;
    }
    if (admitted.ok()) {
      const git::ObjectId blob = git::ObjectId::OfBlob(o.bytes);
      VOUCH_RETURN_IF_ERROR(staging.WriteBlob(blob, o.bytes));
      entries.emplace(c.path, blob);
      admitted_out->emplace_back(c.path, blob);
      continue;
    }
    CandidateReport refused;
    refused.source = o.source.empty() ? source : o.source;
    if (c.receipt.ok()) refused.id = c.receipt->id;
    refused.status = admitted.status();
    report->refused.push_back(std::move(refused));
  }
  return Status::Ok();
}

}  // namespace vouch::cache
