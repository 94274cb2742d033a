#include "cache/status.h"

#include <map>
#include <tuple>

#include "cache/receipts.h"
#include "cache/status_facts.h"
#include "formats/envelope.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"

namespace vouch::cache {
namespace {

using Files = std::vector<std::pair<std::string, git::ObjectId>>;

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

// What status needs of a voucher: decoded without its signature, its certificate's notAfter
// read alone.
Result<VoucherFacts> ReadVoucherFacts(const formats::LayoutEntry& entry, Result<Bytes> blob) {
  if (!blob.ok()) return blob.status();
  VOUCH_ASSIGN_OR_RETURN(Voucher v, formats::DecodeUnverified(formats::Envelope{entry.kind, entry.voucher_id, std::move(*blob)}));
  VoucherFacts f{v.created_on, std::nullopt};
  if (v.enrollment && v.enrollment->certificate) {
    auto not_after = CertificateNotAfter(*v.enrollment->certificate);
    if (!not_after.ok()) return not_after.status().Context("the certificate for Z");
    f.certificate_not_after = *not_after;
  }
  return f;
}

Result<ReceiptFacts> ReadReceiptFacts(Result<Bytes> blob) {
  if (!blob.ok()) return blob.status();
  VOUCH_ASSIGN_OR_RETURN(HeldReceipt h, ReadHeldReceipt(*blob));
  return ReceiptFacts{h.generation, h.time, std::move(h.voucher_id)};
}

// Facts of every file: from `known` when it has them, else read from the blobs (on every
// core) and added to it. `read` turns one blob into facts.
template <class F, class Read>
Result<std::vector<F>> FactsOf(const git::Repository& repo, const Files& files, uint64_t cap, StatusFacts* known,
                               const F* (StatusFacts::*lookup)(const git::ObjectId&) const, Read read) {
  std::vector<F> out(files.size());
  std::vector<size_t> missing;
  for (size_t i = 0; i < files.size(); ++i) {
    if (const F* f = (known->*lookup)(files[i].second)) out[i] = *f;
    else missing.push_back(i);
  }
  std::vector<git::ObjectId> ids;
  ids.reserve(missing.size());
  for (size_t i : missing) ids.push_back(files[i].second);
  std::vector<Result<F>> got(missing.size(), Result<F>(F{}));
  VOUCH_RETURN_IF_ERROR(repo.ReadBlobs(ids, cap, [&](size_t k, Result<Bytes> blob) { got[k] = read(missing[k], std::move(blob)); }));
  for (size_t k = 0; k < missing.size(); ++k) {
    const size_t i = missing[k];
    if (!got[k].ok()) return got[k].status().Context(files[i].first);
    out[i] = std::move(*got[k]);
    known->Add(files[i].second, out[i]);
  }
  return out;
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

  StatusFacts known = StatusFacts::Load(cache.path());

  // Vouchers: filed by their paths; what is not known yet decoded on every core.
  std::vector<formats::LayoutEntry> entries(voucher_files.size());
  for (size_t i = 0; i < voucher_files.size(); ++i) {
    auto e = formats::ParseLayoutPath(voucher_files[i].first);
    if (!e.ok()) return e.status();
    entries[i] = std::move(*e);
  }
  VOUCH_ASSIGN_OR_RETURN(std::vector<VoucherFacts> vouchers,
                         FactsOf(repo, voucher_files, formats::kMaxVoucherSize, &known, &StatusFacts::Voucher,
                                 [&](size_t i, Result<Bytes> blob) { return ReadVoucherFacts(entries[i], std::move(blob)); }));
  for (size_t i = 0; i < entries.size(); ++i) {
    DeviceStatus& d = devices[entries[i].device_udf];
    d.device = entries[i].device_udf;
    ++d.vouchers;
    // Ordered as devices order them: by created-on, then by id.
    const VoucherFacts& f = vouchers[i];
    if (d.newest && std::tie(f.created_on, entries[i].voucher_id) < std::tie(d.newest->created_on, d.newest->id)) continue;
    d.newest = DeviceStatus::Newest{entries[i].voucher_id, f.created_on, f.certificate_not_after};
  }

  // Receipts: the highest generation of each device's (ties, which a device never writes, by id).
  VOUCH_ASSIGN_OR_RETURN(std::vector<ReceiptFacts> receipts,
                         FactsOf(repo, receipt_files, formats::kMaxReceiptSize, &known, &StatusFacts::Receipt,
                                 [](size_t, Result<Bytes> blob) { return ReadReceiptFacts(std::move(blob)); }));
  for (size_t i = 0; i < receipt_files.size(); ++i) {
    VOUCH_ASSIGN_OR_RETURN(formats::ReceiptPathParts parts, ParseReceiptTreePath(receipt_files[i].first));
    DeviceStatus& d = devices[parts.device_udf];
    d.device = parts.device_udf;
    ReceiptFacts& r = receipts[i];
    if (d.enrolled && std::tie(r.generation, parts.receipt_id) < std::tie(d.enrolled->generation, d.enrolled->receipt_id)) continue;
    d.enrolled = DeviceStatus::Enrolled{parts.receipt_id, r.generation, r.time, std::move(r.voucher_id)};
  }
  // Best effort: a cache this user cannot write is still answered, only not faster next time.
  (void)known.Save();

  FleetStatus out;
  out.devices.reserve(devices.size());
  for (auto& [udf, d] : devices) out.devices.push_back(std::move(d));
  const Instant horizon = request.now.Plus(request.within_seconds);
  for (DeviceStatus& d : out.devices) {
    // A voucher without a certificate for Z has nothing to renew: never due.
    d.renewal_due = d.newest && d.newest->certificate_not_after && *d.newest->certificate_not_after <= horizon;
    out.enrolled += d.enrolled.has_value();
    out.renewal_due += d.renewal_due;
  }
  return out;
}

}  // namespace vouch::cache
