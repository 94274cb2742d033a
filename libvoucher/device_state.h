// The device's state directory and its crash-safe generations (DESIGN.md section 9).
//
//   DIR/                 0700
//     device.key         x, PKCS#8 PEM, 0600
//     device.pub         X, SPKI PEM
//     serial             the serial number, one line
//     clock              "trusted" or "untrusted", one line
//     trust/NN.pem       factory anchors
//     current -> gen-N   symlink, swapped by rename(2)
//     gen-N/             0700: state.json, voucher.<ext>, z.key (0600), z.pub,
//                        certificate.pem (when the voucher carried one), domain-ca.pem
//
// Apply writes gen-N+1 under a temporary name, fsyncs every file and the directory, renames
// it into place, then renames a new `current` link over the old one and fsyncs DIR. A crash
// at any instant leaves `current` at the old generation or the new one, each complete.
// Spec page: docs/device-state.md.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "libvoucher/enroll.h"
#include "libvoucher/status.h"

namespace vouch {

// Generations are numbered 1..kMaxGeneration; an apply past it is refused (kTooLarge).
inline constexpr int kMaxGeneration = 999999999;

// An exclusive flock on DIR/lock. vouch-device holds it for a whole decide-and-apply and
// decides again under it, so two fetches at once (udev starts one per partition) cannot
// interleave "judged against generation N" with "applied over generation N+1".
class StateLock {
 public:
  static Result<StateLock> Acquire(const std::filesystem::path& dir, int timeout_ms = 60000);
  StateLock(StateLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  StateLock& operator=(StateLock&&) = delete;
  StateLock(const StateLock&) = delete;
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_;
};

enum class ResetMode { kRefuse, kKeepKey, kNewKey };

struct InitOptions {
  std::string serial_number;
  std::vector<Certificate> anchors;
  bool trusted_clock = false;
  ResetMode reset = ResetMode::kRefuse;  // what to do when DIR already holds a device
};

class DeviceState {
 public:
  // Creates the state (or resets it, forgetting any owner) and returns it opened.
  static Result<DeviceState> Init(const std::filesystem::path& dir, const InitOptions& options);
  static Result<DeviceState> Open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  const DeviceIdentity& identity() const { return identity_; }
  const std::optional<Applied>& current() const { return current_; }
  int generation() const { return generation_; }  // 0 before the first enrollment
  std::filesystem::path CurrentDir() const;       // empty before the first enrollment

  // Writes and swaps in a new generation holding `enrolled` and the voucher's envelope.
  Status Apply(const Enrolled& enrolled, ByteView envelope, std::string_view extension);

 private:
  Status LoadCurrent();
  std::filesystem::path dir_;
  DeviceIdentity identity_;
  std::optional<Applied> current_;
  int generation_ = 0;
};

}  // namespace vouch
