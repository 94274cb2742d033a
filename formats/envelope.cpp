#include "formats/envelope.h"

#include <atomic>

#include "formats/cms.h"
#include "formats/cose.h"
#include "formats/jws.h"
#include "formats/voucher_cbor.h"
#include "formats/voucher_json.h"
#include "libvoucher/udf.h"

namespace vouch::formats {
namespace {

std::atomic<uint64_t> parses{0};

Status CheckSize(ByteView envelope) {
  if (envelope.size() <= kMaxVoucherSize) return Status::Ok();
  return Error(Code::kTooLarge, "voucher envelope is " + std::to_string(envelope.size()) + " bytes, over the cap of " +
                                    std::to_string(kMaxVoucherSize));
}

Result<Bytes> PayloadOfCms(ByteView envelope) {
  VOUCH_ASSIGN_OR_RETURN(Unverified u, OpenCmsUnverified(envelope));
  return std::move(u.payload);
}

Result<Bytes> PayloadOf(EnvelopeKind kind, ByteView envelope) {
  switch (kind) {
    case EnvelopeKind::kJws:
      return JwsPayloadUnverified(envelope);
    case EnvelopeKind::kCms:
      return PayloadOfCms(envelope);
    case EnvelopeKind::kCose:
      return CosePayloadUnverified(envelope);
  }
  return Error(Code::kInternal, "envelope kind");
}

}  // namespace

std::string_view MediaType(EnvelopeKind k) {
  switch (k) {
    case EnvelopeKind::kJws:
      return "application/voucher-jws+json";
    case EnvelopeKind::kCms:
      return "application/voucher-cms+json";
    case EnvelopeKind::kCose:
      return "application/voucher+cose";
  }
  return "";
}

std::string_view Extension(EnvelopeKind k) {
  switch (k) {
    case EnvelopeKind::kJws:
      return "vjj";
    case EnvelopeKind::kCms:
      return "vcj";
    case EnvelopeKind::kCose:
      return "vch";
  }
  return "";
}

std::string_view KindName(EnvelopeKind k) {
  switch (k) {
    case EnvelopeKind::kJws:
      return "jws";
    case EnvelopeKind::kCms:
      return "cms";
    case EnvelopeKind::kCose:
      return "cose";
  }
  return "";
}

std::optional<EnvelopeKind> KindFromExtension(std::string_view ext) {
  if (!ext.empty() && ext[0] == '.') ext.remove_prefix(1);
  for (EnvelopeKind k : kEnvelopeKinds) {
    if (ext == Extension(k)) return k;
  }
  return std::nullopt;
}

std::optional<EnvelopeKind> KindFromName(std::string_view name) {
  for (EnvelopeKind k : kEnvelopeKinds) {
    if (name == KindName(k)) return k;
  }
  return std::nullopt;
}

Result<EnvelopeKind> Sniff(ByteView b) {
  size_t i = 0;
  while (i < b.size() && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) ++i;
  if (i < b.size() && b[i] == '{') return EnvelopeKind::kJws;
  if (!b.empty() && b[0] == 0x30) return EnvelopeKind::kCms;
  if (!b.empty() && (b[0] == 0xd2 || b[0] == 0x84)) return EnvelopeKind::kCose;
  return Error(Code::kMalformed, "not a voucher envelope (none of JWS JSON, CMS DER, COSE_Sign1 CBOR)");
}

std::string VoucherId(EnvelopeKind kind, ByteView envelope) {
  auto id = udf::ContentDigest(udf::Alg::kSha2_512, MediaType(kind), envelope, udf::kContentBits);
  return id.ok() ? *id : std::string();
}

Result<Envelope> Identify(Bytes bytes) {
  VOUCH_RETURN_IF_ERROR(CheckSize(bytes));
  VOUCH_ASSIGN_OR_RETURN(EnvelopeKind kind, Sniff(bytes));
  std::string id = VoucherId(kind, bytes);
  return Envelope{kind, std::move(id), std::move(bytes)};
}

Result<Bytes> SignEnvelope(EnvelopeKind kind, ByteView payload, const Signer& signer) {
  switch (kind) {
    case EnvelopeKind::kJws:
      return SignJws(payload, signer);
    case EnvelopeKind::kCms:
      return SignCms(payload, signer);
    case EnvelopeKind::kCose:
      return SignCose(payload, signer);
  }
  return Error(Code::kInternal, "envelope kind");
}

Result<Verified> VerifyEnvelope(ByteView envelope, const std::vector<Certificate>& anchors, const TimePolicy& time) {
  VOUCH_RETURN_IF_ERROR(CheckSize(envelope));
  VOUCH_ASSIGN_OR_RETURN(EnvelopeKind kind, Sniff(envelope));
  return VerifyEnvelope(kind, envelope, anchors, time);
}

Result<Verified> VerifyEnvelope(EnvelopeKind kind, ByteView envelope, const std::vector<Certificate>& anchors,
                                const TimePolicy& time) {
  VOUCH_RETURN_IF_ERROR(CheckSize(envelope));
  switch (kind) {
    case EnvelopeKind::kJws:
      return VerifyJws(envelope, anchors, time);
    case EnvelopeKind::kCms:
      return VerifyCms(envelope, anchors, time);
    case EnvelopeKind::kCose:
      return VerifyCose(envelope, anchors, time);
  }
  return Error(Code::kInternal, "envelope kind");
}

Result<Unverified> OpenEnvelopeUnverified(ByteView envelope) {
  VOUCH_ASSIGN_OR_RETURN(EnvelopeKind kind, Sniff(envelope));
  switch (kind) {
    case EnvelopeKind::kJws:
      return OpenJwsUnverified(envelope);
    case EnvelopeKind::kCms:
      return OpenCmsUnverified(envelope);
    case EnvelopeKind::kCose:
      return OpenCoseUnverified(envelope);
  }
  return Error(Code::kInternal, "envelope kind");
}

Result<Bytes> PayloadUnverified(ByteView envelope) {
  VOUCH_ASSIGN_OR_RETURN(EnvelopeKind kind, Sniff(envelope));
  return PayloadOf(kind, envelope);
}

Result<VerifiedVoucher> VerifyVoucher(const Envelope& envelope, const std::vector<Certificate>& anchors,
                                      const TimePolicy& time) {
  VOUCH_ASSIGN_OR_RETURN(Verified v, VerifyEnvelope(envelope.kind, envelope.bytes, anchors, time));
  VOUCH_ASSIGN_OR_RETURN(Voucher voucher, DecodePayload(envelope.kind, v.payload));
  return VerifiedVoucher{std::move(v), std::move(voucher), envelope.id};
}

Result<VerifiedVoucher> VerifyVoucher(ByteView envelope, const std::vector<Certificate>& anchors,
                                      const TimePolicy& time) {
  VOUCH_ASSIGN_OR_RETURN(Envelope e, Identify(Bytes(envelope.begin(), envelope.end())));
  return VerifyVoucher(e, anchors, time);
}

Result<Voucher> DecodeUnverified(const Envelope& envelope) {
  VOUCH_ASSIGN_OR_RETURN(Bytes payload, PayloadOf(envelope.kind, envelope.bytes));
  return DecodePayload(envelope.kind, payload);
}

Result<Voucher> DecodePayload(EnvelopeKind kind, ByteView payload) {
  return kind == EnvelopeKind::kCose ? DecodeVoucherCbor(payload) : DecodeVoucher(payload);
}

Result<Envelope> SignPayload(ByteView payload, EnvelopeKind kind, const Signer& signer) {
  VOUCH_ASSIGN_OR_RETURN(Bytes bytes, SignEnvelope(kind, payload, signer));
  std::string id = VoucherId(kind, bytes);
  return Envelope{kind, std::move(id), std::move(bytes)};
}

Result<Envelope> SignVoucher(const Voucher& voucher, EnvelopeKind kind, const Signer& signer) {
  VOUCH_ASSIGN_OR_RETURN(Bytes payload, kind == EnvelopeKind::kCose ? EncodeVoucherCbor(voucher) : EncodeVoucher(voucher));
  return SignPayload(payload, kind, signer);
}

Result<Envelope> SignVoucherJson(ByteView json, EnvelopeKind kind, const Signer& signer) {
  if (kind != EnvelopeKind::kCose) return SignPayload(json, kind, signer);
  VOUCH_ASSIGN_OR_RETURN(Voucher v, DecodeVoucher(json));
  // Unknown leaves, other spellings: the JSON would say something the CBOR does not.
  auto again = EncodeVoucher(v);
  if (!again.ok() || !std::equal(again->begin(), again->end(), json.begin(), json.end())) {
    return Error(Code::kUsage, "this voucher's JSON is not what vouch writes, so COSE could not carry it unchanged; "
                               "sign it as jws or cms");
  }
  return SignVoucher(v, kind, signer);
}

uint64_t EnvelopeParses() { return parses.load(std::memory_order_relaxed); }

namespace internal {
void CountParse() { parses.fetch_add(1, std::memory_order_relaxed); }
}  // namespace internal

}  // namespace vouch::formats
