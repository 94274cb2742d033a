#include "cache/status.h"

#include <bitset>
#include <tuple>

#include "cache/git/tree_walk.h"
#include "cache/receipts.h"
#include "cache/status_facts.h"
#include "formats/envelope.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"

namespace vouch::cache {
namespace {

using Files = std::vector<std::pair<std::string, git::ObjectId>>;

// Devices are answered a batch at a time: enough blobs per batch to keep every core busy
// reading them, few enough that the batch's bytes and facts stay small.
constexpr size_t kBatchDevices = 1024;
constexpr size_t kBatchFiles = 8192;

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

// One device of a batch: its files, parsed, and what the facts file knew of them.
struct Work {
  std::string device;
  Files vouchers;
  std::vector<formats::LayoutEntry> entries;
  Files receipts;
  std::vector<formats::ReceiptPathParts> parts;
  DeviceFacts known;
};

class Batches {
 public:
  Batches(const git::Repository& repo, const FleetStatusRequest& request, StatusFacts* record,
          const std::function<Status(const DeviceStatus&)>& each)
      : repo_(repo), horizon_(request.now.Plus(request.within_seconds)), record_(record), each_(each) {}

  // Paths are parsed as they come, so a path out of the layout stops the run before its device.
  Status Add(std::string device, Files vouchers, Files receipts, DeviceFacts known) {
    Work w{std::move(device), std::move(vouchers), {}, std::move(receipts), {}, std::move(known)};
    w.entries.reserve(w.vouchers.size());
    for (const auto& [path, blob] : w.vouchers) {
      VOUCH_ASSIGN_OR_RETURN(formats::LayoutEntry e, formats::ParseLayoutPath(path));
      w.entries.push_back(std::move(e));
    }
    w.parts.reserve(w.receipts.size());
    for (const auto& [path, blob] : w.receipts) {
      VOUCH_ASSIGN_OR_RETURN(formats::ReceiptPathParts p, ParseReceiptTreePath(path));
      w.parts.push_back(std::move(p));
    }
    files_ += w.vouchers.size() + w.receipts.size();
    work_.push_back(std::move(w));
    return work_.size() >= kBatchDevices || files_ >= kBatchFiles ? Flush() : Status::Ok();
  }

  // Reads what the batch's facts lack (on every core), then answers its devices in order.
  Status Flush() {
    std::vector<std::pair<size_t, size_t>> at;  // (work, file) of each blob read
    std::vector<git::ObjectId> ids;
    for (size_t w = 0; w < work_.size(); ++w) {
      for (size_t i = 0; i < work_[w].vouchers.size(); ++i) {
        if (!work_[w].known.vouchers.contains(work_[w].vouchers[i].second)) at.emplace_back(w, i), ids.push_back(work_[w].vouchers[i].second);
      }
    }
    std::vector<Result<VoucherFacts>> vouchers(ids.size(), Result<VoucherFacts>(VoucherFacts{}));
    if (!ids.empty()) {
      VOUCH_RETURN_IF_ERROR(repo_.ReadBlobs(ids, formats::kMaxVoucherSize, [&](size_t k, Result<Bytes> blob) {
        vouchers[k] = ReadVoucherFacts(work_[at[k].first].entries[at[k].second], std::move(blob));
      }));
    }
    for (size_t k = 0; k < ids.size(); ++k) {
      Work& w = work_[at[k].first];
      if (!vouchers[k].ok()) return vouchers[k].status().Context(w.vouchers[at[k].second].first);
      w.known.vouchers.insert_or_assign(ids[k], *vouchers[k]);
    }
    at.clear();
    ids.clear();
    for (size_t w = 0; w < work_.size(); ++w) {
      for (size_t i = 0; i < work_[w].receipts.size(); ++i) {
        if (!work_[w].known.receipts.contains(work_[w].receipts[i].second)) at.emplace_back(w, i), ids.push_back(work_[w].receipts[i].second);
      }
    }
    std::vector<Result<ReceiptFacts>> receipts(ids.size(), Result<ReceiptFacts>(ReceiptFacts{}));
    if (!ids.empty()) {
      VOUCH_RETURN_IF_ERROR(repo_.ReadBlobs(ids, formats::kMaxReceiptSize,
                                            [&](size_t k, Result<Bytes> blob) { receipts[k] = ReadReceiptFacts(std::move(blob)); }));
    }
    for (size_t k = 0; k < ids.size(); ++k) {
      Work& w = work_[at[k].first];
      if (!receipts[k].ok()) return receipts[k].status().Context(w.receipts[at[k].second].first);
      w.known.receipts.insert_or_assign(ids[k], std::move(*receipts[k]));
    }
    for (const Work& w : work_) VOUCH_RETURN_IF_ERROR(Answer(w));
    work_.clear();
    files_ = 0;
    return Status::Ok();
  }

