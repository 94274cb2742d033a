// Signature envelopes around a voucher (DESIGN.md section 5): which kinds there are, their
// media types and file extensions, voucher ids, and one entry point to sign and to verify.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libvoucher/cert.h"
#include "libvoucher/key.h"
#include "libvoucher/signing_key.h"
#include "libvoucher/status.h"
#include "libvoucher/instant.h"
#include "libvoucher/voucher.h"

namespace vouch::formats {

// JWS (formats/jws.h) and CMS (formats/cms.h) carry the voucher as JSON, COSE
// (formats/cose.h) as YANG-CBOR.
enum class EnvelopeKind { kJws, kCms, kCose };
inline constexpr EnvelopeKind kEnvelopeKinds[] = {EnvelopeKind::kJws, EnvelopeKind::kCms, EnvelopeKind::kCose};

std::string_view MediaType(EnvelopeKind k);   // "application/voucher-jws+json", ..., "application/voucher+cose"
std::string_view Extension(EnvelopeKind k);   // "vjj", "vcj", "vch" (no dot)
std::string_view KindName(EnvelopeKind k);    // "jws", "cms", "cose"
std::optional<EnvelopeKind> KindFromExtension(std::string_view ext);  // with or without the dot
std::optional<EnvelopeKind> KindFromName(std::string_view name);      // "jws", "cms", "cose"
// JWS is JSON (first non-space byte '{'), CMS is DER (0x30), COSE_Sign1 is CBOR tag 18 (0xd2)
// or, untagged, an array of four (0x84). kMalformed otherwise.
Result<EnvelopeKind> Sniff(ByteView envelope);

// The voucher id: UDF of the media type over the exact envelope bytes, 260 bits.
std::string VoucherId(EnvelopeKind kind, ByteView envelope);

// An envelope whose kind and id are known. Each voucher found is identified once, by
// Identify (from its bytes) or by CheckFiled (formats/layout.h: from the path it was filed
// at, checked against its bytes), and carried as this from then on, so that nothing
// downstream sniffs or hashes the same bytes again.
struct Envelope {
  EnvelopeKind kind;
  std::string id;
  Bytes bytes;
};
// kTooLarge over kMaxVoucherSize; kMalformed for bytes that are neither JWS JSON nor CMS DER.
Result<Envelope> Identify(Bytes bytes);

// Who signs: a key and its certificate path, signer first (x5c order). The key decides the
// algorithm (ES256, ES384, EdDSA: libvoucher/signing_key.h); a P-256 PrivateKey converts.
struct Signer {
  SigningKey key;
  std::vector<Certificate> chain;
};

// The payload is the voucher's encoding for `kind` (JSON, or YANG-CBOR for COSE).
// kUnsupported for an Ed25519 or Ed448 key in CMS (DESIGN.md 3: OpenSSL 3.0's CMS cannot
// sign EdDSA over signed attributes as RFC 8419 requires), kUsage (CMS without a certificate),
// kCrypto.
Result<Bytes> SignEnvelope(EnvelopeKind kind, ByteView payload, const Signer& signer);

// A verified envelope: its payload, the certificate that signed, the anchor it chains to,
// and when that path is valid (libvoucher/trust.h).
struct Verified {
  EnvelopeKind kind;
  Bytes payload;
  Certificate signer;
  Certificate anchor;
  Instant path_not_before;
  Instant path_not_after;
  std::vector<Certificate> path = {};  // signer to anchor, both included (libvoucher/trust.h)
};

// Checks a signature with the signer certificate found in the envelope (or, when it names
// none, each anchor's own key) and the path from that certificate to one of `anchors`.
// Errors: kMalformed, kTooLarge, kUnsupported, kBadSignature, kUntrustedSigner, kExpired,
// kNotYetValid.
Result<Verified> VerifyEnvelope(ByteView envelope, const std::vector<Certificate>& anchors, const TimePolicy& time);
Result<Verified> VerifyEnvelope(EnvelopeKind kind, ByteView envelope, const std::vector<Certificate>& anchors,
                                const TimePolicy& time);

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

// Verify then decode, parsing the envelope once: the usual reader's path. What it returns
// is also what filing needs (formats/layout.h, LayoutEntryOf).
struct VerifiedVoucher {
  Verified envelope;
  Voucher voucher;
  std::string id;
};
Result<VerifiedVoucher> VerifyVoucher(const Envelope& envelope, const std::vector<Certificate>& anchors,
                                      const TimePolicy& time);
// The same for bytes not yet identified (a file a command was given).
Result<VerifiedVoucher> VerifyVoucher(ByteView envelope, const std::vector<Certificate>& anchors,
                                      const TimePolicy& time);
// Decode with no signature check, parsing the envelope once (filing, inspecting).
Result<Voucher> DecodeUnverified(const Envelope& envelope);
// The voucher in a payload of this kind of envelope: JSON in JWS and CMS, YANG-CBOR in COSE.
Result<Voucher> DecodePayload(EnvelopeKind kind, ByteView payload);

// Encode, sign, identify: the one way a voucher becomes an envelope.
Result<Envelope> SignVoucher(const Voucher& voucher, EnvelopeKind kind, const Signer& signer);
// The same for a payload already in `kind`'s encoding, signed byte for byte.
Result<Envelope> SignPayload(ByteView payload, EnvelopeKind kind, const Signer& signer);
// The same for a voucher already encoded as JSON (a request's voucher): JWS and CMS sign it
// byte for byte; COSE carries the same voucher as YANG-CBOR, and only when the JSON says nothing
// the CBOR would lose (kUsage otherwise: it re-encodes to exactly these bytes).
Result<Envelope> SignVoucherJson(ByteView json, EnvelopeKind kind, const Signer& signer);

// How many envelopes this process has parsed: fetch and import parse each
// voucher once, and tests hold them to it.
uint64_t EnvelopeParses();
namespace internal {
void CountParse();  // called by the JWS, CMS and COSE parsers, and only by them
}  // namespace internal

}  // namespace vouch::formats
