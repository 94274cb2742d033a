#include "cache/status.h"

#include <map>
#include <tuple>

#include "cache/receipts.h"
#include "formats/envelope.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"
#include "libvoucher/parallel.h"

namespace vouch::cache {
namespace {

using Files = std::vector<std::pair<std::string, git::ObjectId>>;

// What status needs of one voucher: no more is kept while the fleet's vouchers are read.
struct VoucherFacts {
  Instant created_on;
  std::string created_on_text;
  std::optional<Bytes> certificate;  // DER of the certificate for Z, parsed for the newest only
};

// The files of the devices asked for: every device's (the whole folder, one walk) or each
// named device's directory alone, so that asking for a few costs a few.
Result<Files> FilesOf(const git::Tree& tree, const std::set<std::string>& devices, std::string_view root,
                      Result<std::string> (*directory)(std::string_view)) {
  if (devices.empty()) return tree.Files(root);
  Files out;
  for (const std::string& d : devices) {
    VOUCH_ASSIGN_OR_RETURN(std::string dir, directory(d));
    VOUCH_ASSIGN_OR_RETURN(Files some, tree.Files(dir));
    out.insert(out.end(), std::make_move_iterator(some.begin()), std::make_move_iterator(some.end()));
  }
  return out;
}

std::vector<git::ObjectId> Blobs(const Files& files) {
  std::vector<git::ObjectId> ids;
  ids.reserve(files.size());
  for (const auto& f : files) ids.push_back(f.second);
  return ids;
}

Result<VoucherFacts> ReadVoucherFacts(const formats::LayoutEntry& entry, Result<Bytes> blob) {
  if (!blob.ok()) return blob.status();
  VOUCH_ASSIGN_OR_RETURN(Voucher v, formats::DecodeUnverified(formats::Envelope{entry.kind, entry.voucher_id, std::move(*blob)}));
  VoucherFacts f{v.created_on, std::move(v.created_on_text), std::nullopt};
  if (v.enrollment && v.enrollment->certificate) f.certificate = std::move(*v.enrollment->certificate);
  return f;
}

}  // namespace

Result<FleetStatus> ReadFleetStatus(const Cache& cache, const FleetStatusRequest& request) {
  const git::Repository& repo = cache.repository();
  std::map<std::string, DeviceStatus> devices;
  for (const std::string& d : request.devices) devices[d].device = d;  // reported even with nothing filed
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, repo.Resolve(kBranch));
  git::Tree tree;
  if (tip) {
    VOUCH_ASSIGN_OR_RETURN(tree, repo.TreeOf(*tip));
  }
  VOUCH_ASSIGN_OR_RETURN(Files voucher_files, FilesOf(tree, request.devices, formats::kLayoutRoot, formats::DeviceDirectory));
  VOUCH_ASSIGN_OR_RETURN(Files receipt_files, FilesOf(tree, request.devices, formats::kReceiptRoot, ReceiptDirectory));

  // Vouchers: filed by their paths, decoded on every core.
  std::vector<formats::LayoutEntry> entries(voucher_files.size());
  for (size_t i = 0; i < voucher_files.size(); ++i) {
    auto e = formats::ParseLayoutPath(voucher_files[i].first);
    if (!e.ok()) return e.status();
    entries[i] = std::move(*e);
  }
  std::vector<Result<VoucherFacts>> facts(voucher_files.size(), Result<VoucherFacts>(VoucherFacts{}));
  VOUCH_RETURN_IF_ERROR(repo.ReadBlobs(Blobs(voucher_files), formats::kMaxVoucherSize, [&](size_t i, Result<Bytes> blob) {
    facts[i] = ReadVoucherFacts(entries[i], std::move(blob));
  }));
  std::map<std::string, size_t> newest_index;  // device -> index into entries
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!facts[i].ok()) return facts[i].status().Context(voucher_files[i].first);
    DeviceStatus& d = devices[entries[i].device_udf];
    d.device = entries[i].device_udf;
    ++d.vouchers;
    auto [at, first] = newest_index.emplace(d.device, i);
    const size_t held = at->second;
    // Ordered as devices order them: by created-on, then by id.
    if (!first && std::tie(facts[i]->created_on, entries[i].voucher_id) > std::tie(facts[held]->created_on, entries[held].voucher_id)) {
      at->second = i;
    }
  }

  // Receipts: the highest generation of each device's (ties, which a device never writes, by id).
  std::vector<Result<HeldReceipt>> held(receipt_files.size(), Result<HeldReceipt>(HeldReceipt{}));
  VOUCH_RETURN_IF_ERROR(repo.ReadBlobs(Blobs(receipt_files), formats::kMaxReceiptSize, [&](size_t i, Result<Bytes> blob) {
    held[i] = blob.ok() ? ReadHeldReceipt(*blob) : Result<HeldReceipt>(blob.status());
  }));
  for (size_t i = 0; i < receipt_files.size(); ++i) {
    const std::string& path = receipt_files[i].first;
    if (!held[i].ok()) return held[i].status().Context(path);
    VOUCH_ASSIGN_OR_RETURN(formats::ReceiptPathParts parts, ParseReceiptTreePath(path));
    DeviceStatus& d = devices[parts.device_udf];
    d.device = parts.device_udf;
    HeldReceipt& h = *held[i];
    if (d.enrolled && std::tie(h.generation, parts.receipt_id) < std::tie(d.enrolled->generation, d.enrolled->receipt_id)) continue;
    d.enrolled = DeviceStatus::Enrolled{parts.receipt_id, h.generation, h.time, std::move(h.time_text), std::move(h.voucher_id)};
  }

  // The newest voucher of each device, and its certificate's notAfter (parsed on every core).
  FleetStatus out;
  out.devices.reserve(devices.size());
  for (auto& [udf, d] : devices) out.devices.push_back(std::move(d));
  std::vector<Status> parsed(out.devices.size());
  ParallelFor(out.devices.size(), [&](size_t k) {
    DeviceStatus& d = out.devices[k];
    auto it = newest_index.find(d.device);
    if (it == newest_index.end()) return;
    VoucherFacts& f = *facts[it->second];
    DeviceStatus::Newest n{entries[it->second].voucher_id, f.created_on, std::move(f.created_on_text), std::nullopt};
    if (f.certificate) {
      auto cert = Certificate::FromDer(*f.certificate);
      if (!cert.ok()) {
        parsed[k] = cert.status().Context("the certificate in voucher " + n.id);
        return;
      }
      n.certificate_not_after = cert->NotAfter();
    }
    d.newest = std::move(n);
  });
  const Instant horizon = request.now.Plus(request.within_seconds);
  for (size_t k = 0; k < out.devices.size(); ++k) {
    VOUCH_RETURN_IF_ERROR(parsed[k]);
    DeviceStatus& d = out.devices[k];
    // A voucher without a certificate for Z has nothing to renew: never due.
    d.renewal_due = d.newest && d.newest->certificate_not_after && *d.newest->certificate_not_after <= horizon;
    out.enrolled += d.enrolled.has_value();
    out.renewal_due += d.renewal_due;
  }
  return out;
}

}  // namespace vouch::cache
