#include "device/log_policy.h"

#include <algorithm>

namespace vouch::device {
namespace tlog = formats::tlog;
namespace {

bool SameKey(const tlog::NoteVerifier& a, const tlog::NoteVerifier& b) {
  return a.name == b.name && a.type == b.type && a.key_id == b.key_id && a.public_key == b.public_key;
}

// Witnesses are told apart as cosignature lines are matched to them: by name and key ID
// (cosignature.h). Two with the same pair could never both count.
bool SameWitness(const tlog::NoteVerifier& a, const tlog::NoteVerifier& b) {
  return a.name == b.name && a.key_id == b.key_id;
}

Status CheckPolicy(const LogPolicy& p) {
  if (p.log.type != tlog::kSignatureTypeEd25519) {
    return Error(Code::kUsage, "log key " + p.log.name + " is not a note signing key (type 0x01)");
  }
  if (p.witnesses.size() > kMaxWitnesses) {
    return Error(Code::kUsage, std::to_string(p.witnesses.size()) + " witnesses; at most " + std::to_string(kMaxWitnesses));
  }
  for (size_t i = 0; i < p.witnesses.size(); ++i) {
    const auto& w = p.witnesses[i];
    if (w.type != tlog::kSignatureTypeCosignature) {
      return Error(Code::kUsage, "witness key " + w.name + " is not a cosignature key (type 0x04)");
    }
    for (size_t j = 0; j < i; ++j) {
      if (SameWitness(p.witnesses[j], w)) return Error(Code::kUsage, "witness " + w.name + " is given twice");
    }
  }
  if (p.quorum > p.witnesses.size()) {
    return Error(Code::kUsage, "a quorum of " + std::to_string(p.quorum) + " witnesses, but only " +
                                   std::to_string(p.witnesses.size()) + " are given");
  }
  if (p.max_age_seconds) {
    if (*p.max_age_seconds == 0) return Error(Code::kUsage, "a max age of 0 s refuses every checkpoint");
    // The age is that of the newest counted cosignature: without witnesses there is none.
    if (p.witnesses.empty()) return Error(Code::kUsage, "a max age needs at least one witness to date checkpoints");
  }
  return Status::Ok();
}

Result<uint64_t> ParseDecimal(std::string_view s, std::string_view what) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0') ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error(Code::kMalformed, "log policy: " + std::string(what) + " is not a decimal without leading zeros");
  }
  uint64_t v = 0;
  for (char c : s) v = v * 10 + static_cast<uint64_t>(c - '0');
  return v;
}

}  // namespace

Result<LogPolicy> MakeLogPolicy(std::string_view log_vkey, const std::vector<std::string>& witness_vkeys,
                                std::optional<size_t> quorum, std::optional<uint64_t> max_age_seconds) {
  LogPolicy p;
  auto log = tlog::NoteVerifier::Parse(log_vkey);
  if (!log.ok()) return log.status().Context("log key");
  p.log = std::move(*log);
  if (witness_vkeys.size() > kMaxWitnesses) {
    return Error(Code::kUsage, std::to_string(witness_vkeys.size()) + " witnesses; at most " + std::to_string(kMaxWitnesses));
  }
  for (const auto& text : witness_vkeys) {
    auto w = tlog::NoteVerifier::Parse(text);
    if (!w.ok()) return w.status().Context("witness key");
    p.witnesses.push_back(std::move(*w));
  }
  p.quorum = quorum.value_or(p.witnesses.size());
  p.max_age_seconds = max_age_seconds;
  VOUCH_RETURN_IF_ERROR(CheckPolicy(p));
  return p;
}

std::string FormatLogPolicy(const LogPolicy& p) {
  std::string out(kLogPolicyFormat);
  out += "\nlog " + p.log.Text() + "\n";
  for (const auto& w : p.witnesses) out += "witness " + w.Text() + "\n";
  out += "quorum " + std::to_string(p.quorum) + "\n";
  if (p.max_age_seconds) out += "max-age " + std::to_string(*p.max_age_seconds) + "\n";
  return out;
}

