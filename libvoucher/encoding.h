// Text encodings of bytes: hex, RFC 4648 base64 / base64url / base32.
//
// Decoders are strict, because their inputs come from media and remotes: base64 requires
// canonical padding and zero pad bits, base64url requires no padding, nothing accepts
// whitespace or characters outside the alphabet. Base32 here is only the encoder the UDF
// presentation needs plus a decoder of unpadded, possibly truncated text (udf.cpp).
#pragma once

#include <string>
#include <string_view>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch {

std::string HexEncode(ByteView data);
Result<Bytes> HexDecode(std::string_view text);  // ignores nothing: even length, [0-9a-fA-F]

std::string Base64Encode(ByteView data);           // standard alphabet, with padding
Result<Bytes> Base64Decode(std::string_view text);  // standard alphabet, padding required
std::string Base64UrlEncode(ByteView data);         // URL alphabet, no padding (JWS, RFC 7515 2)
Result<Bytes> Base64UrlDecode(std::string_view text);

// RFC 4648 section 6 base32 without padding, cut to `chars` characters (chars <= 8*len/5 rounded up).
std::string Base32Encode(ByteView data, size_t chars);
// Decodes `text` (A-Z2-7 only) into ceil(5*len/8) bytes; the bits after the last character are 0.
Result<Bytes> Base32Decode(std::string_view text);

}  // namespace vouch
