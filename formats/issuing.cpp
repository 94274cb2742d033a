#include "formats/issuing.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>

#include "formats/layout.h"
#include "libvoucher/file.h"
#include "libvoucher/parallel.h"

namespace vouch::formats {

Issued Describe(Envelope envelope, const Voucher& voucher) {
  if (!voucher.enrollment) {
    return Issued{std::move(envelope), "", voucher.serial_number, SerialUdf(voucher.serial_number), "", ""};
  }
  const Enrollment& e = *voucher.enrollment;
  auto z = PublicKey::FromSpkiDer(e.combined_key);
  return Issued{std::move(envelope), e.device_key, voucher.serial_number, e.device_key,
                z.ok() ? z->Fingerprint() : std::string(), ""};
}

Result<Issued> IssueVoucher(const DraftRequest& request, EnvelopeKind kind, const Signer& signer) {
  VOUCH_ASSIGN_OR_RETURN(Draft draft, DraftVoucher(request));
  VOUCH_RETURN_IF_ERROR(CheckCreatedOnForSigning(draft.voucher, Instant::Now()));
  VOUCH_ASSIGN_OR_RETURN(Envelope envelope, SignVoucher(draft.voucher, kind, signer));
  return Describe(std::move(envelope), draft.voucher);
}

Result<Issued> IssueRenewal(const RenewalRequest& request, EnvelopeKind kind, const Signer& signer) {
  VOUCH_ASSIGN_OR_RETURN(Voucher voucher, DraftRenewal(request));
  VOUCH_RETURN_IF_ERROR(CheckCreatedOnForSigning(voucher, Instant::Now()));
  VOUCH_ASSIGN_OR_RETURN(Envelope envelope, SignVoucher(voucher, kind, signer));
  return Describe(std::move(envelope), voucher);
}

Result<Issued> IssuePlain(const PlainRequest& request, EnvelopeKind kind, const Signer& signer) {
  VOUCH_ASSIGN_OR_RETURN(Voucher voucher, DraftPlain(request));
  VOUCH_RETURN_IF_ERROR(CheckCreatedOnForSigning(voucher, Instant::Now()));
  VOUCH_ASSIGN_OR_RETURN(Envelope envelope, SignVoucher(voucher, kind, signer));
  return Describe(std::move(envelope), voucher);
}

Result<std::string> WriteIssued(const Envelope& envelope, const std::string& device_udf, const Destination& to) {
  if (to.out.empty() && device_udf.empty()) return Error(Code::kUsage, "no layout directory to file this voucher under: give --out FILE");
  if (to.out.empty()) return FileEnvelope(envelope, device_udf, to.out_dir);
  VOUCH_RETURN_IF_ERROR(WriteFileAtomic(to.out, envelope.bytes, 0644, to.force ? Overwrite::kYes : Overwrite::kNo));
  return to.out;
}

namespace {

// Runs `one` for every line on every core (each voucher draws its own y, or is its own
// certificate, and signs alone: one line per task), with progress now and then.
// Each voucher is staged in `out_dir` (FileBatch) and the lines' files committed together at
// the end: two syncs of the file system for the batch, not two fsyncs a voucher.
std::vector<Result<Issued>> ForEachLine(const std::vector<DeviceLine>& lines, const BatchOptions& options, const std::string& out_dir,
                                        const std::function<Result<Issued>(const DeviceLine&)>& issue) {
  std::vector<Result<Issued>> results(lines.size(), Result<Issued>(Error(Code::kInternal, "not run")));
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  auto batch = FileBatch::Open(out_dir);
  if (!batch.ok()) {
    for (auto& r : results) r = batch.status();
    return results;
  }
  std::vector<size_t> ticket(lines.size(), SIZE_MAX);
  auto one = [&](const DeviceLine& line, size_t i) -> Result<Issued> {
    VOUCH_ASSIGN_OR_RETURN(Issued issued, issue(line));
    VOUCH_ASSIGN_OR_RETURN(auto staged, StageEnvelope(issued.envelope, issued.filed_under, out_dir, *batch));
    issued.path = std::move(staged.first);
    ticket[i] = staged.second;
    return issued;
  };
  std::atomic<size_t> done{0};
  std::mutex progress;
  ParallelFor(lines.size(), [&](size_t i) {
    results[i] = !lines[i].status.ok()     ? Result<Issued>(lines[i].status)
                 : lines[i].serial.empty() ? Result<Issued>(Error(Code::kMalformed, "no serial number"))
                                           : one(lines[i], i);
    size_t d = ++done;
    if (options.progress && (d % 64 == 0 || d == lines.size())) {
      std::lock_guard<std::mutex> lock(progress);
      options.progress(d, lines.size());
    }
  }, /*grain=*/1, options.jobs);
  std::vector<Status> committed = batch->Commit();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (ticket[i] != SIZE_MAX && !committed[ticket[i]].ok()) results[i] = committed[ticket[i]];
  }
  return results;
}

}  // namespace

std::vector<Result<Issued>> IssueBatch(const std::vector<DeviceLine>& lines, const DraftRequest& base, EnvelopeKind kind,
                                       const Signer& signer, const std::string& out_dir, const BatchOptions& options) {
  return ForEachLine(lines, options, out_dir, [&](const DeviceLine& line) -> Result<Issued> {
    VOUCH_ASSIGN_OR_RETURN(PublicKey key, PublicKey::Parse(AsBytes(line.key_text)));
    DraftRequest r = base;
    r.device_key = key;
    r.serial_number = line.serial;
    r.created_on = Instant::Now();
    return IssueVoucher(r, kind, signer);
  });
}

std::vector<Result<Issued>> RenewBatch(const std::vector<DeviceLine>& lines, const RenewalRequest& base, EnvelopeKind kind,
                                       const Signer& signer, const std::string& out_dir, const BatchOptions& options) {
  return ForEachLine(lines, options, out_dir, [&](const DeviceLine& line) -> Result<Issued> {
    auto device = PublicKey::Parse(AsBytes(line.key_text));
    if (!device.ok()) return device.status().Context("device key");
    auto combined = PublicKey::Parse(AsBytes(line.extra_text));
    if (!combined.ok()) return combined.status().Context("combined key");
    RenewalRequest r = base;
    r.device_key = *device;
    r.combined_key = *combined;
    r.serial_number = line.serial;
    r.created_on = Instant::Now();
    return IssueRenewal(r, kind, signer);
  });
}

}  // namespace vouch::formats
