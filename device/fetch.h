// `vouch-device fetch`: find this device's vouchers on media and enroll with the newest
// acceptable one (DESIGN.md section 9).
//
// The media are read by a separate, confined process (vouch-medium-reader, started before
// this process reads the device key) that hands back candidate envelopes over a pipe
// (device/protocol.md); when it saw a git cache, a second one (vouch-git-reader, the only
// one that loads libgit2) reads the git caches after it, within what is left of the
// fetch's budgets and time. This process never parses ZIP or git: it verifies, decides and
// applies. A reader that crashes, is killed, overruns its deadline or breaks the protocol
// is a refusal of everything it read, never a changed state.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "device/judge.h"
#include "libvoucher/status.h"

namespace vouch::device {

struct FetchOptions {
  bool dry_run = false;
  std::filesystem::path reader;                   // the vouch-medium-reader executable
  std::filesystem::path git_reader;               // vouch-git-reader; default: beside `reader`
  std::chrono::milliseconds deadline{15000};      // then the readers are killed (both together)
  int lock_timeout_ms = 60000;                    // waiting for another vouch-device
  JudgeLimits judge;
};

// The reader beside this executable (a build tree), else in <this executable's folder>/../
// libexec/vouch (an installed tree wherever it is), else in the configured
// <prefix>/<libexecdir>/vouch.
std::filesystem::path DefaultReader();

// Errors: the state cannot be read or written (kIo, kNotFound, kMalformed), the reader
// cannot be started (kReaderFailed), or no medium named exists (kNoMedium). Everything else,
// a failed reader included, is in the report.
Result<EnrollReport> Fetch(const std::filesystem::path& state_dir, const std::vector<std::string>& media,
                           const FetchOptions& options);

// `vouch-device accept FILE`: one file an operator names, read here (no ZIP, no git, so no
// reader process), judged and applied under the state lock like a fetch's candidates, with
// its log proof: `proof_file`, or else FILE.tlog-proof when it exists. A file over the
// voucher cap or a proof over the proof cap is a refused candidate (kAllRefused), not an
// error; a `proof_file` that cannot be read is an error.
Result<EnrollReport> AcceptFile(const std::filesystem::path& state_dir, const std::string& file, bool dry_run,
                                const std::string& proof_file = "");

}  // namespace vouch::device
