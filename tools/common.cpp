#include "tools/common.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "formats/datetime.h"
#include "formats/layout.h"
#include "formats/tlog/note.h"
#include "libvoucher/authority.h"
#include "libvoucher/file.h"

namespace vouch::tools {

Result<std::vector<Certificate>> LoadAnchors(const std::vector<std::string>& files) {
  std::vector<Certificate> out;
  for (const auto& f : files) {
    VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> certs, LoadCertificates(f));
    out.insert(out.end(), certs.begin(), certs.end());
  }
  return out;
}

Result<formats::Signer> LoadSigner(const std::string& key_file, const std::string& cert_file,
                                   const std::string& chain_file) {
  // Any envelope signing key (P-256, P-384, Ed25519, Ed448): it decides the algorithm.
  auto key = LoadSigningKey(key_file);
  if (!key.ok()) return key.status().Context("--signer-key");
  auto chain = LoadCertificates(cert_file);
  if (!chain.ok()) return chain.status().Context("--signer-cert");
  formats::Signer s{*key, std::move(*chain)};
  s.chain.resize(1);  // the signer's certificate is the first in its file
  if (!s.key.IsKeyOf(s.chain[0].pkey())) {
    return Error(Code::kUsage, key_file + " is not the key of the certificate in " + cert_file);
  }
  if (!chain_file.empty()) {
    VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> chain, LoadCertificates(chain_file));
    s.chain.insert(s.chain.end(), chain.begin(), chain.end());
  }
  // DESIGN.md 3a: every verifier refuses a signer without voucher-signing authority; saying so
  // here beats handing out vouchers no device will apply.
  VOUCH_RETURN_IF_ERROR(CheckSignerAuthority(s.chain[0]).Context("--signer-cert " + cert_file));
  return s;
}

Result<TimePolicy> TimePolicyFromFlags(const std::string& at, bool no_time) {
  if (!at.empty() && no_time) return Error(Code::kUsage, "--at and --no-time exclude each other");
  if (no_time) return TimePolicy::None();
  if (at.empty()) return TimePolicy::Now();
  auto t = formats::ParseDateTime(at);
  if (!t.ok()) return Error(Code::kUsage, "--at '" + at + "' is not an RFC 3339 date-time such as 2026-11-27T10:00:00Z");
  return TimePolicy::At(*t);
}

Result<std::optional<Instant>> ExpiryFromFlags(const std::string& expires_in, const std::string& expires_on,
                                               Instant created_on) {
  if (!expires_in.empty() && !expires_on.empty()) {
    return Error(Code::kUsage, "--expires-in and --expires-on exclude each other");
  }
  if (!expires_in.empty()) {
    VOUCH_ASSIGN_OR_RETURN(int64_t secs, formats::ParseDuration(expires_in));
    return std::optional<Instant>(created_on.Plus(secs));
  }
  if (!expires_on.empty()) {
    auto t = formats::ParseDateTime(expires_on);
    if (!t.ok()) return Error(Code::kUsage, "--expires-on '" + expires_on + "' is not an RFC 3339 date-time");
    return std::optional<Instant>(*t);
  }
  return std::optional<Instant>();
}

Result<Bytes> ReadInput(const std::string& path, size_t cap) { return ReadFile(path, cap); }

Result<std::set<std::string>> DevicesFromFlags(const std::vector<std::string>& devices, const std::string& devices_file) {
  std::set<std::string> out;
  std::vector<std::string> names = devices;
  if (!devices_file.empty()) {
    VOUCH_ASSIGN_OR_RETURN(Bytes b, ReadInput(devices_file, 64 << 20));
    std::string s(b.begin(), b.end());
    for (size_t at = 0; at < s.size();) {
      size_t nl = s.find('\n', at);
      if (nl == std::string::npos) nl = s.size();
      std::string line = s.substr(at, nl - at);
      at = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      // One UDF per line; a CSV line (devices.csv) gives its first column.
      line = line.substr(0, line.find(','));
      if (!line.empty() && line[0] != '#') names.push_back(line);
    }
  }
  for (const std::string& n : names) {
    // The device directory check refuses anything but a canonical UDF.
    auto dir = formats::DeviceDirectory(n);
    if (!dir.ok()) return dir.status().Context("device " + n);
    out.insert(n);
  }
  return out;
}

Result<std::string> VkeyFromFlag(const std::string& arg, std::string_view flag) {
  namespace tlog = formats::tlog;
  auto as_text = tlog::NoteVerifier::Parse(arg);
  if (as_text.ok()) return arg;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(arg, ec)) {
    return as_text.status().Context(std::string(flag) + " '" + arg.substr(0, 100) + "' (not a file either)");
  }
  auto raw = ReadFile(arg, tlog::kMaxKeyTextSize + 1);
  if (!raw.ok()) return raw.status().Context(std::string(flag));
  std::string text(AsChars(*raw));
  if (!text.empty() && text.back() == '\n') text.pop_back();
  auto parsed = tlog::NoteVerifier::Parse(text);
  if (!parsed.ok()) return parsed.status().Context(std::string(flag) + " " + arg);
  return text;
}

Result<formats::tlog::NoteVerifier> ReadVerifierKey(const std::string& text_or_file) {
  VOUCH_ASSIGN_OR_RETURN(std::string text, VkeyFromFlag(text_or_file, "verifier key"));
  return formats::tlog::NoteVerifier::Parse(text);
}

std::function<void(size_t done, size_t total, uint64_t bytes)> ShardProgress() {
  if (!::isatty(STDERR_FILENO)) return {};
  return [](size_t done, size_t total, uint64_t bytes) {
    std::cerr << "\rvouch: shard " << done << "/" << total << ", " << bytes << " bytes" << (done == total ? "\n" : "") << std::flush;
  };
}

}  // namespace vouch::tools
