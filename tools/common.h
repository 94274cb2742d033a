// Helpers several commands share: loading anchors and signers, time flags, writing vouchers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "formats/envelope.h"
#include "formats/tlog/note.h"
#include "libvoucher/cert.h"
#include "libvoucher/instant.h"
#include "libvoucher/status.h"

namespace vouch::tools {

Result<std::vector<Certificate>> LoadAnchors(const std::vector<std::string>& files);

// --signer-key, --signer-cert and optional --chain (intermediates, signer's issuer first).
// kSignerNotAuthorized when the certificate may not sign vouchers (DESIGN.md 3a).
Result<formats::Signer> LoadSigner(const std::string& key_file, const std::string& cert_file,
                                   const std::string& chain_file);

// --at TIME | --no-time | (neither: now)
Result<TimePolicy> TimePolicyFromFlags(const std::string& at, bool no_time);

// --expires-in 30d | --expires-on TIME | neither (never expires).
Result<std::optional<Instant>> ExpiryFromFlags(const std::string& expires_in, const std::string& expires_on,
                                               Instant created_on);

// A note verifier key (--log-key, --witness): the vkey text itself, or a file holding it.
Result<formats::tlog::NoteVerifier> ReadVerifierKey(const std::string& text_or_file);

// --device UDF... and --devices FILE (`log monitor`, `cache status`): the devices named, each
// a canonical 140-bit UDF (kMalformed, naming it). FILE holds one UDF a line, or devices.csv
// lines whose first column is taken; empty lines and lines starting with '#' are skipped.
Result<std::set<std::string>> DevicesFromFlags(const std::vector<std::string>& devices, const std::string& devices_file);

// Reads any file a command is given, capped: vouchers and requests are small.
Result<Bytes> ReadInput(const std::string& path, size_t cap);

// --log-key / --witness: a vkey text ("name+hex+base64"), or a file holding one (one line,
// its newline optional). `flag` names the flag in errors.
Result<std::string> VkeyFromFlag(const std::string& arg, std::string_view flag);

// "vouch: shard 3/5, 1234567 bytes" on one line of stderr, only when stderr is a terminal
// (none otherwise): the progress of reading a published tree (vouch fetch, cache pull).
std::function<void(size_t done, size_t total, uint64_t bytes)> ShardProgress();

}  // namespace vouch::tools