Result<LogPolicy> ParseLogPolicy(std::string_view text) {
  if (text.size() > kMaxLogPolicySize) return Error(Code::kTooLarge, "log policy over " + std::to_string(kMaxLogPolicySize) + " bytes");
  const std::string_view original = text;
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return Error(Code::kMalformed, "log policy: last line has no newline");
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  // The order Format writes, and nothing else: one spelling per policy.
  size_t i = 0;
  auto field = [&](std::string_view key) -> std::optional<std::string_view> {
    if (i < lines.size() && lines[i].starts_with(key) && lines[i].size() > key.size() && lines[i][key.size()] == ' ') {
      return lines[i++].substr(key.size() + 1);
    }
    return std::nullopt;
  };
  if (lines.empty() || lines[i++] != kLogPolicyFormat) return Error(Code::kMalformed, "log policy is not vouch-log-policy/1");
  auto log = field("log");
  if (!log) return Error(Code::kMalformed, "log policy has no log line");
  std::vector<std::string> witnesses;
  while (auto w = field("witness")) {
    if (witnesses.size() == kMaxWitnesses) return Error(Code::kMalformed, "log policy has over " + std::to_string(kMaxWitnesses) + " witnesses");
    witnesses.emplace_back(*w);
  }
  auto quorum = field("quorum");
  if (!quorum) return Error(Code::kMalformed, "log policy has no quorum line");
  VOUCH_ASSIGN_OR_RETURN(uint64_t k, ParseDecimal(*quorum, "quorum"));
  std::optional<uint64_t> max_age;
  if (auto age = field("max-age")) {
    VOUCH_ASSIGN_OR_RETURN(max_age, ParseDecimal(*age, "max-age"));
  }
  if (i != lines.size()) return Error(Code::kMalformed, "log policy has an unknown or misplaced line");
  auto p = MakeLogPolicy(*log, witnesses, static_cast<size_t>(std::min<uint64_t>(k, SIZE_MAX)), max_age);
  if (!p.ok()) return Error(Code::kMalformed, "log policy: " + p.status().message());
  // One spelling (lower-case key IDs, as written): what the device shows is what it holds.
  if (FormatLogPolicy(*p) != original) return Error(Code::kMalformed, "log policy is not written the way vouch writes it");
  return p;
}

Result<std::optional<LogPolicy>> LogPolicyOf(const DeviceState& device) {
  if (!device.log_policy()) return std::optional<LogPolicy>();
  auto p = ParseLogPolicy(*device.log_policy());
  if (!p.ok()) return p.status().Context((device.dir() / "log-policy").string());
  return std::optional<LogPolicy>(std::move(*p));
}

Status CheckTightens(const LogPolicy& current, const LogPolicy& next) {
  const std::string why = "the device's log policy (" + DescribeLogPolicy(current) + ") may only be tightened: ";
  if (!SameKey(current.log, next.log)) return Error(Code::kExists, why + "this one names another log key");
  // Worst case, the new witnesses all cosign and fill the quorum before any old one does.
  size_t added = 0;
  for (const auto& w : next.witnesses) {
    bool known = std::any_of(current.witnesses.begin(), current.witnesses.end(),
                             [&](const tlog::NoteVerifier& c) { return SameKey(c, w); });
    if (!known) ++added;
  }
  if (next.quorum < added || next.quorum - added < current.quorum) {
    return Error(Code::kExists, why + "this one would accept a checkpoint cosigned by fewer than " +
                                    std::to_string(current.quorum) + " of its witnesses");
  }
  if (current.max_age_seconds && (!next.max_age_seconds || *next.max_age_seconds > *current.max_age_seconds)) {
    return Error(Code::kExists, why + "this one would accept older checkpoints");
  }
  return Status::Ok();
}

Status CheckLogged(const LogPolicy& policy, ByteView voucher, const std::optional<Bytes>& proof,
                   std::optional<uint64_t> now_unix) {
  if (!proof) {
    return Error(Code::kNotLogged, "no proof of inclusion in log " + policy.log.name + " beside the voucher (" +
                                       std::string(formats::tlog::kProofExtension) + ")");
  }
  auto verified = tlog::VerifyProof(voucher, AsChars(*proof), policy, now_unix);
  if (!verified.ok()) return verified.status().Context("log proof");
  return Status::Ok();
}

Status CheckLogPolicyClock(const LogPolicy& p, bool trusted_clock) {
  if (p.max_age_seconds && !trusted_clock) {
    return Error(Code::kUsage, "a max age needs a trusted clock (an untrusted one cannot tell a stale checkpoint)");
  }
  return Status::Ok();
}

Result<bool> SetDeviceLogPolicy(const std::filesystem::path& state_dir, const LogPolicy& next, int lock_timeout_ms) {
  VOUCH_RETURN_IF_ERROR(CheckPolicy(next));
  // Under the lock, like a fetch's decision: a fetch deciding now sees the old policy or
  // the new one (it reads it again under the lock), never a half-written one.
  VOUCH_ASSIGN_OR_RETURN(StateLock lock, StateLock::Acquire(state_dir, lock_timeout_ms));
  VOUCH_ASSIGN_OR_RETURN(DeviceState state, DeviceState::Open(state_dir));
  VOUCH_RETURN_IF_ERROR(CheckLogPolicyClock(next, state.identity().trusted_clock));
  VOUCH_ASSIGN_OR_RETURN(std::optional<LogPolicy> current, LogPolicyOf(state));
  const std::string text = FormatLogPolicy(next);
  if (current && FormatLogPolicy(*current) == text) return false;
  if (current) VOUCH_RETURN_IF_ERROR(CheckTightens(*current, next));
  VOUCH_RETURN_IF_ERROR(state.SetLogPolicy(text));
  return true;
}

std::string DescribeLogPolicy(const LogPolicy& p) {
  std::string out = p.log.name + ", " + std::to_string(p.quorum) + " of " + std::to_string(p.witnesses.size()) + " witnesses";
  if (p.max_age_seconds) out += ", max age " + std::to_string(*p.max_age_seconds) + " s";
  return out;
}

}  // namespace vouch::device
