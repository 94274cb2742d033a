#include "formats/issuing.h"

#include <atomic>
#include <mutex>

#include "formats/layout.h"
#include "libvoucher/file.h"
#include "libvoucher/parallel.h"

namespace vouch::formats {

Issued Describe(Envelope envelope, const Voucher& voucher) {
  const Enrollment& e = *voucher.enrollment;
  auto z = PublicKey::FromSpkiDer(e.combined_key);
  return Issued{std::move(envelope), e.device_key, voucher.serial_number, z.ok() ? z->Fingerprint() : std::string(), ""};
}

Result<Issued> IssueVoucher(const DraftRequest& request, EnvelopeKind kind, const Signer& signer) {
  VOUCH_ASSIGN_OR_RETURN(Draft draft, DraftVoucher(request));
  VOUCH_RETURN_IF_ERROR(CheckCreatedOnForSigning(draft.voucher, Instant::Now()));
  VOUCH_ASSIGN_OR_RETURN(Envelope envelope, SignVoucher(draft.voucher, kind, signer));
  return Describe(std::move(envelope), draft.voucher);
}

Result<std::string> WriteIssued(const Envelope& envelope, const std::string& device_udf, const Destination& to) {
  if (to.out.empty()) return FileEnvelope(envelope, device_udf, to.out_dir);
  VOUCH_RETURN_IF_ERROR(WriteFileAtomic(to.out, envelope.bytes, 0644, to.force ? Overwrite::kYes : Overwrite::kNo));
  return to.out;
}

std::vector<Result<Issued>> IssueBatch(const std::vector<DeviceLine>& lines, const DraftRequest& base, EnvelopeKind kind,
                                       const Signer& signer, const std::string& out_dir, const BatchOptions& options) {
  std::vector<Result<Issued>> results(lines.size(), Result<Issued>(Error(Code::kInternal, "not run")));
  std::atomic<size_t> done{0};
  std::mutex progress;
  auto one = [&](const DeviceLine& line) -> Result<Issued> {
    if (line.serial.empty()) return Error(Code::kMalformed, "no serial number");
    VOUCH_ASSIGN_OR_RETURN(PublicKey key, PublicKey::Parse(AsBytes(line.key_text)));
    DraftRequest r = base;
    r.device_key = key;
    r.serial_number = line.serial;
    r.created_on = Instant::Now();
    VOUCH_ASSIGN_OR_RETURN(Issued issued, IssueVoucher(r, kind, signer));
    VOUCH_ASSIGN_OR_RETURN(issued.path, WriteIssued(issued.envelope, issued.device_udf, {"", out_dir, false}));
    return issued;
  };
  // Each voucher draws its own y and signs alone: one line per task, on every core.
  ParallelFor(lines.size(), [&](size_t i) {
    results[i] = one(lines[i]);
    size_t d = ++done;
    if (options.progress && (d % 64 == 0 || d == lines.size())) {
      std::lock_guard<std::mutex> lock(progress);
      options.progress(d, lines.size());
    }
  }, /*grain=*/1, options.jobs);
  return results;
}

}  // namespace vouch::formats
