#include "formats/cose.h"

#include "formats/cbor/cbor.h"
#include "formats/jws.h"
#include "formats/signed_by.h"
#include "formats/voucher_json.h"

namespace vouch::formats {
namespace {

constexpr int64_t kLabelAlg = 1;
constexpr int64_t kLabelCrit = 2;
constexpr int64_t kLabelX5chain = 33;

Status Bad(const std::string& why) { return Error(Code::kMalformed, "cose " + why); }

struct Parsed {
  Bytes protected_bytes;  // as transmitted: the Sig_structure signs these exact bytes
  std::string_view alg;   // the JWS name of the algorithm: ES256, ES384, EdDSA
  std::vector<Bytes> x5chain;
  Bytes payload;
  Bytes signature;
};

Result<std::string_view> AlgName(const cbor::Item& alg) {
  if (alg.IsInt()) {
    VOUCH_ASSIGN_OR_RETURN(int64_t a, alg.Int());
    if (a == kCoseEs256) return std::string_view("ES256");
    if (a == kCoseEs384) return std::string_view("ES384");
    if (a == kCoseEdDsa) return std::string_view("EdDSA");
    return Error(Code::kUnsupported, "cose algorithm " + std::to_string(a) + " is none of ES256, ES384, EdDSA");
  }
  return Error(Code::kUnsupported, "cose algorithm is not one of the registered integers");
}

// RFC 9360 2: one certificate as a byte string, several as an array of them, signer first.
Result<std::vector<Bytes>> Chain(const cbor::Item& v) {
  std::vector<Bytes> out;
  if (v.type == cbor::Type::kBytes) {
    out.push_back(v.bytes);
  } else if (v.type == cbor::Type::kArray && !v.items.empty() && v.items.size() <= kMaxX5c) {
    for (const cbor::Item& c : v.items) {
      if (c.type != cbor::Type::kBytes) return Bad("x5chain entry is not a byte string");
      out.push_back(c.bytes);
    }
  } else {
    return Bad("x5chain is not a certificate or an array of 1 to 8");
  }
  for (const Bytes& c : out) {
    if (c.size() > kMaxCertificateSize) return Error(Code::kTooLarge, "cose x5chain entry is over 16 KiB");
  }
  return out;
}

Result<Parsed> Parse(ByteView envelope) {
  internal::CountParse();
  VOUCH_ASSIGN_OR_RETURN(cbor::Item top, cbor::Decode(envelope, {kMaxVoucherSize}));
  // RFC 9052 4.2: tag 18 marks a COSE_Sign1. Required: the same envelope untagged would be
  // the same voucher under a second id (formats/voucher.md, "One spelling").
  if (top.type != cbor::Type::kTag || top.number != kCoseSign1Tag) return Bad("is not a tagged COSE_Sign1 (18)");
  const cbor::Item* sign1 = &top.items[0];
  if (sign1->type != cbor::Type::kArray || sign1->items.size() != 4) return Bad("is not a COSE_Sign1 array of four");
  const cbor::Item& prot = sign1->items[0];
  const cbor::Item& unprot = sign1->items[1];
  const cbor::Item& payload = sign1->items[2];
  const cbor::Item& signature = sign1->items[3];
  if (prot.type != cbor::Type::kBytes) return Bad("protected header is not a byte string");
  if (unprot.type != cbor::Type::kMap) return Bad("unprotected header is not a map");
  // A nil payload is detached (RFC 9052 4.1): a voucher carries its own.
  if (payload.type != cbor::Type::kBytes) return Bad("payload is detached or not a byte string");
  if (signature.type != cbor::Type::kBytes) return Bad("signature is not a byte string");

  Parsed p;
  p.protected_bytes = prot.bytes;
  cbor::Item headers;  // an empty byte string is the empty map (RFC 9052 3)
  headers.type = cbor::Type::kMap;
  if (!prot.bytes.empty()) {
    VOUCH_ASSIGN_OR_RETURN(headers, cbor::Decode(prot.bytes, {kMaxVoucherSize}));
    if (headers.type != cbor::Type::kMap) return Bad("protected header is not a map");
  }
  // Everything a voucher says is signed. Unprotected parameters would be anyone's to add,
  // drop or reorder, each time a new voucher id for the same signed voucher; x5chain too goes
  // in the protected header.
  if (!unprot.items.empty()) return Bad("unprotected header is not empty");
  const cbor::Item* alg = nullptr;
  const cbor::Item* chain = nullptr;
  for (size_t i = 0; i < headers.items.size(); i += 2) {
    if (!headers.items[i].IsInt()) continue;  // text labels: private use, none understood
    VOUCH_ASSIGN_OR_RETURN(int64_t label, headers.items[i].Int());
    if (label == kLabelCrit) return Error(Code::kUnsupported, "cose header has critical parameters");
    if (label == kLabelAlg) alg = &headers.items[i + 1];
    if (label == kLabelX5chain) chain = &headers.items[i + 1];
  }
  if (!alg) return Bad("protected header names no algorithm");
  VOUCH_ASSIGN_OR_RETURN(p.alg, AlgName(*alg));
  if (chain) {
    VOUCH_ASSIGN_OR_RETURN(p.x5chain, Chain(*chain));
  }
  p.payload = payload.bytes;
  p.signature = signature.bytes;
  return p;
}

// RFC 9052 4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload].
Bytes SigStructure(ByteView protected_bytes, ByteView payload) {
  return cbor::Encoder().ArrayHead(4).Tstr("Signature1").Bstr(protected_bytes).Bstr({}).Bstr(payload).Take();
}

int64_t CoseAlg(SignatureAlg alg) {
  switch (alg) {
    case SignatureAlg::kEs256:
      return kCoseEs256;
    case SignatureAlg::kEs384:
      return kCoseEs384;
    case SignatureAlg::kEd25519:
    case SignatureAlg::kEd448:
      return kCoseEdDsa;
  }
  return 0;
}

}  // namespace

Result<Bytes> SignCose(ByteView payload, const Signer& signer) {
  std::vector<std::pair<Bytes, Bytes>> headers;
  headers.emplace_back(cbor::EncodeInt(kLabelAlg), cbor::EncodeInt(CoseAlg(signer.key.alg())));
  if (!signer.chain.empty()) {
    cbor::Encoder chain;
    if (signer.chain.size() == 1) {
      chain.Bstr(signer.chain[0].Der());
    } else {
      chain.ArrayHead(signer.chain.size());
      for (const Certificate& c : signer.chain) chain.Bstr(c.Der());
    }
    headers.emplace_back(cbor::EncodeInt(kLabelX5chain), chain.Take());
  }
  cbor::Encoder prot;
  VOUCH_RETURN_IF_ERROR(prot.Map(std::move(headers)));
  Bytes protected_bytes = prot.Take();
  VOUCH_ASSIGN_OR_RETURN(Bytes sig, signer.key.Sign(SigStructure(protected_bytes, payload)));
  cbor::Encoder out;
  out.Tag(kCoseSign1Tag).ArrayHead(4).Bstr(protected_bytes);
  VOUCH_RETURN_IF_ERROR(out.Map({}));
  out.Bstr(payload).Bstr(sig);
  return out.Take();
}

Result<Verified> VerifyCose(ByteView envelope, const std::vector<Certificate>& anchors, const TimePolicy& time) {
  VOUCH_ASSIGN_OR_RETURN(Parsed p, Parse(envelope));
  Bytes input = SigStructure(p.protected_bytes, p.payload);
  return internal::VerifySignedBy({EnvelopeKind::kCose, p.alg, input, p.signature, &p.x5chain, p.payload, true, "cose"},
                                  anchors, time);
}

Result<Unverified> OpenCoseUnverified(ByteView envelope) {
  VOUCH_ASSIGN_OR_RETURN(Parsed p, Parse(envelope));
  VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> certs, internal::ParseChain(p.x5chain));
  return Unverified{EnvelopeKind::kCose, std::move(p.payload), std::move(certs), 1};
}

Result<Bytes> CosePayloadUnverified(ByteView envelope) {
  VOUCH_ASSIGN_OR_RETURN(Parsed p, Parse(envelope));
  return std::move(p.payload);
}

}  // namespace vouch::formats