  const FleetSummary& summary() const { return summary_; }

 private:
  Status Answer(const Work& w) {
    DeviceStatus d;
    d.device = w.device;
    std::string lines;
    for (size_t i = 0; i < w.entries.size(); ++i) {
      const formats::LayoutEntry& e = w.entries[i];
      const VoucherFacts& f = w.known.vouchers.at(w.vouchers[i].second);
      if (record_) lines += FactsLine(w.device, w.vouchers[i].second, f);
      ++d.vouchers;
      // Ordered as devices order them: by created-on, then by id.
      if (d.newest && std::tie(f.created_on, e.voucher_id) < std::tie(d.newest->created_on, d.newest->id)) continue;
      d.newest = DeviceStatus::Newest{e.voucher_id, f.created_on, f.certificate_not_after};
    }
    // Receipts: the highest generation of the device's (ties, which a device never writes, by id).
    for (size_t i = 0; i < w.parts.size(); ++i) {
      const formats::ReceiptPathParts& p = w.parts[i];
      const ReceiptFacts& r = w.known.receipts.at(w.receipts[i].second);
      if (record_) lines += FactsLine(w.device, w.receipts[i].second, r);
      if (d.enrolled && std::tie(r.generation, p.receipt_id) < std::tie(d.enrolled->generation, d.enrolled->receipt_id)) continue;
      d.enrolled = DeviceStatus::Enrolled{p.receipt_id, r.generation, r.time, r.voucher_id};
    }
    if (record_) record_->Put(w.known, lines);
    // A voucher without a certificate for Z has nothing to renew: never due.
    d.renewal_due = d.newest && d.newest->certificate_not_after && *d.newest->certificate_not_after <= horizon_;
    ++summary_.devices;
    summary_.enrolled += d.enrolled.has_value();
    summary_.renewal_due += d.renewal_due;
    return each_(d);
  }

  const git::Repository& repo_;
  const Instant horizon_;
  StatusFacts* record_;
  const std::function<Status(const DeviceStatus&)>& each_;
  std::vector<Work> work_;
  size_t files_ = 0;
  FleetSummary summary_;
};

// Every device the branch holds, in UDF order. The tree files a device under
// <c1c2>/<c3c4>/<UDF>, which is UDF order among UDFs of one first character (the type of
// hash: every key fingerprint vouch makes starts with M), so the walk is made once per first
// character present (the first walk reads only the prefix directories to find which). The
// vouchers/ and receipts/ walks go side by side: both are in the same order, so each device's
// vouchers and receipts meet without either tree being held.
Status EveryDevice(const git::Tree& tree, StatusFacts* facts, Batches* batches) {
  std::bitset<256> firsts;
  for (std::string_view root : {formats::kLayoutRoot, formats::kReceiptRoot}) {
    VOUCH_ASSIGN_OR_RETURN(git::DirectoryWalk walk, git::DirectoryWalk::Start(tree, root, 3));
    auto note = [&](std::string_view name) {
      if (!name.empty()) firsts.set(static_cast<unsigned char>(name[0]));
      return false;
    };
    for (;;) {
      VOUCH_ASSIGN_OR_RETURN(std::optional<git::DirectoryWalk::Directory> d, walk.Next(note));
      if (!d) break;
      // A file out of the layout (no device) comes in every walk below, and is refused there.
      if (firsts.none()) firsts.set(0);
    }
  }
  for (size_t c = 0; c < firsts.size(); ++c) {
    if (!firsts[c]) continue;
    auto want = [c](std::string_view name) { return !name.empty() && static_cast<unsigned char>(name[0]) == c; };
    VOUCH_ASSIGN_OR_RETURN(git::DirectoryWalk vw, git::DirectoryWalk::Start(tree, formats::kLayoutRoot, 3));
    VOUCH_ASSIGN_OR_RETURN(git::DirectoryWalk rw, git::DirectoryWalk::Start(tree, formats::kReceiptRoot, 3));
    VOUCH_ASSIGN_OR_RETURN(std::optional<git::DirectoryWalk::Directory> v, vw.Next(want));
    VOUCH_ASSIGN_OR_RETURN(std::optional<git::DirectoryWalk::Directory> r, rw.Next(want));
    while (v || r) {
      const bool take_v = v && (!r || v->below <= r->below);
      const bool take_r = r && (!v || r->below <= v->below);
      const std::string device = take_v ? v->name : r->name;
      Files vouchers, receipts;
      if (take_v) vouchers = std::move(v->files);
      if (take_r) receipts = std::move(r->files);
      VOUCH_RETURN_IF_ERROR(batches->Add(device, std::move(vouchers), std::move(receipts), facts->Take(device)));
      if (take_v) {
        VOUCH_ASSIGN_OR_RETURN(v, vw.Next(want));
      }
      if (take_r) {
        VOUCH_ASSIGN_OR_RETURN(r, rw.Next(want));
      }
    }
  }
  return Status::Ok();
}

// The files of one device's directory, <root>/<c1c2>/<c3c4>/<UDF>, read from the <c1c2>
// tree of the device before when it is the same: named devices come in UDF order, so most
// share it with the one before, and the trees above it (the widest, 1,024 entries) are not
// read again for each (libgit2 keeps no parsed object: cache/git/git.cpp).
class Near {
 public:
  Result<Files> Read(const git::Tree& tree, const std::string& dir) {
    const size_t cut = dir.find('/', dir.find('/') + 1);  // after <root>/<c1c2>
    if (cut == std::string::npos) return tree.Files(dir);
    if (dir.compare(0, cut, path_) != 0) {
      VOUCH_ASSIGN_OR_RETURN(near_, tree.Subtree(dir.substr(0, cut)));
      path_ = dir.substr(0, cut);
    }
    VOUCH_ASSIGN_OR_RETURN(Files files, near_.Files(dir.substr(cut + 1)));
    for (auto& [path, blob] : files) path.insert(0, path_ + "/");
    return files;
  }

