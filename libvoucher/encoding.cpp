#include "libvoucher/encoding.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <limits>

namespace vouch {

void Wipe(void* p, size_t n) { OPENSSL_cleanse(p, n); }

std::string HexEncode(ByteView data) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Bytes> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) return Error(Code::kMalformed, "hex text has an odd length");
  Bytes out(text.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(text[2 * i]), lo = HexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return Error(Code::kMalformed, "hex text has a character outside 0-9a-f");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

// Encoding and decoding proper are OpenSSL's (EVP_EncodeBlock / EVP_DecodeBlock); what is
// ours is the strictness those functions lack (they skip whitespace and report padded sizes).
std::string Base64Encode(ByteView data) {
  if (data.size() > static_cast<size_t>(std::numeric_limits<int>::max() / 4 * 3 - 3)) return {};
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

static bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

Result<Bytes> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return Error(Code::kMalformed, "base64 text length is not a multiple of 4");
  if (text.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Error(Code::kTooLarge, "base64 text is too long");
  }
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  for (size_t i = 0; i < text.size() - pad; ++i) {
    if (!IsBase64Char(text[i])) return Error(Code::kMalformed, "base64 text has a character outside the alphabet");
  }
  Bytes out(text.size() / 4 * 3);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return Error(Code::kMalformed, "base64 text does not decode");
  out.resize(static_cast<size_t>(n) - pad);
  // Non-zero pad bits would give two spellings of the same bytes; RFC 4648 3.5 lets us refuse.
  if (Base64Encode(out) != text) return Error(Code::kMalformed, "base64 text is not canonical");
  return out;
}

std::string Base64UrlEncode(ByteView data) {
  std::string s = Base64Encode(data);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return s;
}

Result<Bytes> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return Error(Code::kMalformed, "base64url text has an impossible length");
  std::string s(text);
  for (char& c : s) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
    else if (c == '+' || c == '/' || c == '=') {
      return Error(Code::kMalformed, "base64url text has a character outside the alphabet");
    }
  }
  s.append((4 - s.size() % 4) % 4, '=');
  return Base64Decode(s);
}

static const char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string Base32Encode(ByteView data, size_t chars) {
  std::string out;
  out.reserve(chars);
  uint32_t acc = 0;
  int have = 0;
  size_t i = 0;
  while (out.size() < chars) {
    if (have < 5) {
      acc = (acc << 8) | (i < data.size() ? data[i] : 0);
      ++i;
      have += 8;
    }
    out.push_back(kBase32[(acc >> (have - 5)) & 31]);
    have -= 5;
  }
  return out;
}

Result<Bytes> Base32Decode(std::string_view text) {
  Bytes out((text.size() * 5 + 7) / 8, 0);
  // Five bits in per character, a byte out whenever eight are waiting; the last partial
  // byte is padded with zero bits. (A UDF is parsed per manifest entry: this is hot.)
  uint32_t acc = 0;
  int pending = 0;
  size_t o = 0;
  for (char c : text) {
    uint32_t v;
    if (c >= 'A' && c <= 'Z') v = static_cast<uint32_t>(c - 'A');
    else if (c >= '2' && c <= '7') v = static_cast<uint32_t>(c - '2' + 26);
    else return Error(Code::kMalformed, "base32 text has a character outside A-Z2-7");
    acc = ((acc << 5) | v) & 0xfff;
    pending += 5;
    if (pending >= 8) {
      pending -= 8;
      out[o++] = static_cast<uint8_t>(acc >> pending);
    }
  }
  if (pending > 0) out[o] = static_cast<uint8_t>(acc << (8 - pending));
  return out;
}

}  // namespace vouch
