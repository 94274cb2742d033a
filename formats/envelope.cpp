#include "formats/envelope.h"

#include <atomic>

#include "formats/cms.h"
#include "formats/jws.h"
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

}  // namespace

std::string_view MediaType(EnvelopeKind k) {
  return k == EnvelopeKind::kJws ? "application/voucher-jws+json" : "application/voucher-cms+json";
}

std::string_view Extension(EnvelopeKind k) { return k == EnvelopeKind::kJws ? "vjj" : "vcj"; }

std::optional<EnvelopeKind> KindFromExtension(std::string_view ext) {
  if (!ext.empty() && ext[0] == '.') ext.remove_prefix(1);
  if (ext == "vjj") return EnvelopeKind::kJws;
  if (ext == "vcj") return EnvelopeKind::kCms;
  return std::nullopt;
}

std::optional<EnvelopeKind> KindFromName(std::string_view name) {
  if (name == "jws") return EnvelopeKind::kJws;
  if (name == "cms") return EnvelopeKind::kCms;
  return std::nullopt;
}

Result<EnvelopeKind> Sniff(ByteView b) {
  size_t i = 0;
  while (i < b.size() && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) ++i;
  if (i < b.size() && b[i] == '{') return EnvelopeKind::kJws;
  if (!b.empty() && b[0] == 0x30) return EnvelopeKind::kCms;
  return Error(Code::kMalformed, "not a voucher envelope (neither JWS JSON nor CMS DER)");
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
  return kind == EnvelopeKind::kJws ? SignJws(payload, signer) : SignCms(payload, signer);
}

Result<Verified> VerifyEnvelope(ByteView envelope, const std::vector<Certificate>& anchors, const TimePolicy& time) {
  VOUCH_RETURN_IF_ERROR(CheckSize(envelope));
  VOUCH_ASSIGN_OR_RETURN(EnvelopeKind kind, Sniff(envelope));
  return VerifyEnvelope(kind, envelope, anchors, time);
}

Result<Verified> VerifyEnvelope(EnvelopeKind kind, ByteView envelope, const std::vector<Certificate>& anchors,
                                const TimePolicy& time) {
  VOUCH_RETURN_IF_ERROR(CheckSize(envelope));
  return kind == EnvelopeKind::kJws ? VerifyJws(envelope, anchors, time) : VerifyCms(envelope, anchors, time);
}

Result<Unverified> OpenEnvelopeUnverified(ByteView envelope) {
  VOUCH_ASSIGN_OR_RETURN(EnvelopeKind kind, Sniff(envelope));
  return kind == EnvelopeKind::kJws ? OpenJwsUnverified(envelope) : OpenCmsUnverified(envelope);
}

Result<Bytes> PayloadUnverified(ByteView envelope) {
  VOUCH_ASSIGN_OR_RETURN(EnvelopeKind kind, Sniff(envelope));
  return kind == EnvelopeKind::kJws ? JwsPayloadUnverified(envelope) : PayloadOfCms(envelope);
}

Result<VerifiedVoucher> VerifyVoucher(const Envelope& envelope, const std::vector<Certificate>& anchors,
                                      const TimePolicy& time) {
  VOUCH_ASSIGN_OR_RETURN(Verified v, VerifyEnvelope(envelope.kind, envelope.bytes, anchors, time));
  VOUCH_ASSIGN_OR_RETURN(Voucher voucher, DecodeVoucher(v.payload));
  return VerifiedVoucher{std::move(v), std::move(voucher), envelope.id};
}

Result<VerifiedVoucher> VerifyVoucher(ByteView envelope, const std::vector<Certificate>& anchors,
                                      const TimePolicy& time) {
  VOUCH_ASSIGN_OR_RETURN(Envelope e, Identify(Bytes(envelope.begin(), envelope.end())));
  return VerifyVoucher(e, anchors, time);
}

Result<Voucher> DecodeUnverified(const Envelope& envelope) {
  Result<Bytes> payload = envelope.kind == EnvelopeKind::kJws ? JwsPayloadUnverified(envelope.bytes)
                                                              : PayloadOfCms(envelope.bytes);
  if (!payload.ok()) return payload.status();
  return DecodeVoucher(*payload);
}

Result<Envelope> SignPayload(ByteView payload, EnvelopeKind kind, const Signer& signer) {
  VOUCH_ASSIGN_OR_RETURN(Bytes bytes, SignEnvelope(kind, payload, signer));
  std::string id = VoucherId(kind, bytes);
  return Envelope{kind, std::move(id), std::move(bytes)};
}

Result<Envelope> SignVoucher(const Voucher& voucher, EnvelopeKind kind, const Signer& signer) {
  VOUCH_ASSIGN_OR_RETURN(Bytes payload, EncodeVoucher(voucher));
  return SignPayload(payload, kind, signer);
}

uint64_t EnvelopeParses() { return parses.load(std::memory_order_relaxed); }

namespace internal {
void CountParse() { parses.fetch_add(1, std::memory_order_relaxed); }
}  // namespace internal

}  // namespace vouch::formats
