// A device that insists on a transparency log (DESIGN.md section 9, "Devices that insist";
// docs/device-state.md, "Log policy"): the log's key, the witnesses the device trusts, how
// many of them must have cosigned, and, with a trusted clock, how old their newest
// cosignature may be. With a policy, every voucher the device applies comes with a proof
// (formats/tlog/proof.h) that it is in that log: the leaf is the voucher's exact bytes.
//
// The policy is kept in the state directory as DIR/log-policy (DeviceState stores its text;
// this file gives it a meaning):
//
//   vouch-log-policy/1
//   log <vkey of the log, type 0x01>
//   witness <vkey of a witness, type 0x04>      (0 to kMaxWitnesses lines)
//   quorum <K>
//   max-age <seconds>                           (optional)
//
// Authority: a policy is set by `vouch-device init` and tightened by `vouch-device
// log-policy`, both local commands of the state's owner; nothing read from a medium and no
// voucher sets, loosens or removes it. Only a factory reset (`init --force`) replaces it
// with a looser one or none.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/tlog/proof.h"
#include "libvoucher/bytes.h"
#include "libvoucher/device_state.h"
#include "libvoucher/status.h"

namespace vouch::device {

using formats::tlog::LogPolicy;

inline constexpr std::string_view kLogPolicyFormat = "vouch-log-policy/1";
// Witnesses one device trusts: a checkpoint carries at most 100 signature lines (note.h).
inline constexpr size_t kMaxWitnesses = 32;
// The policy file: a few vkeys of at most kMaxKeyTextSize each.
inline constexpr size_t kMaxLogPolicySize = 64 * 1024;

// A policy from vkey texts. `quorum` defaults to every witness given. kUsage for a log key
// that is not a note key (type 0x01), a witness key that is not a cosignature key (0x04),
// the same witness (name and key ID) twice, more than kMaxWitnesses, a quorum over the
// number of witnesses, or a max age of 0; the vkeys' own codes (kMalformed, kUnsupported,
// kInvalidKey) for texts that are not vkeys.
Result<LogPolicy> MakeLogPolicy(std::string_view log_vkey, const std::vector<std::string>& witness_vkeys,
                                std::optional<size_t> quorum, std::optional<uint64_t> max_age_seconds);

// The text of DIR/log-policy, and back. Parse refuses (kMalformed) anything Format would not
// write, and applies MakeLogPolicy's rules (kMalformed for them too: a file is not a flag).
std::string FormatLogPolicy(const LogPolicy& policy);
Result<LogPolicy> ParseLogPolicy(std::string_view text);

// The device's policy, none when it has none. kMalformed when its file does not parse: a
// device that cannot read its policy must not behave as one without.
Result<std::optional<LogPolicy>> LogPolicyOf(const DeviceState& device);

// Whether `next` accepts only proofs `current` accepts, so that it may replace it without a
// factory reset: the same log key; any `next.quorum` distinct witnesses of `next` include at
// least `current.quorum` of `current` (next.quorum - |new witnesses| >= current.quorum); a
// max age, when `current` has one, no longer than it. kExists (refusing to overwrite a
// stricter policy) otherwise, saying which rule.
Status CheckTightens(const LogPolicy& current, const LogPolicy& next);

// The device's rule for one voucher: `proof` (its bytes as found beside the voucher) proves
// `voucher` (the envelope's exact bytes) is in the policy's log with a quorum of witnesses;
// `now_unix` only with a trusted clock (then a stale checkpoint is kLogStale). kNotLogged
// without a proof; else VerifyProof's codes (kMalformed, kTooLarge, kUntrustedSigner,
// kBadSignature, kTooFewWitnesses, kLogStale).
Status CheckLogged(const LogPolicy& policy, ByteView voucher, const std::optional<Bytes>& proof,
                   std::optional<uint64_t> now_unix);

// What a person reads: "log.example/vouchers, 2 of 3 witnesses, max age 86400 s".
std::string DescribeLogPolicy(const LogPolicy& policy);

// A max age needs a trusted clock: an untrusted one cannot tell a stale checkpoint, and a
// device that silently skipped the rule would be looser than its policy says. kUsage.
Status CheckLogPolicyClock(const LogPolicy& policy, bool trusted_clock);

// `vouch-device log-policy`: under the state lock, sets `next` on a device that has no
// policy, or replaces one that `next` tightens (CheckTightens: kExists otherwise); the same
// policy again changes nothing. Returns whether the file changed. The device's vouchers
// already applied stay; every voucher judged from then on needs a proof.
Result<bool> SetDeviceLogPolicy(const std::filesystem::path& state_dir, const LogPolicy& next, int lock_timeout_ms = 60000);

}  // namespace vouch::device
