// Device URIs (formats/device_uri.md): round trips in every suite, each reader rule's refusal
// with its code, hostile lengths; and the QR drawings of formats/qr/.
#include <catch2/catch.hpp>

#include <string>

#include "formats/device_uri.h"
#include "formats/devices_csv.h"
#include "formats/qr/qr_code.h"
#include "formats/qr/qr_image.h"
#include "libvoucher/encoding.h"

namespace vouch::formats {
namespace {

PublicKey NewKey(Group g) {
  auto k = PrivateKey::Generate(g);
  REQUIRE(k.ok());
  return k->Public();
}

std::string Uri(const PublicKey& key, const std::string& serial) {
  auto u = EncodeDeviceUri(key, serial);
  REQUIRE(u.ok());
  return *u;
}

Code CodeOf(std::string_view text) { return DecodeDeviceUri(text).status().code(); }

// The URI with one field's text replaced: "K:old;" -> "K:new;".
std::string WithField(const std::string& uri, char tag, const std::string& value) {
  size_t start = uri.find(std::string(";") + tag + ":");
  REQUIRE(start != std::string::npos);
  size_t end = uri.find(';', start + 1);
  return uri.substr(0, start + 3) + value + uri.substr(end);
}

}  // namespace

TEST_CASE("a device URI round-trips the key and serial in every suite", "[device-uri]") {
  for (Group g : {Group::kP256, Group::kEd25519, Group::kEd448}) {
    INFO(GroupName(g));
    PublicKey key = NewKey(g);
    std::string uri = Uri(key, "ACME-1001");
    CHECK(uri == "VOUCH:V:1;K:" + Base64Encode(key.SpkiDer()) + ";F:" + key.Fingerprint() + ";S:ACME-1001;;");
    auto d = DecodeDeviceUri(uri);
    REQUIRE(d.ok());
    CHECK(d->key == key);
    CHECK(d->key.group() == g);
    CHECK(d->serial == "ACME-1001");
  }
}

TEST_CASE("a serial with delimiters, spaces and non-ASCII is percent-encoded in one spelling", "[device-uri]") {
  PublicKey key = NewKey(Group::kEd25519);
  std::string serial = "SN 1;a:b,c%d/e+f\xc3\xa9\"";  // ... "é" and a double quote
  std::string uri = Uri(key, serial);
  CHECK(uri.find(";S:SN%201%3Ba%3Ab%2Cc%25d%2Fe%2Bf%C3%A9%22;;") != std::string::npos);
  CHECK(uri.find(',') == std::string::npos);  // one field of a devices file
  auto d = DecodeDeviceUri(uri);
  REQUIRE(d.ok());
  CHECK(d->serial == serial);
  // Any other spelling of the same serial is refused.
  CHECK(CodeOf(WithField(uri, 'S', "SN%201%3ba")) == Code::kMalformed);  // lower-case hex
  CHECK(CodeOf(WithField(uri, 'S', "%41BC")) == Code::kMalformed);       // "A" encoded
  CHECK(CodeOf(WithField(uri, 'S', "A+B")) == Code::kMalformed);         // raw "+"
  CHECK(CodeOf(WithField(uri, 'S', "AB%4")) == Code::kMalformed);        // cut short
  CHECK(CodeOf(WithField(uri, 'S', "AB%")) == Code::kMalformed);
}

TEST_CASE("the scheme is read in any case, the tags only in upper case", "[device-uri]") {
  PublicKey key = NewKey(Group::kP256);
  std::string uri = Uri(key, "SN1");
  CHECK(DecodeDeviceUri("vouch" + uri.substr(5)).ok());
  CHECK(DecodeDeviceUri("Vouch" + uri.substr(5)).ok());
  CHECK(LooksLikeDeviceUri("vOuCh:anything"));
  CHECK_FALSE(LooksLikeDeviceUri("VOUCHER:V:1;;"));
  CHECK_FALSE(LooksLikeDeviceUri("DPP:V:2;K:AAAA;;"));
  std::string lower_tag = uri;
  lower_tag.replace(lower_tag.find(";S:"), 3, ";s:");
  CHECK(CodeOf(lower_tag) == Code::kMalformed);
}

TEST_CASE("fields may come in any order after V; unknown ones are skipped", "[device-uri]") {
  PublicKey key = NewKey(Group::kEd448);
  std::string k = Base64Encode(key.SpkiDer()), f = key.Fingerprint();
  auto d = DecodeDeviceUri("VOUCH:V:1;S:SN-9;X:future%20field;F:" + f + ";K:" + k + ";;");
  REQUIRE(d.ok());
  CHECK(d->key == key);
  CHECK(d->serial == "SN-9");
  // V first, always.
  CHECK(CodeOf("VOUCH:K:" + k + ";V:1;F:" + f + ";S:SN;;") == Code::kMalformed);
}

TEST_CASE("every grammar rule's refusal is malformed", "[device-uri]") {
  PublicKey key = NewKey(Group::kP256);
  std::string k = Base64Encode(key.SpkiDer()), f = key.Fingerprint();
  std::string good = "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN1;;";
  REQUIRE(DecodeDeviceUri(good).ok());
  const std::string bad[] = {
      "",
      "VOUCH:",
      "VOUCH:;;",
      "DPP:V:1;K:" + k + ";F:" + f + ";S:SN1;;",                  // another scheme
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN1;",                 // not ended by ";;"
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN1;;\n",              // anything after it
      " " + good,                                                 // or before
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN1;;;",               // an empty field
      "VOUCH:V:1;;K:" + k + ";F:" + f + ";S:SN1;;",
      "VOUCH:V:1;K:" + k + ";F:" + f + ";;",                      // no S
      "VOUCH:V:1;K:" + k + ";S:SN1;;",                            // no F
      "VOUCH:V:1;F:" + f + ";S:SN1;;",                            // no K
      "VOUCH:K:" + k + ";F:" + f + ";S:SN1;;",                    // no V
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN1;S:SN2;;",          // a field twice
      "VOUCH:V:1;K:" + k + ";K:" + k + ";F:" + f + ";S:SN1;;",
      "VOUCH:V:1;V:1;K:" + k + ";F:" + f + ";S:SN1;;",
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:;;",                   // an empty value
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN1;XY:z;;",           // a tag of two letters
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN1;7:z;;",
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN 1;;",               // a raw space
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN,1;;",               // a raw comma
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN\xc3\xa9;;",         // raw non-ASCII
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN:1;;",               // a raw ':'
      "VOUCH:V:x;K:" + k + ";F:" + f + ";S:SN1;;",                // a version not a number
      "VOUCH:V:1;K:" + k.substr(0, k.size() - 1) + ";F:" + f + ";S:SN1;;",  // base64 cut
      "VOUCH:V:1;K:" + std::string(k).replace(0, 4, "A%41") + ";F:" + f + ";S:SN1;;",
      "VOUCH:V:1;K:" + k + ";F:" + f.substr(0, 29) + ";S:SN1;;",  // a shorter UDF
      "VOUCH:V:1;K:" + k + ";F:" + f.substr(0, 4) + f.substr(5) + ";S:SN1;;",  // no dash
      "VOUCH:V:1;K:" + k + ";F:" + std::string(f).replace(0, 4, "mb5s") + ";S:SN1;;",  // lower case
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN%0A1;;",             // a newline in the serial
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN%FF;;",              // not UTF-8
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:SN%C3;;",              // UTF-8 cut short
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:%C0%80;;",             // overlong NUL
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:%ED%A0%80;;",          // a surrogate
      "VOUCH:V:1;K:" + k + ";F:" + f + ";S:%C2%85;;",             // C1 control (NEL)
  };
  for (const std::string& text : bad) {
    INFO(text);
    CHECK(CodeOf(text) == Code::kMalformed);
  }
}

TEST_CASE("a key in a non-canonical SPKI spelling is malformed", "[device-uri]") {
  // The same P-256 point in a compressed-point SPKI: PublicKey reads it, but F is computed
  // over the canonical (uncompressed) SPKI and the URI has one spelling.
  auto key = PublicKey::Parse(AsBytes(std::string_view("MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgACKeWXEtY2RWd7cNVcqEpTXC0+fXapeyHt9dpEnx+mViE=")));
  REQUIRE(key.ok());
  std::string uri = "VOUCH:V:1;K:MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgACKeWXEtY2RWd7cNVcqEpTXC0+fXapeyHt9dpEnx+mViE=;F:" +
                    key->Fingerprint() + ";S:SN1;;";
  CHECK(CodeOf(uri) == Code::kMalformed);
}

TEST_CASE("a key PublicKey refuses is refused with PublicKey's code", "[device-uri]") {
  PublicKey key = NewKey(Group::kP256);
  std::string f = key.Fingerprint();
  // An X25519 SPKI (RFC 8410): vouch publishes Edwards keys, never Montgomery ones.
  std::string x25519 = "MCowBQYDK2VuAyEAFc+5AzmZM/oIReayCB99VvIwqkfDYqljC48D9rV17W4=";
  Code x = CodeOf("VOUCH:V:1;K:" + x25519 + ";F:" + f + ";S:SN1;;");
  CHECK((x == Code::kUnsupported || x == Code::kInvalidKey));
  CHECK(x == PublicKey::Parse(AsBytes(std::string_view(x25519))).status().code());
  // A P-256 point off the curve.
  Bytes der = key.SpkiDer();
  der.back() ^= 1;
  Code off = CodeOf("VOUCH:V:1;K:" + Base64Encode(der) + ";F:" + f + ";S:SN1;;");
  CHECK(off == Code::kInvalidKey);
  CHECK(off == PublicKey::FromSpkiDer(der).status().code());
}

TEST_CASE("a URI whose UDF is another key's is udf-mismatch", "[device-uri]") {
  PublicKey key = NewKey(Group::kEd25519), other = NewKey(Group::kEd25519);
  std::string uri = Uri(key, "SN1");
  std::string swapped_key = WithField(uri, 'K', Base64Encode(other.SpkiDer()));
  CHECK(CodeOf(swapped_key) == Code::kUdfMismatch);
  std::string swapped_udf = WithField(uri, 'F', other.Fingerprint());
  auto r = DecodeDeviceUri(swapped_udf);
  CHECK(r.status().code() == Code::kUdfMismatch);
  CHECK(r.status().message().find(key.Fingerprint()) != std::string::npos);
}

TEST_CASE("a version other than 1 is unsupported", "[device-uri]") {
  PublicKey key = NewKey(Group::kP256);
  std::string uri = Uri(key, "SN1");
  CHECK(CodeOf("VOUCH:V:2" + uri.substr(9)) == Code::kUnsupported);
  CHECK(CodeOf("VOUCH:V:10" + uri.substr(9)) == Code::kUnsupported);
}

TEST_CASE("hostile lengths are refused before they are read", "[device-uri]") {
  PublicKey key = NewKey(Group::kP256);
  std::string at_cap = std::string(kMaxDeviceUriSerial, 'A');
  std::string uri = Uri(key, at_cap);
  CHECK(DecodeDeviceUri(uri)->serial == at_cap);
  // A serial one byte over, written raw or percent-encoded.
  CHECK(EncodeDeviceUri(key, at_cap + "A").status().code() == Code::kTooLarge);
  CHECK(CodeOf(WithField(uri, 'S', at_cap + "A")) == Code::kTooLarge);
  std::string encoded;
  for (size_t i = 0; i <= kMaxDeviceUriSerial; ++i) encoded += "%2F";
  CHECK(CodeOf(WithField(uri, 'S', encoded)) == Code::kTooLarge);
  // The whole text: over 4 KiB is refused whatever it holds; a megabyte of ';' too.
  std::string padded = uri.substr(0, uri.size() - 1) + "X:" + std::string(kMaxDeviceUriSize, 'A') + ";;";
  CHECK(CodeOf(padded) == Code::kTooLarge);
  CHECK(CodeOf(std::string(1 << 20, ';')) == Code::kTooLarge);
  // Just under the cap, an unknown field is still read (and skipped).
  std::string under = uri.substr(0, uri.size() - 1) + "X:";
  under += std::string(kMaxDeviceUriSize - under.size() - 2, 'A') + ";;";
  REQUIRE(under.size() == kMaxDeviceUriSize);
  CHECK(DecodeDeviceUri(under).ok());
  // Writers refuse what readers would.
  CHECK(EncodeDeviceUri(key, "").status().code() == Code::kMalformed);
  CHECK(EncodeDeviceUri(key, "SN\n1").status().code() == Code::kMalformed);
  CHECK(EncodeDeviceUri(key, "SN\xff").status().code() == Code::kMalformed);
}

TEST_CASE("a devices file line may be one device URI", "[device-uri]") {
  PublicKey a = NewKey(Group::kP256), b = NewKey(Group::kEd25519), c = NewKey(Group::kEd25519);
  std::string tampered = WithField(Uri(b, "SN-B"), 'F', c.Fingerprint());
  std::string text = "serial,public key\n" + Uri(a, "SN A") + "\n  " + tampered + "\r\nSN-C," +
                     Base64Encode(c.SpkiDer()) + "\nvouch:V:1;;\n";
  auto lines = ParseDevicesCsv(text);
  REQUIRE(lines.ok());
  REQUIRE(lines->size() == 4);
  CHECK((*lines)[0].status.ok());
  CHECK((*lines)[0].serial == "SN A");
  CHECK(PublicKey::Parse(AsBytes((*lines)[0].key_text)).value() == a);
  CHECK((*lines)[1].status.code() == Code::kUdfMismatch);
  CHECK((*lines)[1].line == 3);
  CHECK((*lines)[2].status.ok());
  CHECK((*lines)[2].serial == "SN-C");
  CHECK((*lines)[3].status.code() == Code::kMalformed);
  // Renewal files (three columns) have no URI form: the line is read as CSV.
  auto renew = ParseDevicesCsv(Uri(a, "SN1") + "\n", 3);
  REQUIRE(renew.ok());
  CHECK((*renew)[0].status.ok());
  CHECK((*renew)[0].key_text.empty());
}

TEST_CASE("a QR code is drawn with its quiet zone on a terminal, in SVG and in PNG", "[qr]") {
  PublicKey key = NewKey(Group::kP256);
  std::string uri = Uri(key, "ACME-1001");
  auto code = qr::QrCode::Encode(uri);
  REQUIRE(code.ok());
  CHECK(code->size() == 17 + 4 * code->version());
  const int n = code->size() + 2 * qr::kQuietZone;
  // Finder pattern: the top-left module is dark, the quiet zone light.
  CHECK(code->dark(0, 0));
  CHECK_FALSE(code->dark(-1, 0));
  CHECK_FALSE(code->dark(code->size(), 0));

  std::string text = qr::RenderTerminal(*code, "   ");
  size_t rows = 0, pos = 0;
  for (size_t nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    std::string row = text.substr(pos, nl - pos);
    CHECK(row.rfind("   \x1b[30;107m", 0) == 0);
    CHECK(row.size() >= 4);
    CHECK(row.substr(row.size() - 4) == "\x1b[0m");
    ++rows;
  }
  CHECK(rows == static_cast<size_t>((n + 1) / 2));
  // The first row is quiet zone: n spaces.
  CHECK(text.substr(3 + 9, static_cast<size_t>(n)) == std::string(static_cast<size_t>(n), ' '));

  std::string svg = qr::RenderSvg(*code);
  CHECK(svg.find("viewBox=\"0 0 " + std::to_string(n) + " " + std::to_string(n) + "\"") != std::string::npos);
  CHECK(svg.find("<path") == svg.rfind("<path"));  // one path
  CHECK(svg.find("M4 4h7v1h-7z") != std::string::npos);  // the top of the finder pattern

  auto png = qr::RenderPng(*code, 2);
  REQUIRE(png.ok());
  REQUIRE(png->size() > 24);
  CHECK(Bytes(png->begin(), png->begin() + 8) == Bytes{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
  // IHDR width and height, big-endian: n modules of 2 pixels.
  auto be32 = [&](size_t at) { return ((*png)[at] << 24) | ((*png)[at + 1] << 16) | ((*png)[at + 2] << 8) | (*png)[at + 3]; };
  CHECK(be32(16) == 2 * n);
  CHECK(be32(20) == 2 * n);

  CHECK(qr::ImageFormatOf("a/b.PNG") == qr::ImageFormat::kPng);
  CHECK(qr::ImageFormatOf("b.svg") == qr::ImageFormat::kSvg);
  CHECK_FALSE(qr::ImageFormatOf("b.jpg").has_value());
  CHECK_FALSE(qr::ImageFormatOf("png").has_value());
}

TEST_CASE("text too long for any QR code is too-large", "[qr]") {
  CHECK(qr::QrCode::Encode(std::string(2331, 'a')).ok());
  CHECK(qr::QrCode::Encode(std::string(2332, 'a')).status().code() == Code::kTooLarge);
}

}  // namespace vouch::formats
