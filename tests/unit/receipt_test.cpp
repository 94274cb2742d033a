// Enrollment receipts (formats/receipt.h): what a device signs with z and x, and every way a
// receipt is refused. Forgeries are assembled here by hand (RFC 7515 signing input, our key
// signatures), so a refusal is the verifier's, not the signer's.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "formats/receipt.h"
#include "libvoucher/cogen.h"
#include "libvoucher/encoding.h"
#include "libvoucher/key_signature.h"
#include "pki.h"

namespace vouch::formats {
namespace {

using nlohmann::ordered_json;

struct Device {
  PrivateKey x, z;
  Receipt receipt;
};

Device MakeDevice(Group g, bool with_certificate = true) {
  static const test::Pki pki = test::Pki::Make();
  PrivateKey x = *PrivateKey::Generate(g);
  PrivateKey y = *PrivateKey::Generate(g);
  PrivateKey z = *cogen::CombinePrivate(x, y);
  Receipt r;
  r.device_key = x.Public().Fingerprint();
  r.device_public_key = x.Public();
  r.serial_number = "SN-0042";
  r.voucher_id = ReceiptId(AsBytes("a voucher"));  // any canonical 260-bit UDF
  r.combined_key = z.Public();
  r.generation = 3;
  r.time = Instant::FromSeconds(1796000000);
  if (with_certificate) {
    r.certificate = *IssueCertificate(pki.owner_ca, pki.owner_key, z.Public(), test::Spec("device SN-0042"));
  }
  return {x, z, r};
}

std::string AsText(const Bytes& b) { return std::string(b.begin(), b.end()); }

ordered_json PayloadOf(const Bytes& receipt) {
  auto doc = ordered_json::parse(receipt.begin(), receipt.end());
  Bytes payload = *Base64UrlDecode(doc["payload"].get<std::string>());
  return ordered_json::parse(payload.begin(), payload.end());
}

std::string Header(std::string_view alg, std::string_view kid, std::string_view typ = kReceiptTyp) {
  return ordered_json{{"alg", alg}, {"typ", typ}, {"kid", kid}}.dump();
}
std::string Header(const PrivateKey& key) { return Header(KeyJwsAlg(key.group()), key.Public().Fingerprint()); }

struct By {
  const PrivateKey* key;
  std::string header;
};

// A JWS in the receipt's serialization over `payload_text`, signed as `signers` say.
Bytes Assemble(const std::string& payload_text, const std::vector<By>& signers) {
  const std::string payload_b64 = Base64UrlEncode(AsBytes(payload_text));
  ordered_json sigs = ordered_json::array();
  for (const By& b : signers) {
    const std::string header_b64 = Base64UrlEncode(AsBytes(b.header));
    Bytes sig = *SignWithKey(*b.key, AsBytes(header_b64 + "." + payload_b64));
    sigs.push_back({{"protected", header_b64}, {"signature", Base64UrlEncode(sig)}});
  }
  return ToBytes(ordered_json{{"payload", payload_b64}, {"signatures", sigs}}.dump());
}

// The payload `p` properly signed by z then x.
Bytes SignedPayload(const Device& d, const std::string& p) { return Assemble(p, {{&d.z, Header(d.z)}, {&d.x, Header(d.x)}}); }

Code CodeOf(const Bytes& bytes) {
  auto v = VerifyReceipt(bytes);
  return v.ok() ? Code::kOk : v.status().code();
}

}  // namespace

TEST_CASE("A receipt signed by z and x verifies and reads back, in every suite", "[receipt]") {
  for (Group g : {Group::kP256, Group::kEd25519, Group::kEd448}) {
    CAPTURE(GroupName(g));
    Device d = MakeDevice(g);
    Bytes bytes = *SignReceipt(d.receipt, d.z, d.x);
    REQUIRE(bytes.size() <= kMaxReceiptSize);
    auto v = VerifyReceipt(bytes);
    REQUIRE(v.ok());
    CHECK(v->id == ReceiptId(bytes));
    const Receipt& r = v->receipt;
    CHECK(r.device_key == d.receipt.device_key);
    CHECK(r.device_public_key == d.x.Public());
    CHECK(r.combined_key == d.z.Public());
    CHECK(r.serial_number == "SN-0042");
    CHECK(r.voucher_id == d.receipt.voucher_id);
    CHECK(r.generation == 3);
    CHECK(r.time == d.receipt.time);
    REQUIRE(r.certificate);
    CHECK(*r.certificate == *d.receipt.certificate);
    // The header names each key by its UDF, in the suite's algorithm.
    auto doc = ordered_json::parse(bytes.begin(), bytes.end());
    Bytes h0 = *Base64UrlDecode(doc["signatures"][0]["protected"].get<std::string>());
    CHECK(AsText(h0) == Header(d.z));
  }
}

TEST_CASE("A receipt without a certificate verifies", "[receipt]") {
  Device d = MakeDevice(Group::kEd25519, /*with_certificate=*/false);
  auto v = VerifyReceipt(*SignReceipt(d.receipt, d.z, d.x));
  REQUIRE(v.ok());
  CHECK_FALSE(v->receipt.certificate);
}

TEST_CASE("A receipt whose payload was changed after signing is a bad signature", "[receipt]") {
  Device d = MakeDevice(Group::kP256);
  auto doc = ordered_json::parse(*SignReceipt(d.receipt, d.z, d.x));
  ordered_json p = PayloadOf(ToBytes(doc.dump()));
  p["vouch-receipt"]["generation"] = 4;  // replayed as a later generation
  doc["payload"] = Base64UrlEncode(AsBytes(p.dump()));
  CHECK(CodeOf(ToBytes(doc.dump())) == Code::kBadSignature);
}

TEST_CASE("A receipt with one flipped signature bit is a bad signature", "[receipt]") {
  for (Group g : {Group::kP256, Group::kEd448}) {
    Device d = MakeDevice(g);
    for (int which : {0, 1}) {
      auto doc = ordered_json::parse(*SignReceipt(d.receipt, d.z, d.x));
      Bytes sig = *Base64UrlDecode(doc["signatures"][which]["signature"].get<std::string>());
      sig[5] ^= 0x01;
      doc["signatures"][which]["signature"] = Base64UrlEncode(sig);
      CHECK(CodeOf(ToBytes(doc.dump())) == Code::kBadSignature);
    }
  }
}

TEST_CASE("A receipt signed by x only, by z only, or twice by one key is refused", "[receipt]") {
  Device d = MakeDevice(Group::kEd25519);
  const std::string p = PayloadOf(*SignReceipt(d.receipt, d.z, d.x)).dump();
  CHECK(CodeOf(Assemble(p, {{&d.x, Header(d.x)}})) == Code::kBadSignature);
  CHECK(CodeOf(Assemble(p, {{&d.z, Header(d.z)}})) == Code::kBadSignature);
  CHECK(CodeOf(Assemble(p, {{&d.z, Header(d.z)}, {&d.z, Header(d.z)}})) == Code::kBadSignature);
  CHECK(CodeOf(Assemble(p, {{&d.x, Header(d.x)}, {&d.x, Header(d.x)}})) == Code::kBadSignature);
  // z's signature under x's name: the kid is right, the signature is not x's.
  CHECK(CodeOf(Assemble(p, {{&d.z, Header(d.z)}, {&d.z, Header(d.x)}})) == Code::kBadSignature);
  CHECK(CodeOf(Assemble(p, {})) == Code::kBadSignature);
  CHECK(CodeOf(SignedPayload(d, p)) == Code::kOk);  // the same payload, signed as it should be
}

TEST_CASE("A receipt whose signatures are in the wrong order or three is refused", "[receipt]") {
  Device d = MakeDevice(Group::kP256);
  const std::string p = PayloadOf(*SignReceipt(d.receipt, d.z, d.x)).dump();
  CHECK(CodeOf(Assemble(p, {{&d.x, Header(d.x)}, {&d.z, Header(d.z)}})) == Code::kBadSignature);
  CHECK(CodeOf(Assemble(p, {{&d.z, Header(d.z)}, {&d.x, Header(d.x)}, {&d.x, Header(d.x)}})) == Code::kBadSignature);
}

TEST_CASE("A receipt whose kid names another key is refused", "[receipt]") {
  Device d = MakeDevice(Group::kP256);
  const std::string p = PayloadOf(*SignReceipt(d.receipt, d.z, d.x)).dump();
  PrivateKey other = *PrivateKey::Generate();
  CHECK(CodeOf(Assemble(p, {{&d.z, Header("ES256", other.Public().Fingerprint())}, {&d.x, Header(d.x)}})) ==
        Code::kBadSignature);
  CHECK(CodeOf(Assemble(p, {{&d.z, Header(d.z)}, {&d.x, Header("ES256", other.Public().Fingerprint())}})) ==
        Code::kBadSignature);
}

TEST_CASE("A receipt with another typ or an extra header member is malformed", "[receipt]") {
  Device d = MakeDevice(Group::kP256);
  const std::string p = PayloadOf(*SignReceipt(d.receipt, d.z, d.x)).dump();
  const std::string kid = d.z.Public().Fingerprint();
  CHECK(CodeOf(Assemble(p, {{&d.z, Header("ES256", kid, "voucher-jws+json")}, {&d.x, Header(d.x)}})) == Code::kMalformed);
  const std::string crit = ordered_json{{"alg", "ES256"}, {"typ", kReceiptTyp}, {"kid", kid}, {"crit", {"exp"}}}.dump();
  CHECK(CodeOf(Assemble(p, {{&d.z, crit}, {&d.x, Header(d.x)}})) == Code::kMalformed);
}

TEST_CASE("A receipt whose alg is not its key's is refused", "[receipt]") {
  Device d = MakeDevice(Group::kEd25519);
  const std::string p = PayloadOf(*SignReceipt(d.receipt, d.z, d.x)).dump();
  // ES256 claimed for an Ed25519 key (and signed, since the algorithm follows the key): a lie.
  CHECK(CodeOf(Assemble(p, {{&d.z, Header("ES256", d.z.Public().Fingerprint())}, {&d.x, Header(d.x)}})) ==
        Code::kBadSignature);
  CHECK(CodeOf(Assemble(p, {{&d.z, Header(d.z)}, {&d.x, Header("none", d.x.Public().Fingerprint())}})) ==
        Code::kUnsupported);
  Device p256 = MakeDevice(Group::kP256);
  const std::string q = PayloadOf(*SignReceipt(p256.receipt, p256.z, p256.x)).dump();
  CHECK(CodeOf(Assemble(q, {{&p256.z, Header("EdDSA", p256.z.Public().Fingerprint())}, {&p256.x, Header(p256.x)}})) ==
        Code::kBadSignature);
}

TEST_CASE("A receipt whose device-key is not the UDF of its device-public-key is malformed", "[receipt]") {
  Device d = MakeDevice(Group::kP256);
  ordered_json p = PayloadOf(*SignReceipt(d.receipt, d.z, d.x));
  p["vouch-receipt"]["device-key"] = PrivateKey::Generate()->Public().Fingerprint();
  CHECK(CodeOf(SignedPayload(d, p.dump())) == Code::kMalformed);
  Receipt r = d.receipt;
  r.device_key = p["vouch-receipt"]["device-key"];
  CHECK(SignReceipt(r, d.z, d.x).status().code() == Code::kMalformed);  // nor does a device sign one
}

TEST_CASE("A receipt whose X and Z are in different groups is refused", "[receipt]") {
  Device d = MakeDevice(Group::kP256);
  Device e = MakeDevice(Group::kEd25519);
  ordered_json p = PayloadOf(*SignReceipt(d.receipt, d.z, d.x));
  p["vouch-receipt"]["combined-key"] = Base64Encode(e.z.Public().SpkiDer());
  p["vouch-receipt"].erase("certificate");
  CHECK(CodeOf(Assemble(p.dump(), {{&e.z, Header(e.z)}, {&d.x, Header(d.x)}})) == Code::kMalformed);
  Receipt r = d.receipt;
  r.combined_key = e.z.Public();
  CHECK(SignReceipt(r, e.z, d.x).status().code() == Code::kInvalidKey);
}

TEST_CASE("A receipt signed with keys that are not its X and Z is not made", "[receipt]") {
  Device d = MakeDevice(Group::kEd448);
  Device e = MakeDevice(Group::kEd448);
  CHECK(SignReceipt(d.receipt, e.z, d.x).status().code() == Code::kInvalidKey);
  CHECK(SignReceipt(d.receipt, d.z, e.x).status().code() == Code::kInvalidKey);
  CHECK(SignReceipt(d.receipt, d.x, d.z).status().code() == Code::kInvalidKey);  // swapped
}

TEST_CASE("A receipt whose certificate is not for Z is a certificate mismatch", "[receipt]") {
  Device d = MakeDevice(Group::kP256);
  Device e = MakeDevice(Group::kP256);
  ordered_json p = PayloadOf(*SignReceipt(d.receipt, d.z, d.x));
  p["vouch-receipt"]["certificate"] = Base64Encode(e.receipt.certificate->Der());
  CHECK(CodeOf(SignedPayload(d, p.dump())) == Code::kCertificateMismatch);
  Receipt r = d.receipt;
  r.certificate = e.receipt.certificate;
  CHECK(SignReceipt(r, d.z, d.x).status().code() == Code::kCertificateMismatch);
}

TEST_CASE("A receipt with a member twice, a byte-order mark or an unknown member is malformed", "[receipt]") {
  Device d = MakeDevice(Group::kEd25519);
  Bytes good = *SignReceipt(d.receipt, d.z, d.x);
  std::string p = PayloadOf(good).dump();
  const std::string twice = p.substr(0, p.size() - 2) + ",\"generation\":9}}";
  CHECK(CodeOf(SignedPayload(d, twice)) == Code::kMalformed);
  std::string envelope = AsText(good);
  std::string dup_envelope = envelope.substr(0, envelope.size() - 1) + ",\"payload\":\"e30\"}";
  CHECK(CodeOf(ToBytes(dup_envelope)) == Code::kMalformed);
  CHECK(CodeOf(ToBytes("\xEF\xBB\xBF" + envelope)) == Code::kMalformed);
  ordered_json extra = PayloadOf(good);
  extra["vouch-receipt"]["owner"] = "someone";
  CHECK(CodeOf(SignedPayload(d, extra.dump())) == Code::kMalformed);
}

TEST_CASE("A receipt over the size cap is too large before it is parsed", "[receipt]") {
  Device d = MakeDevice(Group::kP256);
  std::string text = AsText(*SignReceipt(d.receipt, d.z, d.x));
  text.append(kMaxReceiptSize + 1 - text.size(), ' ');  // still valid JSON, one byte too many
  REQUIRE(text.size() == kMaxReceiptSize + 1);
  CHECK(CodeOf(ToBytes(text)) == Code::kTooLarge);
  // A byte less is read (then refused for its spaces: a receipt has one spelling).
  text.pop_back();
  CHECK(CodeOf(ToBytes(text)) == Code::kMalformed);
}

TEST_CASE("A receipt with a generation out of range or not an integer is malformed", "[receipt]") {
  Device d = MakeDevice(Group::kP256);
  ordered_json p = PayloadOf(*SignReceipt(d.receipt, d.z, d.x));
  for (ordered_json bad : {ordered_json(0), ordered_json(-1), ordered_json(1000000000), ordered_json(2.5), ordered_json("3")}) {
    CAPTURE(bad.dump());
    p["vouch-receipt"]["generation"] = bad;
    CHECK(CodeOf(SignedPayload(d, p.dump())) == Code::kMalformed);
  }
  p["vouch-receipt"]["generation"] = 999999999;
  CHECK(CodeOf(SignedPayload(d, p.dump())) == Code::kOk);
  Receipt r = d.receipt;
  r.generation = 0;
  CHECK(SignReceipt(r, d.z, d.x).status().code() == Code::kMalformed);
}

TEST_CASE("A receipt with a bad serial number, voucher id or time is malformed", "[receipt]") {
  Device d = MakeDevice(Group::kP256);
  ordered_json good = PayloadOf(*SignReceipt(d.receipt, d.z, d.x));
  const std::string id = d.receipt.voucher_id;
  std::string lower = id;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto [member, value] : std::vector<std::pair<std::string, ordered_json>>{
           {"serial-number", "two\nlines"}, {"serial-number", ""}, {"serial-number", std::string(257, 'S')},
           {"voucher-id", lower}, {"voucher-id", id.substr(0, 34)}, {"voucher-id", d.receipt.device_key},
           {"time", "yesterday"}, {"time", 1796000000}}) {
    CAPTURE(member, value.dump());
    ordered_json p = good;
    p["vouch-receipt"][member] = value;
    CHECK(CodeOf(SignedPayload(d, p.dump())) == Code::kMalformed);
  }
  ordered_json p = good;
  p["vouch-receipt"]["serial-number"] = std::string(256, 'S');
  CHECK(CodeOf(SignedPayload(d, p.dump())) == Code::kOk);
  // A time the writer would spell otherwise (an offset, not Z) is another spelling of the
  // receipt: refused, even though it parses and both signatures hold.
  p["vouch-receipt"]["time"] = "2026-12-01T10:00:00.5+02:00";
  CHECK(CodeOf(SignedPayload(d, p.dump())) == Code::kMalformed);
}