 private:
  std::string path_;
  git::Tree near_;
};

}  // namespace

Result<FleetSummary> ForEachDeviceStatus(const Cache& cache, const FleetStatusRequest& request,
                                         const std::function<Status(const DeviceStatus&)>& each) {
  const git::Repository& repo = cache.repository();
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, repo.Resolve(kBranch));
  git::Tree tree;
  if (tip) {
    VOUCH_ASSIGN_OR_RETURN(tree, repo.TreeOf(*tip));
  }
  StatusFacts facts = StatusFacts::Open(cache.path());
  if (!request.devices.empty()) {
    // Named devices: each device's directories and facts looked up alone, so that asking for
    // a few costs a few whatever the fleet. Nothing is recorded (the next full run does).
    Batches batches(repo, request, nullptr, each);
    Near vnear, rnear;
    for (const std::string& d : request.devices) {  // reported even with nothing filed
      VOUCH_ASSIGN_OR_RETURN(std::string vdir, formats::DeviceDirectory(d));
      VOUCH_ASSIGN_OR_RETURN(std::string rdir, ReceiptDirectory(d));
      VOUCH_ASSIGN_OR_RETURN(Files vouchers, vnear.Read(tree, vdir));
      VOUCH_ASSIGN_OR_RETURN(Files receipts, rnear.Read(tree, rdir));
      DeviceFacts known = vouchers.empty() && receipts.empty() ? DeviceFacts{} : facts.Find(d);
      VOUCH_RETURN_IF_ERROR(batches.Add(d, std::move(vouchers), std::move(receipts), std::move(known)));
    }
    VOUCH_RETURN_IF_ERROR(batches.Flush());
    return batches.summary();
  }
  Batches batches(repo, request, &facts, each);
  VOUCH_RETURN_IF_ERROR(EveryDevice(tree, &facts, &batches));
  VOUCH_RETURN_IF_ERROR(batches.Flush());
  // Best effort: a cache this user cannot write is still answered, only not faster next time.
  (void)facts.Save();
  return batches.summary();
}

Result<FleetStatus> ReadFleetStatus(const Cache& cache, const FleetStatusRequest& request) {
  FleetStatus out;
  VOUCH_ASSIGN_OR_RETURN(FleetSummary s, ForEachDeviceStatus(cache, request, [&](const DeviceStatus& d) {
    out.devices.push_back(d);
    return Status::Ok();
  }));
  out.enrolled = s.enrolled;
  out.renewal_due = s.renewal_due;
  return out;
}

}  // namespace vouch::cache
