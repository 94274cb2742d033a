// Status and Result<T>: how every fallible call in vouch reports failure.
//
// A Status is a code from a closed set plus one lowercase sentence that names the input
// ("device key MB5S-...: not on the curve"). Codes are stable: their names (CodeName) are
// printed by the tools, written in --json output and matched by scripts and tests, so a
// code is never renamed or reused. Only tools/ turns a Status into words and exit codes.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vouch {

enum class Code {
  kOk = 0,
  kUsage,             // the caller's arguments are wrong
  kIo,                // a file or directory could not be read or written
  kNotFound,          // the thing asked for is not there
  kExists,            // refusing to overwrite
  kTooLarge,          // an input is over its size or count cap
  kMalformed,         // bytes that do not parse as the format they claim
  kInvalidKey,        // a key that parses but is not acceptable (curve, point, scalar)
  kUnsupported,       // a well-formed input that uses something we do not implement
  kCrypto,            // the crypto library failed where it should not (an internal error)
  kDecryptFailed,     // an AEAD open failed: wrong key, tampered enc/ct/aad/info
  kBadSignature,      // a signature does not verify
  kUntrustedSigner,   // no path from the signer to an anchor the verifier holds
  kExpired,           // a certificate or voucher is outside its validity at the time checked
  kNotYetValid,       // a voucher or certificate is dated in the future
  kWrongDevice,       // a voucher for another device key
  kWrongSerial,       // a voucher for another serial number
  kRollback,          // a voucher older than the one the device applied
  kCombinedKeyMismatch,  // z*G is not the combined key the voucher claims
  kCertificateMismatch,  // the certificate for Z has another key, or is not under the domain CA
  kDomainMismatch,    // an owner-signed voucher that pins another domain
  kIdMismatch,        // content whose recomputed id differs from the id it is filed under
  kInternal,          // a bug: an invariant did not hold
  // Refusals of hostile bundles and media (formats/bundle.md lists which rule each enforces).
  kNotZip,            // not a ZIP archive at all
  kTruncated,         // a ZIP archive cut short
  kTrailingData,      // bytes after the end-of-central-directory record
  kUnsafePath,        // an entry name that is absolute, has "..", backslashes or is not a layout path
  kDuplicateEntry,    // two entries with one name
  kDirectoryEntry,    // a directory entry
  kSymlinkEntry,      // a symbolic link entry (or a link on a medium)
  kEncrypted,         // an encrypted entry
  kOverlap,           // entries that overlap, or gaps between them
  kSizeMismatch,      // an entry whose data is not the size its headers declare
  kCorruptEntry,      // an entry whose data does not match its CRC
  kManifestMissing,   // no manifest as the first entry
  kManifestUnsorted,  // manifest entries not sorted by path, or repeated
  kManifestMismatch,  // manifest and archive disagree (names, sizes, count)
  kTooManyEntries,    // over the entry-count cap
  kNameMismatch,      // a file named as an id that its content does not have
  kRewritten,         // a cache history that deletes or changes a voucher, or was rewritten
  // Who may sign, and the confined medium reader (DESIGN.md sections 3a and 9).
  kSignerNotAuthorized,  // a signer certificate that chains to an anchor but lacks voucher-signing authority
  kReaderFailed,      // the confined medium reader died, timed out or broke its protocol
  kNoMedium,          // a medium path that does not exist or cannot be opened
};

// The stable, kebab-case name of a code ("bad-signature").
const char* CodeName(Code code);
// The code with that name; nullopt for "ok" and names no code has.
std::optional<Code> CodeFromName(std::string_view name);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {
    assert(code != Code::kOk);
  }
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "bad-signature: voucher.vjj: signature 1 does not verify"
  std::string ToString() const;

  // Prefixes the message with what was being worked on: "devices.csv line 4: ...".
  Status Context(std::string_view what) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status Error(Code code, std::string message) { return Status(code, std::move(message)); }

// A value or a non-ok Status.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose, like std::expected
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace vouch

// Propagation helpers; they keep call sites to one line without hiding control flow.
#define VOUCH_CONCAT_INNER(a, b) a##b
#define VOUCH_CONCAT(a, b) VOUCH_CONCAT_INNER(a, b)

#define VOUCH_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::vouch::Status vouch_status_ = (expr);      \
    if (!vouch_status_.ok()) return vouch_status_; \
  } while (0)

#define VOUCH_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#define VOUCH_ASSIGN_OR_RETURN(lhs, expr) \
  VOUCH_ASSIGN_OR_RETURN_IMPL(VOUCH_CONCAT(vouch_result_, __LINE__), lhs, expr)
