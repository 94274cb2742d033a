// Signature envelopes around a voucher (DESIGN.md section 5): which kinds there are, their
// media types and file extensions, voucher ids, and one entry point to sign and to verify.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libvoucher/cert.h"
#include "libvoucher/key.h"
#include "libvoucher/status.h"
#include "libvoucher/instant.h"
#include "libvoucher/voucher.h"

namespace vouch::formats {

enum class EnvelopeKind { kJws, kCms };

std::string_view MediaType(EnvelopeKind k);   // "application/voucher-jws+json"
std::string_view Extension(EnvelopeKind k);   // "vjj", "vcj" (no dot)
std::optional<EnvelopeKind> KindFromExtension(std::string_view ext);  // with or without the dot
std::optional<EnvelopeKind> KindFromName(std::string_view name);      // "jws", "cms"
// JWS is JSON (first non-space byte '{'), CMS is DER (0x30). kMalformed otherwise.
Result<EnvelopeKind> Sniff(ByteView envelope);

// The voucher id: UDF of the media type over the exact envelope bytes, 260 bits.
std::string VoucherId(EnvelopeKind kind, ByteView envelope);

// Who signs: a key and its certificate path, signer first (x5c order).
struct Signer {
  PrivateKey key;
  std::vector<Certificate> chain;
};

Result<Bytes> SignEnvelope(EnvelopeKind kind, ByteView payload, const Signer& signer);

// A verified envelope: its payload, the certificate that signed, and the anchor it chains to.
struct Verified {
  EnvelopeKind kind;
  Bytes payload;
  Certificate signer;
  Certificate anchor;
};

// Checks a signature with the signer certificate found in the envelope (or, when it names
// none, each anchor's own key) and the path from that certificate to one of `anchors`.
// Errors: kMalformed, kTooLarge, kUnsupported, kBadSignature, kUntrustedSigner, kExpired,
// kNotYetValid.
Result<Verified> VerifyEnvelope(ByteView envelope, const std::vector<Certificate>& anchors, const TimePolicy& time);

// The payload and the certificates an envelope carries, with no checks at all (inspect).
struct Unverified {
  EnvelopeKind kind;
  Bytes payload;
  std::vector<Certificate> certificates;
  int signatures = 0;
};
Result<Unverified> OpenEnvelopeUnverified(ByteView envelope);
// Only the payload, with no checks and as little parsing as the envelope allows.
Result<Bytes> PayloadUnverified(ByteView envelope);

// Verify then decode: the usual reader's path.
struct VerifiedVoucher {
  Verified envelope;
  Voucher voucher;
  std::string id;
};
Result<VerifiedVoucher> VerifyVoucher(ByteView envelope, const std::vector<Certificate>& anchors,
                                      const TimePolicy& time);

}  // namespace vouch::formats
