// The device's state directory and its crash-safe generations (DESIGN.md section 9).
//
//   DIR/                 0700
//     device.key         x, PKCS#8 PEM, 0600
//     device.pub         X, SPKI PEM
//     serial             the serial number, one line
//     clock              "trusted" or "untrusted", one line
//     log-policy         the transparency log the device insists on, when it does
//                        (its text; device/log_policy.h gives it a meaning)
//     trust/NN.pem       factory anchors
//     current -> gen-N   symlink, swapped by rename(2)
//     reset-floor        after a factory reset that kept the key: its last generation and
//                        the created-on of its last voucher (device_state.cpp)
//     gen-N/             0700: state.json, voucher.<ext>, z.key (0600), z.pub,
//                        certificate.pem (when the voucher carried one), domain-ca.pem,
//                        former-owners.pem (owners the device has left, when any)
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
#include "libvoucher/group.h"
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
  Group group = Group::kP256;            // of a new device key (DESIGN.md 3: the suite)
  // The text of DIR/log-policy, or none: a reset writes the one it is given, or removes it.
  std::optional<std::string> log_policy = std::nullopt;
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
  // The text of DIR/log-policy (at most kMaxPolicyText bytes), or none.
  const std::optional<std::string>& log_policy() const { return log_policy_; }

  // Replaces DIR/log-policy atomically (written to a temporary name, fsynced, renamed, DIR
  // fsynced). The caller holds the StateLock and has checked the authority rule
  // (device/log_policy.h: tighten only).
  Status SetLogPolicy(const std::string& text);

  // Writes and swaps in a new generation holding `enrolled` and the voucher's envelope. A
  // renewal (no `enrolled.z`) carries the current z into the new generation.
  Status Apply(const Enrolled& enrolled, ByteView envelope, std::string_view extension);

 private:
  Status LoadCurrent();
  Status KeepZ(const std::filesystem::path& to, const PublicKey& combined_key) const;
  std::filesystem::path dir_;
  DeviceIdentity identity_;
  std::optional<Applied> current_;
  std::optional<std::string> log_policy_;
  int generation_ = 0;
  int generation_floor_ = 0;  // DIR/reset-floor's generation for this key, or 0
};

inline constexpr size_t kMaxPolicyText = 64 * 1024;

}  // namespace vouch
