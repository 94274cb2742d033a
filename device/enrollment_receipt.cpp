#include "device/enrollment_receipt.h"

#include <sys/stat.h>

#include "device/medium_writer.h"
#include "formats/receipt.h"
#include "libvoucher/cert.h"
#include "libvoucher/key.h"

namespace vouch::device {
namespace fs = std::filesystem;

Result<Bytes> MakeReceipt(const DeviceState& state) {
  if (!state.current()) {
    return Error(Code::kNotFound, state.dir().string() + ": the device has not enrolled, so there is nothing to give a receipt for");
  }
  const Applied& applied = *state.current();
  const DeviceIdentity& id = state.identity();
  const fs::path gen = state.CurrentDir();
  formats::Receipt r;
  r.device_key = id.udf;
  r.device_public_key = id.key.Public();
  r.serial_number = id.serial_number;
  r.voucher_id = applied.voucher_id;
  r.combined_key = applied.combined_key;
  r.generation = state.generation();
  r.time = applied.applied_on;
  std::error_code ec;
  if (fs::exists(gen / "certificate.pem", ec)) {
    VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> certs, LoadCertificates(gen / "certificate.pem"));
    r.certificate = certs[0];
  }
  // z.pub settles the sign of an Edwards z (key.h); the PrivateKey wipes z when it goes.
  VOUCH_ASSIGN_OR_RETURN(PrivateKey z, LoadPrivateKey(gen / "z.key", &applied.combined_key));
  return formats::SignReceipt(r, z, id.key);
}

namespace {

struct Made {
  Bytes bytes;
  WrittenReceipt info;  // without its path
};

Result<Made> MakeUnderLock(const fs::path& state_dir, int lock_timeout_ms) {
  // Under the lock: a fetch applying meanwhile removes the generation this would read.
  VOUCH_ASSIGN_OR_RETURN(StateLock lock, StateLock::Acquire(state_dir, lock_timeout_ms));
  VOUCH_ASSIGN_OR_RETURN(DeviceState state, DeviceState::Open(state_dir));
  VOUCH_ASSIGN_OR_RETURN(Bytes bytes, MakeReceipt(state));
  WrittenReceipt info{"", formats::ReceiptId(bytes), state.generation(), state.current()->voucher_id};
  return Made{std::move(bytes), std::move(info)};
}

Result<WrittenReceipt> WriteMade(const Made& made, const std::string& device_udf, const fs::path& receipts_root) {
  VOUCH_ASSIGN_OR_RETURN(std::string relative, formats::ReceiptPath(device_udf, made.info.id));
  VOUCH_RETURN_IF_ERROR(WriteNewFile(receipts_root, relative, made.bytes, formats::kMaxReceiptSize));
  WrittenReceipt w = made.info;
  w.path = (receipts_root / relative).string();
  return w;
}

}  // namespace

Result<WrittenReceipt> WriteReceipt(const fs::path& state_dir, const fs::path& receipts_root, int lock_timeout_ms) {
  VOUCH_ASSIGN_OR_RETURN(Made made, MakeUnderLock(state_dir, lock_timeout_ms));
  VOUCH_ASSIGN_OR_RETURN(PublicKey x, LoadPublicKey(state_dir / "device.pub"));
  return WriteMade(made, x.Fingerprint(), receipts_root);
}

std::vector<MediumReceipt> WriteReceiptsToMedia(const fs::path& state_dir, const std::vector<std::string>& media,
                                                int lock_timeout_ms) {
  std::vector<MediumReceipt> out;
  std::vector<std::string> asking;
  for (const std::string& m : media) {
    // Only a look at one name: is there anything called vouch-receipts at the medium's root?
    // What it is, the writer finds out without following it.
    struct stat st;
    const fs::path root = fs::path(m) / formats::kMediumReceiptRoot;
    if (::lstat(root.c_str(), &st) == 0) asking.push_back(m);
  }
  if (asking.empty()) return out;
  auto made = MakeUnderLock(state_dir, lock_timeout_ms);
  auto x = made.ok() ? LoadPublicKey(state_dir / "device.pub") : Result<PublicKey>(made.status());
  for (const std::string& m : asking) {
    MediumReceipt r{m, std::nullopt, Status::Ok()};
    auto written = x.ok() ? WriteMade(*made, x->Fingerprint(), fs::path(m) / formats::kMediumReceiptRoot)
                          : Result<WrittenReceipt>(x.status());
    if (written.ok()) r.written = std::move(*written);
    else r.status = written.status();
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace vouch::device
