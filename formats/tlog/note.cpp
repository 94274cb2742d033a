#include "formats/tlog/note.h"

#include <cstdio>

#include "libvoucher/encoding.h"
#include "libvoucher/sha256.h"

namespace vouch::formats::tlog {
namespace {

constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space
constexpr std::string_view kSignerPrefix = "PRIVATE+KEY+";
constexpr size_t kKeyIdSize = 4;

// The next code point of `s` at `i` (advancing `i`), or -1 for anything RFC 3629 does not
// allow: a stray continuation byte, a truncated sequence, an overlong form, a surrogate,
// a value over U+10FFFF.
int32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) { ++i; return b0; }
  size_t len;
  int32_t cp, min;
  if ((b0 & 0xE0) == 0xC0) { len = 2; cp = b0 & 0x1F; min = 0x80; }
  else if ((b0 & 0xF0) == 0xE0) { len = 3; cp = b0 & 0x0F; min = 0x800; }
  else if ((b0 & 0xF8) == 0xF0) { len = 4; cp = b0 & 0x07; min = 0x10000; }
  else return -1;
  if (s.size() - i < len) return -1;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += len;
  return cp;
}

// Unicode White_Space (what Go's unicode.IsSpace, and so Go's note package, refuses in names).
bool IsSpace(int32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

// Valid UTF-8 with no control character below U+0020 except newline (so no CR, no tab).
Status CheckChars(std::string_view s, std::string_view what) {
  for (size_t i = 0; i < s.size();) {
    const size_t at = i;
    int32_t cp = NextCodePoint(s, i);
    if (cp < 0) return Error(Code::kMalformed, std::string(what) + ": invalid UTF-8 at byte " + std::to_string(at));
    if (cp < 0x20 && cp != '\n') {
      return Error(Code::kMalformed, std::string(what) + ": control character " + std::to_string(cp) + " at byte " +
                                         std::to_string(at) + (cp == '\r' ? " (CRLF line ends are not allowed)" : ""));
    }
  }
  return Status::Ok();
}

std::string Hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

uint32_t BigEndian32(ByteView b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

void PutBigEndian32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

// Exactly 8 hex digits, as Go's %08x writes them (Go also reads upper case; so do we).
Result<uint32_t> ParseKeyIdHex(std::string_view hex) {
  if (hex.size() != 8) return Error(Code::kMalformed, "key ID '" + std::string(hex) + "' is not 8 hex digits");
  uint32_t v = 0;
  for (char c : hex) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return Error(Code::kMalformed, "key ID '" + std::string(hex) + "' is not 8 hex digits");
    v = (v << 4) | static_cast<uint32_t>(d);
  }
  return v;
}

// Splits "<name>+<id>+<base64>" (the tail of both key texts) and decodes the key bytes:
// a type byte then 32 bytes.
struct KeyFields {
  std::string name;
  uint32_t key_id = 0;
  uint8_t type = 0;
  Bytes key;
};

Result<KeyFields> SplitKeyText(std::string_view text, std::string_view what) {
  if (text.size() > kMaxKeyTextSize) return Error(Code::kTooLarge, std::string(what) + " over 4096 bytes");
  size_t p1 = text.find('+');
  size_t p2 = p1 == std::string_view::npos ? p1 : text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) {
    return Error(Code::kMalformed, std::string(what) + " is not <name>+<key ID>+<base64 key>");
  }
  KeyFields f;
  f.name = std::string(text.substr(0, p1));
  if (!IsValidKeyName(f.name)) return Error(Code::kMalformed, std::string(what) + ": invalid key name");
  auto id = ParseKeyIdHex(text.substr(p1 + 1, p2 - p1 - 1));
  if (!id.ok()) return id.status().Context(what);
  f.key_id = *id;
  auto key = Base64Decode(text.substr(p2 + 1));
  if (!key.ok()) return Error(Code::kMalformed, std::string(what) + ": key is not canonical base64");
  if (key->empty()) return Error(Code::kMalformed, std::string(what) + ": empty key");
  f.type = (*key)[0];
  if (f.type != kSignatureTypeEd25519 && f.type != kSignatureTypeCosignature) {
    return Error(Code::kUnsupported, std::string(what) + ": signature type " + std::to_string(f.type) +
                                         " (vouch knows 1, Ed25519, and 4, cosignature/v1)");
  }
  if (key->size() != 1 + ed25519::kPublicKeySize) {
    return Error(Code::kMalformed, std::string(what) + ": Ed25519 key of " + std::to_string(key->size() - 1) +
                                       " bytes (32 expected)");
  }
  f.key.assign(key->begin() + 1, key->end());
  Wipe(key->data(), key->size());  // a signer key's seed
  return f;
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    int32_t cp = NextCodePoint(name, i);
    if (cp < 0 || cp < 0x20 || IsSpace(cp) || cp == '+') return false;
  }
  return true;
}