TEST_CASE("Receipt paths are built from canonical UDFs and parsed back, nothing else", "[receipt]") {
  const std::string device = PrivateKey::Generate()->Public().Fingerprint();
  const std::string id = ReceiptId(AsBytes("receipt"));
  auto path = ReceiptPath(device, id);
  REQUIRE(path.ok());
  const std::string c = device.substr(1, 2) + "/" + device.substr(3, 1) + device.substr(5, 1);
  CHECK(*path == c + "/" + device + "/" + id + ".vrj");
  auto parts = ParseReceiptPath(*path);
  REQUIRE(parts.ok());
  CHECK(parts->device_udf == device);
  CHECK(parts->receipt_id == id);
  std::string lower = device;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  CHECK(ReceiptPath(lower, id).status().code() == Code::kMalformed);
  CHECK(ReceiptPath(device, "../../etc").status().code() == Code::kMalformed);
  CHECK(ReceiptPath(device, device).status().code() == Code::kMalformed);  // 140 bits, not 260
  for (const std::string& bad : {"../" + *path, "/" + *path, *path + "/x", c + "/" + device + "/" + id + ".vjj",
                                 "ZZ/ZZ/" + device + "/" + id + ".vrj", c + "/" + device + "/..vrj",
                                 std::string(kReceiptRoot) + "/" + *path}) {
    CAPTURE(bad);
    CHECK(ParseReceiptPath(bad).status().code() == Code::kMalformed);
  }
}

}  // namespace vouch::formats

