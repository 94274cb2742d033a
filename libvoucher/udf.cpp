#include "libvoucher/udf.h"

#include <openssl/evp.h>

#include "libvoucher/encoding.h"
#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/handles.h"

namespace vouch::udf {
namespace {

Result<Bytes> Hash(Alg alg, ByteView a, ByteView b = {}) {
  const EVP_MD* md = alg == Alg::kSha2_512 ? EVP_sha512() : EVP_sha3_512();
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  Bytes out(64);
  unsigned int n = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &n) != 1 || n != 64) {
    return ossl::Fail(Code::kCrypto, "udf digest");
  }
  return out;
}

// Zero bits at the end of the digest, counted from its last byte backwards.
int TrailingZeroBits(ByteView d) {
  int n = 0;
  for (size_t i = d.size(); i-- > 0;) {
    if (d[i] == 0) { n += 8; continue; }
    for (uint8_t b = d[i]; (b & 1) == 0; b >>= 1) ++n;
    break;
  }
  return n;
}

int CompressionLevel(ByteView tcdv) {
  int z = TrailingZeroBits(tcdv);
  return z >= 50 ? 4 : z >= 40 ? 3 : z >= 30 ? 2 : z >= 20 ? 1 : 0;
}

}  // namespace

Result<Bytes> ContentDigestBinary(Alg alg, std::string_view content_type, ByteView data) {
  VOUCH_ASSIGN_OR_RETURN(Bytes inner, Hash(alg, data));
  Bytes label(content_type.begin(), content_type.end());
  label.push_back(':');
  VOUCH_ASSIGN_OR_RETURN(Bytes tcdv, Hash(alg, label, inner));
  uint8_t type = alg == Alg::kSha2_512 ? kTypeSha2 : kTypeSha3;
  Bytes binary;
  binary.reserve(65);
  binary.push_back(static_cast<uint8_t>(type + CompressionLevel(tcdv)));
  binary.insert(binary.end(), tcdv.begin(), tcdv.end());
  return binary;
}

static std::string Group(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (i > 0 && i % 4 == 0) out.push_back('-');
    out.push_back(raw[i]);
  }
  return out;
}

std::string Present(ByteView binary, int bits) {
  return Group(Base32Encode(binary, static_cast<size_t>((bits + 4) / 5)));
}

Result<std::string> ContentDigest(Alg alg, std::string_view content_type, ByteView data, int bits) {
  if (bits < kMinBits || bits > kMaxBits) {
    return Error(Code::kUsage, "udf precision " + std::to_string(bits) + " is outside 100..520 bits");
  }
  VOUCH_ASSIGN_OR_RETURN(Bytes binary, ContentDigestBinary(alg, content_type, data));
  return Present(binary, bits);
}

std::string KeyFingerprint(ByteView spki_der, int bits) {
  // SHA-512 over a bounded buffer cannot fail short of memory exhaustion; a failure here
  // would be a broken libcrypto, and an empty string can never match a real fingerprint.
  auto r = ContentDigest(Alg::kSha2_512, kKeyContentType, spki_der, bits);
  return r.ok() ? *r : std::string();
}

Result<Udf> Udf::Parse(std::string_view text) {
  Udf u;
  for (char c : text) {
    if (c == '-') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    bool ok = (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
    if (!ok) return Error(Code::kMalformed, "udf '" + std::string(text) + "' has a character outside the base32 alphabet");
    u.chars_.push_back(c);
  }
  if (u.bits() < kMinBits) {
    return Error(Code::kMalformed, "udf '" + std::string(text) + "' is shorter than 100 bits (20 characters)");
  }
  if (u.chars_.size() > (kMaxBits + 4) / 5) {
    return Error(Code::kMalformed, "udf '" + std::string(text) + "' is longer than a fingerprint can be");
  }
  VOUCH_ASSIGN_OR_RETURN(Bytes binary, Base32Decode(u.chars_));
  u.type_ = binary[0];
  return u;
}

std::string Udf::ToString() const { return Group(chars_); }

bool Udf::IsPrefixOf(const Udf& longer) const {
  return chars_.size() <= longer.chars_.size() && longer.chars_.compare(0, chars_.size(), chars_) == 0;
}

}  // namespace vouch::udf