Result<uint32_t> KeyId(std::string_view name, uint8_t type, ByteView public_key) {
  const uint8_t sep[2] = {'\n', type};
  VOUCH_ASSIGN_OR_RETURN(Sha256Digest d, Sha256({AsBytes(name), ByteView(sep, 2), public_key}));
  return BigEndian32(d);
}

Result<NoteVerifier> NoteVerifier::Parse(std::string_view vkey) {
  VOUCH_ASSIGN_OR_RETURN(KeyFields f, SplitKeyText(vkey, "verifier key"));
  VOUCH_ASSIGN_OR_RETURN(NoteVerifier v, FromPublicKey(f.name, f.type, f.key));
  if (v.key_id != f.key_id) {
    return Error(Code::kInvalidKey, "verifier key " + f.name + ": key ID " + Hex8(f.key_id) +
                                        " is not the one its name and key give (" + Hex8(v.key_id) + ")");
  }
  return v;
}

Result<NoteVerifier> NoteVerifier::FromPublicKey(std::string_view name, uint8_t type, ByteView public_key) {
  if (!IsValidKeyName(name)) return Error(Code::kUsage, "invalid key name '" + std::string(name) + "'");
  if (public_key.size() != ed25519::kPublicKeySize) return Error(Code::kInvalidKey, "Ed25519 key not 32 bytes");
  NoteVerifier v;
  v.name = std::string(name);
  v.type = type;
  v.public_key.assign(public_key.begin(), public_key.end());
  VOUCH_ASSIGN_OR_RETURN(v.key_id, KeyId(name, type, public_key));
  return v;
}

std::string NoteVerifier::Text() const {
  Bytes typed{type};
  typed.insert(typed.end(), public_key.begin(), public_key.end());
  return name + "+" + Hex8(key_id) + "+" + Base64Encode(typed);
}

Result<NoteSigner> NoteSigner::Make(std::string_view name, ed25519::PrivateKey key) {
  VOUCH_ASSIGN_OR_RETURN(NoteVerifier v, NoteVerifier::FromPublicKey(name, kSignatureTypeEd25519, key.PublicKey()));
  return NoteSigner{v.name, v.key_id, std::move(key)};
}

Result<NoteSigner> NoteSigner::Parse(std::string_view skey) {
  if (skey.substr(0, kSignerPrefix.size()) != kSignerPrefix) {
    return Error(Code::kMalformed, "signer key does not start with PRIVATE+KEY+");
  }
  VOUCH_ASSIGN_OR_RETURN(KeyFields f, SplitKeyText(skey.substr(kSignerPrefix.size()), "signer key"));
  SecretBytes seed(f.key);
  Wipe(f.key.data(), f.key.size());
  if (f.type != kSignatureTypeEd25519) return Error(Code::kUnsupported, "signer key: not an Ed25519 note key");
  VOUCH_ASSIGN_OR_RETURN(ed25519::PrivateKey key, ed25519::PrivateKey::FromSeed(seed.view()));
  VOUCH_ASSIGN_OR_RETURN(NoteSigner s, Make(f.name, std::move(key)));
  if (s.key_id != f.key_id) {
    return Error(Code::kInvalidKey, "signer key " + f.name + ": key ID " + Hex8(f.key_id) +
                                        " is not the one its name and key give (" + Hex8(s.key_id) + ")");
  }
  return s;
}

SecretBytes NoteSigner::Text() const {
  SecretBytes seed = key.Seed();
  SecretBytes typed(1 + seed.size());
  typed[0] = kSignatureTypeEd25519;
  for (size_t i = 0; i < seed.size(); ++i) typed[1 + i] = seed.data()[i];
  std::string b64 = Base64Encode(typed.view());
  std::string text = std::string(kSignerPrefix) + name + "+" + Hex8(key_id) + "+" + b64;
  SecretBytes out(AsBytes(text));
  Wipe(b64.data(), b64.size());
  Wipe(text.data(), text.size());
  return out;
}

NoteVerifier NoteSigner::Verifier() const {
  return NoteVerifier{name, kSignatureTypeEd25519, key_id, key.PublicKey()};
}

Status CheckNoteText(std::string_view text) {
  if (text.size() > kMaxNoteSize) return Error(Code::kTooLarge, "note text over " + std::to_string(kMaxNoteSize) + " bytes");
  if (text.empty() || text.back() != '\n') return Error(Code::kMalformed, "note text does not end in a newline");
  return CheckChars(text, "note text");
}

