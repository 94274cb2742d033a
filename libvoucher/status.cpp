#include "libvoucher/status.h"

namespace vouch {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kUsage: return "usage";
    case Code::kIo: return "io";
    case Code::kNotFound: return "not-found";
    case Code::kExists: return "exists";
    case Code::kTooLarge: return "too-large";
    case Code::kMalformed: return "malformed";
    case Code::kInvalidKey: return "invalid-key";
    case Code::kUnsupported: return "unsupported";
    case Code::kCrypto: return "crypto";
    case Code::kDecryptFailed: return "decrypt-failed";
    case Code::kBadSignature: return "bad-signature";
    case Code::kUntrustedSigner: return "untrusted-signer";
    case Code::kExpired: return "expired";
    case Code::kNotYetValid: return "not-yet-valid";
    case Code::kWrongDevice: return "wrong-device";
    case Code::kWrongSerial: return "wrong-serial";
    case Code::kRollback: return "rollback";
    case Code::kCombinedKeyMismatch: return "combined-key-mismatch";
    case Code::kCertificateMismatch: return "certificate-mismatch";
    case Code::kDomainMismatch: return "domain-mismatch";
    case Code::kIdMismatch: return "id-mismatch";
    case Code::kInternal: return "internal";
    case Code::kNotZip: return "not-zip";
    case Code::kTruncated: return "truncated";
    case Code::kTrailingData: return "trailing-data";
    case Code::kUnsafePath: return "unsafe-path";
    case Code::kDuplicateEntry: return "duplicate-entry";
    case Code::kDirectoryEntry: return "directory-entry";
    case Code::kSymlinkEntry: return "symlink-entry";
    case Code::kEncrypted: return "encrypted";
    case Code::kOverlap: return "overlap";
    case Code::kSizeMismatch: return "size-mismatch";
    case Code::kCorruptEntry: return "corrupt-entry";
    case Code::kManifestMissing: return "manifest-missing";
    case Code::kManifestUnsorted: return "manifest-unsorted";
    case Code::kManifestMismatch: return "manifest-mismatch";
    case Code::kTooManyEntries: return "too-many-entries";
    case Code::kNameMismatch: return "name-mismatch";
    case Code::kRewritten: return "rewritten";
    case Code::kSignerNotAuthorized: return "signer-not-authorized";
    case Code::kReaderFailed: return "reader-failed";
    case Code::kNoMedium: return "no-medium";
  }
  return "internal";
}

std::optional<Code> CodeFromName(std::string_view name) {
  // Codes are appended, never reused (status.h), so every name is below the first value
  // CodeName does not know; 256 bounds the search whatever is appended later.
  for (int i = 1; i < 256; ++i) {
    auto code = static_cast<Code>(i);
    std::string_view n = CodeName(code);
    if (n == "internal" && code != Code::kInternal) break;
    if (n == name) return code;
  }
  return std::nullopt;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status Status::Context(std::string_view what) const {
  if (ok()) return *this;
  return Status(code_, std::string(what) + ": " + message_);
}

}  // namespace vouch