namespace vouch::formats {
namespace {

// n - s for a P-256 signature r || s, big-endian bytes: the other spelling of the same signature.
Bytes HighS(Bytes sig) {
  static const uint8_t n[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = n[i] - sig[32 + i] - borrow;
    borrow = d < 0;
    sig[32 + i] = static_cast<uint8_t>(d + (borrow ? 256 : 0));
  }
  return sig;
}

}  // namespace

TEST_CASE("A receipt has one spelling: re-spelled copies of a genuine one are refused", "[receipt]") {
  for (Group g : {Group::kP256, Group::kEd25519}) {
    CAPTURE(GroupName(g));
    Device d = MakeDevice(g);
    Bytes good = *SignReceipt(d.receipt, d.z, d.x);
    REQUIRE(CodeOf(good) == Code::kOk);
    const std::string t = AsText(good);
    CHECK(CodeOf(ToBytes(t + "\n")) == Code::kMalformed);
    CHECK(CodeOf(ToBytes(" " + t)) == Code::kMalformed);
    auto doc = ordered_json::parse(t);
    CHECK(CodeOf(ToBytes(ordered_json{{"signatures", doc["signatures"]}, {"payload", doc["payload"]}}.dump())) == Code::kMalformed);
    CHECK(CodeOf(ToBytes(doc.dump(1))) == Code::kMalformed);
    // One character of the payload string written as a JSON escape: the same string to a parser.
    std::string escaped = t;
    size_t at = escaped.find("\"payload\":\"") + 11;
    char u[8];
    std::snprintf(u, sizeof u, "\\u%04x", static_cast<unsigned>(escaped[at]));
    escaped.replace(at, 1, u);
    CHECK(CodeOf(ToBytes(escaped)) == Code::kMalformed);
  }
  // (r, n - s): the same ES256 signature spelled with the high s verifies under ECDSA, and is
  // refused here; the writer always writes the low one.
  Device d = MakeDevice(Group::kP256);
  auto doc = ordered_json::parse(AsText(*SignReceipt(d.receipt, d.z, d.x)));
  for (int i = 0; i < 2; ++i) {
    ordered_json flipped = doc;
    Bytes sig = *Base64UrlDecode(flipped["signatures"][i]["signature"].get<std::string>());
    CHECK(HasLowS(Group::kP256, sig));
    flipped["signatures"][i]["signature"] = Base64UrlEncode(HighS(sig));
    const std::string input = flipped["signatures"][i]["protected"].get<std::string>() + "." + flipped["payload"].get<std::string>();
    CHECK(VerifyWithKey(i == 0 ? d.z.Public() : d.x.Public(), AsBytes(input), HighS(sig)).ok());
    CHECK(CodeOf(ToBytes(flipped.dump())) == Code::kBadSignature);
  }
  for (int i = 0; i < 64; ++i) CHECK(HasLowS(Group::kP256, *SignWithKey(d.x, AsBytes(std::to_string(i)))));
}

}  // namespace vouch::formats