Result<Note> ParseNote(std::string_view msg) {
  if (msg.size() > kMaxNoteSize) {
    return Error(Code::kTooLarge, "note of " + std::to_string(msg.size()) + " bytes (at most " +
                                      std::to_string(kMaxNoteSize) + ")");
  }
  VOUCH_RETURN_IF_ERROR(CheckChars(msg, "note"));
  // The text ends at the last blank line: text lines may be blank, signature lines never are.
  size_t split = msg.rfind("\n\n");
  if (split == std::string_view::npos) return Error(Code::kMalformed, "note has no blank line before its signatures");
  Note note;
  note.text = std::string(msg.substr(0, split + 1));
  std::string_view sigs = msg.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') return Error(Code::kMalformed, "note signatures do not end in a newline");
  size_t line_no = 0;
  while (!sigs.empty()) {
    size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    const std::string where = "note signature line " + std::to_string(++line_no);
    if (line_no > kMaxNoteSignatures) {
      return Error(Code::kTooLarge, "note has over " + std::to_string(kMaxNoteSignatures) + " signature lines");
    }
    if (line.substr(0, kSigPrefix.size()) != kSigPrefix) {
      return Error(Code::kMalformed, where + " does not start with an em dash and a space");
    }
    line.remove_prefix(kSigPrefix.size());
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return Error(Code::kMalformed, where + " has no signature after the key name");
    std::string_view name = line.substr(0, sp);
    if (!IsValidKeyName(name)) return Error(Code::kMalformed, where + ": invalid key name");
    auto sig = Base64Decode(line.substr(sp + 1));
    if (!sig.ok()) return Error(Code::kMalformed, where + ": signature is not canonical base64");
    if (sig->size() < kKeyIdSize + 1) return Error(Code::kMalformed, where + ": signature under 5 bytes");
    NoteSignature s;
    s.name = std::string(name);
    s.key_id = BigEndian32(*sig);
    s.signature.assign(sig->begin() + kKeyIdSize, sig->end());
    note.signatures.push_back(std::move(s));
  }
  return note;
}

std::string FormatNote(const Note& note) {
  std::string out = note.text + "\n";
  for (const NoteSignature& s : note.signatures) {
    Bytes raw;
    PutBigEndian32(raw, s.key_id);
    raw.insert(raw.end(), s.signature.begin(), s.signature.end());
    out += std::string(kSigPrefix) + s.name + " " + Base64Encode(raw) + "\n";
  }
  return out;
}

Result<NoteSignature> SignNoteText(std::string_view text, const NoteSigner& signer) {
  VOUCH_RETURN_IF_ERROR(CheckNoteText(text));
  VOUCH_ASSIGN_OR_RETURN(Bytes sig, signer.key.Sign(AsBytes(text)));
  return NoteSignature{signer.name, signer.key_id, std::move(sig), true};
}

Result<std::string> SignNote(std::string_view text, std::span<const NoteSigner> signers) {
  if (signers.empty()) return Error(Code::kUsage, "a note needs at least one signer");
  if (signers.size() > kMaxNoteSignatures) return Error(Code::kTooLarge, "over 100 signers");
  Note note{std::string(text), {}};
  for (const NoteSigner& s : signers) {
    VOUCH_ASSIGN_OR_RETURN(NoteSignature sig, SignNoteText(text, s));
    note.signatures.push_back(std::move(sig));
  }
  std::string out = FormatNote(note);
  if (out.size() > kMaxNoteSize) return Error(Code::kTooLarge, "signed note over the note size cap");
  return out;
}

Result<Note> OpenNote(std::string_view message, std::span<const NoteVerifier> known) {
  VOUCH_ASSIGN_OR_RETURN(Note note, ParseNote(message));
  bool any = false;
  for (NoteSignature& s : note.signatures) {
    bool is_known = false;
    for (const NoteVerifier& v : known) {
      if (v.type != kSignatureTypeEd25519 || v.name != s.name || v.key_id != s.key_id) continue;
      is_known = true;
      if (ed25519::Verify(v.public_key, AsBytes(note.text), s.signature).ok()) {
        s.verified = true;
        break;
      }
    }
    // c2sp: a known key's signature that does not verify condemns the whole note.
    if (is_known && !s.verified) {
      return Error(Code::kBadSignature, "note signature by " + s.name + "+" + Hex8(s.key_id) + " does not verify");
    }
    any = any || s.verified;
  }
  if (!any) return Error(Code::kUntrustedSigner, "note is signed by none of the " + std::to_string(known.size()) + " known keys");
  return note;
}

}  // namespace vouch::formats::tlog
