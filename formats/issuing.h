// Issuing vouchers (DESIGN.md section 3): draft (libvoucher/issue.h), hold created-on to the
// signer's clock, encode, sign, file. One device, or a fleet from a devices file on every
// core; `vouch issue` and `vouch sign` only parse flags around these.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "formats/devices_csv.h"
#include "formats/envelope.h"
#include "libvoucher/issue.h"
#include "libvoucher/status.h"

namespace vouch::formats {

struct Issued {
  Envelope envelope;
  std::string device_udf;     // UDF of X (empty: plain)
  std::string serial_number;
  std::string filed_under;    // its layout directory's UDF: X's, or the serial's for a plain one
  std::string combined_key;   // UDF of Z (empty: plain)
  std::string path;           // where it was written, once it was
};

// What a signed voucher says about itself, for the caller to print.
Issued Describe(Envelope envelope, const Voucher& voucher);

// Drafts, checks created-on against now (CheckCreatedOnForSigning) and signs one voucher.
Result<Issued> IssueVoucher(const DraftRequest& request, EnvelopeKind kind, const Signer& signer);

// The same for a renewal (libvoucher/issue.h DraftRenewal): no contribution, a fresh
// certificate for the device's current Z.
Result<Issued> IssueRenewal(const RenewalRequest& request, EnvelopeKind kind, const Signer& signer);

// A plain RFC 8366 voucher (libvoucher/issue.h DraftPlain): no enrollment, no device key.
Result<Issued> IssuePlain(const PlainRequest& request, EnvelopeKind kind, const Signer& signer);

// Where vouchers go: a file (`out`, refused if it exists unless `force`), or their layout
// paths under `out_dir`. A plain voucher (empty `device_udf`) has no layout path: kUsage
// unless `out` is given.
struct Destination {
  std::string out, out_dir;
  bool force = false;
};
Result<std::string> WriteIssued(const Envelope& envelope, const std::string& device_udf, const Destination& to);

// One voucher per line of a devices file, each with `base` for everything but the device
// key, serial and created-on (now, when that voucher is drafted), filed under `out_dir`.
// Lines fail alone (a bad key, no serial, a signing error): results[i] is line i's.
// `progress(done, total)` is called now and then from worker threads, one at a time.
struct BatchOptions {
  unsigned jobs = 0;  // worker threads (0: every core)
  std::function<void(size_t done, size_t total)> progress;
};
std::vector<Result<Issued>> IssueBatch(const std::vector<DeviceLine>& lines, const DraftRequest& base, EnvelopeKind kind,
                                       const Signer& signer, const std::string& out_dir, const BatchOptions& options);
// Renewals for a devices file of three columns, serial,device key,combined key (each key as
// in the two-column file), each with `base` for everything else.
std::vector<Result<Issued>> RenewBatch(const std::vector<DeviceLine>& lines, const RenewalRequest& base, EnvelopeKind kind,
                                       const Signer& signer, const std::string& out_dir, const BatchOptions& options);

}  // namespace vouch::formats
