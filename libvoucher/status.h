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

// The one list of codes, in numeric order from kOk = 0: X(enumerator, name as printed).
// The enum, CodeName and CodeFromName all come from it. Append only: a code is never renamed,
// reused or reordered. docs/errors.md says what each means and which commands return it
// (tests/unit/errors_test.cpp fails when the two lists differ).
#define VOUCH_CODES(X)                                                                                               \
  X(kOk, "ok")                                                                                                       \
  X(kUsage, "usage")                               /* the caller's arguments are wrong */                            \
  X(kIo, "io")                                     /* a file or directory could not be read or written */            \
  X(kNotFound, "not-found")                        /* the thing asked for is not there */                            \
  X(kExists, "exists")                             /* refusing to overwrite */                                       \
  X(kTooLarge, "too-large")                        /* an input is over its size or count cap */                      \
  X(kMalformed, "malformed")                       /* bytes that do not parse as the format they claim */            \
  X(kInvalidKey, "invalid-key")                    /* a key that parses but is not acceptable (curve, point,         \
                                                      scalar) */                                                     \
  X(kUnsupported, "unsupported")                   /* a well-formed input that uses something we do not implement */ \
  X(kCrypto, "crypto")                             /* the crypto library failed where it should not (an internal     \
                                                      error) */                                                      \
  X(kDecryptFailed, "decrypt-failed")              /* an AEAD open failed: wrong key, tampered enc/ct/aad/info */    \
  X(kBadSignature, "bad-signature")                /* a signature does not verify */                                 \
  X(kUntrustedSigner, "untrusted-signer")          /* no path from the signer to an anchor the verifier holds */     \
  X(kExpired, "expired")                           /* a certificate or voucher is outside its validity at the time   \
                                                      checked */                                                     \
  X(kNotYetValid, "not-yet-valid")                 /* a voucher or certificate is dated in the future */             \
  X(kWrongDevice, "wrong-device")                  /* a voucher for another device key */                            \
  X(kWrongSerial, "wrong-serial")                  /* a voucher for another serial number */                         \
  X(kRollback, "rollback")                         /* a voucher older than the one the device applied */             \
  X(kCombinedKeyMismatch, "combined-key-mismatch") /* z*G is not the combined key the voucher claims */              \
  X(kCertificateMismatch, "certificate-mismatch")  /* the certificate for Z has another key, or is not under the     \
                                                      domain CA */                                                   \
  X(kDomainMismatch, "domain-mismatch")            /* an owner-signed voucher that pins another domain */            \
  X(kIdMismatch, "id-mismatch")                    /* content whose recomputed id differs from the id it is filed    \
                                                      under */                                                       \
  X(kInternal, "internal")                         /* a bug: an invariant did not hold */                            \
  /* Refusals of hostile bundles and media (formats/bundle.md lists which rule each enforces). */                    \
  X(kNotZip, "not-zip")                     /* not a ZIP archive at all */                                           \
  X(kTruncated, "truncated")                /* a ZIP archive cut short */                                            \
  X(kTrailingData, "trailing-data")         /* bytes after the end-of-central-directory record */                    \
  X(kUnsafePath, "unsafe-path")             /* an entry name that is absolute, has "..", backslashes or is           \
                                               not a layout path */                                                  \
  X(kDuplicateEntry, "duplicate-entry")     /* two entries with one name */                                          \
  X(kDirectoryEntry, "directory-entry")     /* a directory entry */                                                  \
  X(kSymlinkEntry, "symlink-entry")         /* a symbolic link entry (or a link on a medium) */                      \
  X(kEncrypted, "encrypted")                /* an encrypted entry */                                                 \
  X(kOverlap, "overlap")                    /* entries that overlap, or gaps between them */                         \
  X(kSizeMismatch, "size-mismatch")         /* an entry whose data is not the size its headers declare */            \
  X(kCorruptEntry, "corrupt-entry")         /* an entry whose data does not match its CRC */                         \
  X(kManifestMissing, "manifest-missing")   /* no manifest as the first entry */                                     \
  X(kManifestUnsorted, "manifest-unsorted") /* manifest entries not sorted by path, or repeated */                   \
  X(kManifestMismatch, "manifest-mismatch") /* manifest and archive disagree (names, sizes, count) */                \
  X(kTooManyEntries, "too-many-entries")    /* over the entry-count cap */                                           \
  X(kNameMismatch, "name-mismatch")         /* a file named as an id that its content does not have */               \
  X(kRewritten, "rewritten")                /* a cache history that deletes or changes a voucher, or was             \
                                               rewritten */                                                          \
  /* Who may sign, and the confined medium reader (DESIGN.md sections 3a and 9). */                                  \
  X(kSignerNotAuthorized, "signer-not-authorized") /* a signer certificate that chains to an anchor but lacks        \
                                                      voucher-signing authority */                                   \
  X(kReaderFailed, "reader-failed")                /* the confined medium reader died, timed out or broke its        \
                                                      protocol */                                                    \
  X(kNoMedium, "no-medium")                        /* a medium path that does not exist or cannot be opened */       \
  /* The transparency log (formats/tlog/tlog.md, cache/log.md). */                                                   \
  X(kNotLogged, "not-logged")                      /* a log is required and the voucher has no proof of inclusion */ \
  X(kTooFewWitnesses, "too-few-witnesses")         /* a checkpoint cosigned by fewer configured witnesses than the   \
                                                      policy requires */                                             \
  X(kLogStale, "log-stale")                        /* a checkpoint whose newest cosignature is older than allowed */ \
  X(kLogFork, "log-fork")                          /* two checkpoints of one log that no consistency proof joins */  \
  X(kUnexpectedVoucher, "unexpected-voucher")      /* the log holds a voucher for a watched device that the owner    \
                                                      did not expect */                                              \
  X(kContributionMismatch, "contribution-mismatch") /* a contribution's y_i opens but y_i * G is not its Y_i       */ \
  X(kNotOwner, "not-owner")                        /* a voucher signed under an owner the device has since left  */ \
  X(kUdfMismatch, "udf-mismatch")                  /* a device URI whose UDF is not the fingerprint of its key    */

enum class Code {
#define VOUCH_CODE_ENUMERATOR(id, name) id,
  VOUCH_CODES(VOUCH_CODE_ENUMERATOR)
#undef VOUCH_CODE_ENUMERATOR
};

// Every code, kOk first, in numeric order: kAllCodes[i] == Code(i).
inline constexpr Code kAllCodes[] = {
#define VOUCH_CODE_VALUE(id, name) Code::id,
    VOUCH_CODES(VOUCH_CODE_VALUE)
#undef VOUCH_CODE_VALUE
};
static_assert(static_cast<int>(Code::kOk) == 0 && static_cast<int>(Code::kInternal) == 22 &&
                  static_cast<int>(Code::kNoMedium) == 42,
              "codes are appended, never reordered");

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
