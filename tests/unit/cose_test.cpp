// COSE vouchers (formats/cose.h) and the CBOR reader under them (formats/cbor/cbor.h): the real
// cBRSKI example verifies, ours round-trip in every signer algorithm, and hostile CBOR is refused
// with codes (formats/voucher.md, "COSE envelope").
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "formats/cbor/cbor.h"
#include "formats/cose.h"
#include "formats/datetime.h"
#include "formats/envelope.h"
#include "formats/voucher_cbor.h"
#include "formats/voucher_json.h"
#include "libvoucher/encoding.h"
#include "libvoucher/file.h"
#include "pki.h"
#include "testutil.h"

using namespace vouch;
using namespace vouch::formats;

namespace {

Bytes ExampleVoucher() {
  std::ifstream in(std::string(VOUCH_TEST_VECTORS) + "/constrained-voucher-example.vch.hex");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string hex;
  for (char c : ss.str()) {
    if (std::isxdigit(static_cast<unsigned char>(c))) hex += c;
  }
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

Certificate MasaCa() {
  auto pem = ReadFile(std::string(VOUCH_TEST_VECTORS) + "/constrained-voucher-masa-ca.pem", 1 << 16);
  return (*Certificate::ParseAll(*pem))[0];
}

Instant At(const char* text) { return *ParseDateTime(text); }

Code DecodeCode(const Bytes& b) {
  auto r = cbor::Decode(b, {1 << 20});
  return r.ok() ? Code::kOk : r.status().code();
}

Bytes H(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace

TEST_CASE("the cBRSKI example voucher verifies under its MASA CA and decodes", "[cose]") {
  Bytes ex = ExampleVoucher();
  REQUIRE(*Sniff(ex) == EnvelopeKind::kCose);
  // Its signer's validity starts 2022-12-09; any instant inside it will do.
  auto v = VerifyVoucher(ex, {MasaCa()}, TimePolicy::At(At("2023-06-01T00:00:00Z")));
  REQUIRE(v.ok());
  CHECK(v->envelope.kind == EnvelopeKind::kCose);
  CHECK(v->voucher.serial_number == "JADA123456789");
  CHECK(v->voucher.assertion == "proximity");
  CHECK(v->voucher.created_on_text == "2022-12-06T20:23:30.708Z");
  CHECK(v->voucher.domain_cert_revocation_checks == false);
  CHECK(v->voucher.nonce == "V+7Xhq1ASQc=");
  CHECK(Certificate::FromDer(v->voucher.pinned_domain_cert)->Subject().find("Custom-ER Global CA") != std::string::npos);
  CHECK(!v->voucher.enrollment);
  // Before its signer existed, and under another anchor: refused.
  CHECK(VerifyVoucher(ex, {MasaCa()}, TimePolicy::At(At("2022-12-07T00:00:00Z"))).status().code() == Code::kNotYetValid);
  test::Pki pki = test::Pki::Make();
  CHECK(VerifyVoucher(ex, {pki.mfr_root}, TimePolicy::None()).status().code() == Code::kUntrustedSigner);
  // One bit of the payload changed: with no x5chain the anchor's own key is the only
  // candidate, and it no longer verifies (as for a JWS without x5c).
  Bytes bad = ex;
  bad[200] ^= 1;  // inside the pinned domain certificate
  CHECK(VerifyVoucher(bad, {MasaCa()}, TimePolicy::None()).status().code() == Code::kUntrustedSigner);
}

TEST_CASE("COSE vouchers round-trip for every signer key, deterministic and verifiable", "[cose]") {
  test::Pki pki = test::Pki::Make();
  Voucher v = DraftVoucher(pki.Request(PrivateKey::Generate()->Public(), "SN-1"))->voucher;
  for (SignatureAlg alg : kSignatureAlgs) {
    SigningKey key = *SigningKey::Generate(alg);
    Signer signer{key, {*IssueCertificate(pki.mfr_root, pki.mfr_root_key, key, test::Spec("Signer")), pki.mfr_root}};
    auto e = SignVoucher(v, EnvelopeKind::kCose, signer);
    REQUIRE(e.ok());
    CHECK(e->bytes[0] == 0xd2);
    // The whole envelope reads back under the strictest rules: sorted keys, shortest heads.
    CHECK(cbor::Decode(e->bytes, {kMaxVoucherSize, true}).ok());
    auto back = VerifyVoucher(*e, {pki.mfr_root}, TimePolicy::Now());
    REQUIRE(back.ok());
    CHECK(*EncodeVoucher(back->voucher) == *EncodeVoucher(v));
    CHECK(back->envelope.signer == signer.chain[0]);
    // Signing the same voucher twice with a deterministic algorithm gives the same bytes.
    if (alg == SignatureAlg::kEd25519) CHECK(SignVoucher(v, EnvelopeKind::kCose, signer)->bytes == e->bytes);
  }
}

TEST_CASE("a voucher means the same in YANG-CBOR as in JSON, renewals and older forms included", "[cose]") {
  test::Pki pki = test::Pki::Make();
  Voucher v = DraftVoucher(pki.Request(PrivateKey::Generate()->Public(), "SN-1"))->voucher;
  v.expires_on = v.created_on.Plus(86400);
  v.domain_cert_revocation_checks = true;
  v.nonce = Base64Encode(AsBytes("nonce"));
  Bytes cbor = *EncodeVoucherCbor(v);
  CHECK(*EncodeVoucher(*DecodeVoucherCbor(cbor)) == *EncodeVoucher(v));
  // The older single contribution without Y, and a renewal with none.
  Voucher older = v;
  older.enrollment->contributions.resize(1);
  older.enrollment->contributions[0].key.reset();
  older.enrollment->contributions[0].proof.reset();
  CHECK(*EncodeVoucher(*DecodeVoucherCbor(*EncodeVoucherCbor(older))) == *EncodeVoucher(older));
  Voucher renewal = v;
  renewal.enrollment->contributions.clear();
  renewal.enrollment->certificate = pki.owner_ca.Der();
  CHECK(*EncodeVoucher(*DecodeVoucherCbor(*EncodeVoucherCbor(renewal))) == *EncodeVoucher(renewal));
  // A nonce CBOR cannot carry as bytes is refused when encoding, not silently changed.
  Voucher text_nonce = v;
  text_nonce.nonce = "not base64!";
  CHECK(EncodeVoucherCbor(text_nonce).status().code() == Code::kUsage);
}

TEST_CASE("YANG-CBOR readers accept names, refuse a leaf written twice, wrong types and unknown enum values", "[cose]") {
  test::Pki pki = test::Pki::Make();
  Voucher v = DraftVoucher(pki.Request(PrivateKey::Generate()->Public(), "SN-1"))->voucher;
  Bytes pin = pki.owner_ca.Der();
  auto voucher = [&](std::vector<std::pair<Bytes, Bytes>> leaves) {
    cbor::Encoder inner;
    REQUIRE(inner.Map(std::move(leaves)).ok());
    cbor::Encoder top;
    REQUIRE(top.Map({{cbor::EncodeInt(2451), inner.Take()}}).ok());
    return top.Take();
  };
  auto text = [](const std::string& s) { return cbor::EncodeText(s); };
  auto bytes = [](ByteView b) { return cbor::Encoder().Bstr(b).Take(); };
  std::vector<std::pair<Bytes, Bytes>> base = {{cbor::EncodeInt(1), cbor::EncodeInt(0)},
                                               {cbor::EncodeInt(2), text("2026-11-27T10:00:00Z")},
                                               {cbor::EncodeInt(8), bytes(pin)},
                                               {cbor::EncodeInt(11), text("SN-1")}};
  auto plain = DecodeVoucherCbor(voucher(base));
  REQUIRE(plain.ok());
  CHECK(plain->assertion == "verified");
  CHECK(plain->pinned_domain_cert == pin);

  // Member names instead of SIDs (RFC 9254 4.2.2), qualified or not.
  cbor::Encoder inner;
  REQUIRE(inner.Map({{text("assertion"), text("logged")}, {text("ietf-voucher:created-on"), text("2026-11-27T10:00:00Z")},
                     {text("pinned-domain-cert"), bytes(pin)}, {text("serial-number"), text("SN-2")}}).ok());
  cbor::Encoder top;
  REQUIRE(top.Map({{text("ietf-voucher:voucher"), inner.Take()}}).ok());
  auto named = DecodeVoucherCbor(top.Take());
  REQUIRE(named.ok());
  CHECK(named->serial_number == "SN-2");
  CHECK(named->assertion == "logged");

  auto with = [&](Bytes key, Bytes value) {
    auto leaves = base;
    leaves.emplace_back(std::move(key), std::move(value));
    return DecodeVoucherCbor(voucher(leaves)).status().code();
  };
  CHECK(with(text("serial-number"), text("SN-3")) == Code::kMalformed);      // SID 11 and its name
  CHECK(with(cbor::EncodeInt(4), cbor::EncodeInt(7)) == Code::kMalformed);   // expires-on not text
  CHECK(with(cbor::EncodeInt(9000), text("x")) == Code::kOk);                // unknown SID: ignored
  base[0].second = cbor::EncodeInt(4);                                       // assertion value 4
  CHECK(DecodeVoucherCbor(voucher(base)).status().code() == Code::kMalformed);
  base[0].second = cbor::EncodeInt(0);
  base[2].second = text(Base64Encode(pin));                                  // binary as text
  CHECK(DecodeVoucherCbor(voucher(base)).status().code() == Code::kMalformed);
  base[2].second = cbor::Encoder().Tag(24).Bstr(pin).Take();                 // a tag in the payload
  CHECK(DecodeVoucherCbor(voucher(base)).status().code() == Code::kMalformed);
}

TEST_CASE("hostile CBOR is refused with a code and never crashes", "[cbor]") {
  CHECK(DecodeCode(H("a10126")) == Code::kOk);
  CHECK(DecodeCode(H("9f01ff")) == Code::kMalformed);            // indefinite array
  CHECK(DecodeCode(H("5f4101ff")) == Code::kMalformed);          // indefinite byte string
  CHECK(DecodeCode(H("bf0101ff")) == Code::kMalformed);          // indefinite map
  CHECK(DecodeCode(H("a201010102")) == Code::kMalformed);        // one key twice
  CHECK(DecodeCode(H("0101")) == Code::kMalformed);              // trailing bytes
  CHECK(DecodeCode(H("1800")) == Code::kMalformed);              // 0 in two bytes: not shortest
  CHECK(DecodeCode(H("190017")) == Code::kMalformed);            // 23 in three bytes
  CHECK(DecodeCode(H("5900020102")) == Code::kMalformed);        // length 2 in three bytes
  CHECK(DecodeCode(H("5b7fffffffffffffff00")) == Code::kMalformed);  // huge declared length
  CHECK(DecodeCode(H("9b7fffffffffffffff")) == Code::kMalformed);     // huge declared count
  CHECK(DecodeCode(H("bb7fffffffffffffff")) == Code::kMalformed);     // huge declared map
  CHECK(DecodeCode(H("fa3f800000")) == Code::kMalformed);        // a float
  CHECK(DecodeCode(H("f7")) == Code::kMalformed);                // undefined
  CHECK(DecodeCode(H("f0")) == Code::kMalformed);                // unassigned simple value
  CHECK(DecodeCode(H("1c")) == Code::kMalformed);                // reserved additional info
  CHECK(DecodeCode(H("62c328")) == Code::kMalformed);            // text that is not UTF-8
  CHECK(DecodeCode(H("63eda080")) == Code::kMalformed);          // a UTF-16 surrogate
  CHECK(DecodeCode(H("")) == Code::kMalformed);
  CHECK(DecodeCode(H("d2")) == Code::kMalformed);                // a tag of nothing
  CHECK(DecodeCode(H("d28443a10126a040f6")) == Code::kOk);        // a tag 18 the reader must see
  // Nesting 10,000 deep, arrays and tags: refused at the depth cap, not by the stack.
  CHECK(DecodeCode(Bytes(10000, 0x81)) == Code::kMalformed);
  CHECK(DecodeCode(Bytes(10000, 0xd2)) == Code::kMalformed);
  // More items than the cap.
  Bytes many = H("992000");
  many.resize(many.size() + 8192, 0x00);
  CHECK(DecodeCode(many) == Code::kTooLarge);
  // Over the byte cap.
  CHECK(cbor::Decode(Bytes(100, 0), {50}).status().code() == Code::kTooLarge);
  // Key order only where asked.
  CHECK(cbor::Decode(H("a202010101"), {64, false}).ok());
  CHECK(cbor::Decode(H("a202010101"), {64, true}).status().code() == Code::kMalformed);
}

TEST_CASE("hostile COSE_Sign1 structures are refused with codes", "[cose]") {
  test::Pki pki = test::Pki::Make();
  Voucher v = DraftVoucher(pki.Request(PrivateKey::Generate()->Public(), "SN-1"))->voucher;
  Bytes payload = *EncodeVoucherCbor(v);
  Signer s = pki.Manufacturer();
  auto sign1 = [&](const Bytes& prot, const Bytes& unprot, bool sign_right = true) {
    Bytes sig_structure = cbor::Encoder().ArrayHead(4).Tstr("Signature1").Bstr(prot).Bstr({}).Bstr(payload).Take();
    Bytes sig = *s.key.Sign(sig_structure);
    if (!sign_right) sig[0] ^= 1;
    return cbor::Encoder().Tag(18).ArrayHead(4).Bstr(prot).Raw(unprot).Bstr(payload).Bstr(sig).Take();
  };
  auto chain = [&] { return cbor::Encoder().ArrayHead(2).Bstr(s.chain[0].Der()).Bstr(s.chain[1].Der()).Take(); };
  auto map = [](std::vector<std::pair<Bytes, Bytes>> m) {
    cbor::Encoder e;
    REQUIRE(e.Map(std::move(m)).ok());
    return e.Take();
  };
  auto code = [&](const Bytes& env) {
    auto r = VerifyCose(env, {pki.mfr_root}, TimePolicy::Now());
    return r.ok() ? Code::kOk : r.status().code();
  };
  Bytes alg = cbor::EncodeInt(-7);
  Bytes good_prot = map({{cbor::EncodeInt(1), alg}, {cbor::EncodeInt(33), chain()}});
  CHECK(code(sign1(good_prot, map({}))) == Code::kOk);
  // Nothing unprotected: not x5chain (RFC 9360 would allow it), not alg, not a private label,
  // each of which would re-spell the signed voucher into a new id.
  CHECK(code(sign1(map({{cbor::EncodeInt(1), alg}}), map({{cbor::EncodeInt(33), chain()}}))) == Code::kMalformed);
  CHECK(code(sign1(map({{cbor::EncodeInt(33), chain()}}), map({{cbor::EncodeInt(1), alg}}))) == Code::kMalformed);
  CHECK(code(sign1(good_prot, map({{cbor::EncodeText("x"), cbor::EncodeInt(1)}}))) == Code::kMalformed);
  // crit, an algorithm none of the three, a bad signature.
  CHECK(code(sign1(map({{cbor::EncodeInt(1), alg}, {cbor::EncodeInt(2), cbor::Encoder().ArrayHead(1).Int(99).Take()}}), map({}))) ==
        Code::kUnsupported);
  CHECK(code(sign1(map({{cbor::EncodeInt(1), cbor::EncodeInt(-257)}}), map({}))) == Code::kUnsupported);  // RS256
  CHECK(code(sign1(map({{cbor::EncodeInt(1), cbor::EncodeInt(-8)}, {cbor::EncodeInt(33), chain()}}), map({}))) ==
        Code::kBadSignature);  // EdDSA claimed by a P-256 key
  CHECK(code(sign1(good_prot, map({}), false)) == Code::kBadSignature);
  // A detached payload, another tag, a wrong arity, trailing bytes.
  Bytes detached = cbor::Encoder().Tag(18).ArrayHead(4).Bstr(good_prot).Raw(map({})).Raw(H("f6")).Bstr(H("00")).Take();
  CHECK(code(detached) == Code::kMalformed);
  Bytes env = sign1(good_prot, map({}));
  Bytes other_tag = env;
  other_tag[0] = 0xd1;  // COSE_Mac0
  CHECK(code(other_tag) == Code::kMalformed);
  Bytes trailing = env;
  trailing.push_back(0);
  CHECK(code(trailing) == Code::kMalformed);
  Bytes three = env;
  three[1] = 0x83;
  CHECK(code(three) == Code::kMalformed);
  // Untagged: the same voucher under another id, refused.
  CHECK(code(Bytes(env.begin() + 1, env.end())) == Code::kMalformed);
}
