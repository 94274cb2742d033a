// c2sp.org/signed-note: a text signed by one or more keys, and the "vkey" text that names a
// verifier key. The log signs its checkpoints as notes; witnesses add lines to them.
//
//   <text, ending in a newline>
//   <blank line>
//   — <key name> base64(key ID (4 bytes, big-endian) || signature)
//   ...
//
// Ed25519 (signature type 0x01) is the one note signature this file signs and verifies;
// cosignature.h reads the type 0x04 lines from the same parsed note. Parsing is strict and
// capped, because notes arrive from caches, remotes and media: formats/tlog/tlog.md lists
// every rule and the code each refusal gets.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libvoucher/bytes.h"
#include "libvoucher/ed25519.h"
#include "libvoucher/status.h"

namespace vouch::formats::tlog {

inline constexpr size_t kMaxNoteSize = 1 << 20;     // the whole note, signatures included
inline constexpr size_t kMaxNoteSignatures = 100;    // signature lines, known or not
inline constexpr size_t kMaxKeyTextSize = 4096;      // a vkey or signer key text

inline constexpr uint8_t kSignatureTypeEd25519 = 0x01;
inline constexpr uint8_t kSignatureTypeCosignature = 0x04;  // c2sp.org/tlog-cosignature v1

// Non-empty, valid UTF-8, no Unicode white space, no '+'.
bool IsValidKeyName(std::string_view name);

// SHA-256(name || "\n" || type || public_key)[:4] as a big-endian integer.
Result<uint32_t> KeyId(std::string_view name, uint8_t type, ByteView public_key);

// A public key as a note verifier knows it: the vkey text "<name>+<key ID, 8 hex>+<base64
// (type || 32-byte Ed25519 key)>". Type 0x01 verifies notes, 0x04 verifies cosignatures.
struct NoteVerifier {
  std::string name;
  uint8_t type = kSignatureTypeEd25519;
  uint32_t key_id = 0;
  Bytes public_key;  // 32 bytes

  // kMalformed for text that is not a vkey, kUnsupported for another signature type,
  // kInvalidKey when the key ID is not the one the name and key give.
  static Result<NoteVerifier> Parse(std::string_view vkey);
  static Result<NoteVerifier> FromPublicKey(std::string_view name, uint8_t type, ByteView public_key);
  std::string Text() const;
};

// A note signing key: a name and an Ed25519 key. Its text form is Go's signer key,
// "PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || 32-byte seed)>", so keys move between
// vouch and Go's note package.
struct NoteSigner {
  std::string name;
  uint32_t key_id = 0;
  ed25519::PrivateKey key;

  static Result<NoteSigner> Make(std::string_view name, ed25519::PrivateKey key);
  static Result<NoteSigner> Parse(std::string_view skey);  // codes as NoteVerifier::Parse
  SecretBytes Text() const;
  NoteVerifier Verifier() const;
};

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  Bytes signature;        // what follows the key ID
  bool verified = false;  // set by OpenNote for the lines a known key verified
};

struct Note {
  std::string text;  // ends in "\n"; the blank line is not part of it
  std::vector<NoteSignature> signatures;
};

// The note's structure, no signature checked. kTooLarge over kMaxNoteSize or
// kMaxNoteSignatures lines; kMalformed for anything else the format does not allow
// (control characters, CR included; invalid UTF-8; no blank line; a signature line without
// "— ", with a bad name or with non-canonical base64, or under 5 bytes).
Result<Note> ParseNote(std::string_view message);

// Text, blank line, one line per signature, in order. The exact inverse of ParseNote.
std::string FormatNote(const Note& note);

// Checks that `text` can be a note's text (ends in "\n", UTF-8, no control characters but
// newlines, under the size cap): kMalformed or kTooLarge otherwise.
Status CheckNoteText(std::string_view text);

// Signs `text` with each signer, in order, and returns the signed note.
Result<std::string> SignNote(std::string_view text, std::span<const NoteSigner> signers);

// One Ed25519 signature line for `text` (to append to an existing note's signatures).
Result<NoteSignature> SignNoteText(std::string_view text, const NoteSigner& signer);

// ParseNote, then the c2sp rules: lines whose (name, key ID) no type-0x01 verifier in
// `known` has are ignored; a line a known key made must verify (kBadSignature, the whole note
// is refused); at least one must (kUntrustedSigner when none of `known` signed it). The
// returned note marks the verified lines.
Result<Note> OpenNote(std::string_view message, std::span<const NoteVerifier> known);

}  // namespace vouch::formats::tlog
