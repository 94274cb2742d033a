#include <catch2/catch.hpp>

#include <map>
#include <regex>
#include <sstream>
#include <vector>

#include "libvoucher/hpke.h"
#include "testutil.h"

using namespace vouch;

namespace {

// The RFC 9180 appendix text: blocks of "name: hex" lines, hex wrapping onto bare lines,
// blocks separated by blank lines or ~~~ fences.
using Block = std::map<std::string, std::string>;

std::vector<Block> ParseVectors(const std::string& text) {
  std::vector<Block> blocks;
  Block cur;
  std::string key;
  std::istringstream in(text);
  std::string line;
  const std::regex kv(R"(^([a-zA-Z_ ]+):\s*([0-9a-fA-F]*)\s*$)");
  const std::regex hex(R"(^[0-9a-fA-F]+\s*$)");
  auto flush = [&] {
    if (!cur.empty()) blocks.push_back(cur);
    cur.clear();
    key.clear();
  };
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.empty() || line.rfind("~~~", 0) == 0 || line[0] == '#') {
      flush();
    } else if (std::regex_match(line, m, kv)) {
      key = m[1];
      cur[key] = m[2];
    } else if (!key.empty() && std::regex_match(line, hex)) {
      cur[key] += line.substr(0, line.find_first_of(" \t"));
    }
  }
  flush();
  return blocks;
}

struct Vectors {
  Block setup;
  std::vector<Block> encryptions, exports;
};

Vectors Load() {
  Vectors v;
  for (auto& b : ParseVectors(test::ReadText(test::VectorPath("rfc9180-p256-sha256-aes128gcm-base.txt")))) {
    if (b.count("ikmE")) v.setup = b;
    else if (b.count("sequence number")) v.encryptions.push_back(b);
    else if (b.count("exported_value")) v.exports.push_back(b);
  }
  return v;
}

Bytes B(const Block& b, const std::string& k) { return test::Hex(b.at(k)); }
Bytes V(ByteView v) { return Bytes(v.begin(), v.end()); }

}  // namespace

TEST_CASE("the RFC 9180 P-256 base vector derives its keys, shared secret and schedule", "[hpke]") {
  Vectors v = Load();
  REQUIRE(v.setup.at("kem_id") == "16");
  auto skE = hpke::DeriveKeyPair(B(v.setup, "ikmE"));
  auto skR = hpke::DeriveKeyPair(B(v.setup, "ikmR"));
  REQUIRE((skE.ok() && skR.ok()));
  CHECK(V(skE->Scalar().view()) == B(v.setup, "skEm"));
  CHECK(skE->Public().point() == B(v.setup, "pkEm"));
  CHECK(V(skR->Scalar().view()) == B(v.setup, "skRm"));
  CHECK(skR->Public().point() == B(v.setup, "pkRm"));

  auto encap = hpke::Encap(skR->Public(), &*skE);
  REQUIRE(encap.ok());
  CHECK(encap->enc == B(v.setup, "enc"));
  CHECK(V(encap->shared_secret.view()) == B(v.setup, "shared_secret"));
  auto decap = hpke::Decap(encap->enc, *skR);
  REQUIRE(decap.ok());
  CHECK(V(decap->view()) == B(v.setup, "shared_secret"));

  auto ctx = hpke::KeyScheduleBase(encap->shared_secret.view(), B(v.setup, "info"));
  REQUIRE(ctx.ok());
  CHECK(V(ctx->key()) == B(v.setup, "key"));
  CHECK(V(ctx->base_nonce()) == B(v.setup, "base_nonce"));
  CHECK(V(ctx->exporter_secret()) == B(v.setup, "exporter_secret"));
}

TEST_CASE("every RFC 9180 P-256 encryption and export reproduces, on both sides", "[hpke]") {
  Vectors v = Load();
  REQUIRE(v.encryptions.size() >= 6);
  REQUIRE(v.exports.size() == 3);
  auto skE = *hpke::DeriveKeyPair(B(v.setup, "ikmE"));
  auto skR = *hpke::DeriveKeyPair(B(v.setup, "ikmR"));
  auto sender = hpke::SetupBaseS(skR.Public(), B(v.setup, "info"), &skE);
  auto receiver = hpke::SetupBaseR(B(v.setup, "enc"), skR, B(v.setup, "info"));
  REQUIRE((sender.ok() && receiver.ok()));
  for (const auto& e : v.encryptions) {
    uint64_t seq = std::stoull(e.at("sequence number"));
    INFO("sequence number " << seq);
    // Advance both contexts to the vector's sequence number with throwaway messages.
    while (sender->context.sequence() < seq) {
      auto ct = sender->context.Seal({}, {});
      REQUIRE(ct.ok());
      REQUIRE(receiver->Open({}, *ct).ok());
    }
    auto ct = sender->context.Seal(B(e, "aad"), B(e, "pt"));
    REQUIRE(ct.ok());
    CHECK(*ct == B(e, "ct"));
    auto pt = receiver->Open(B(e, "aad"), B(e, "ct"));
    REQUIRE(pt.ok());
    CHECK(V(pt->view()) == B(e, "pt"));
  }
  for (const auto& x : v.exports) {
    auto got = receiver->Export(B(x, "exporter_context"), std::stoul(x.at("L")));
    REQUIRE(got.ok());
    CHECK(V(got->view()) == B(x, "exported_value"));
    CHECK(V(sender->context.Export(B(x, "exporter_context"), 32)->view()) == B(x, "exported_value"));
  }
}

TEST_CASE("single-shot seal then open returns the plaintext", "[hpke]") {
  auto sk = *PrivateKey::Generate();
  auto sealed = hpke::Seal(sk.Public(), AsBytes("info"), AsBytes("aad"), AsBytes("thirty-two bytes of secret y...."));
  REQUIRE(sealed.ok());
  CHECK(sealed->enc.size() == hpke::kEncSize);
  CHECK(sealed->ct.size() == 32 + hpke::kTagSize);
  auto pt = hpke::Open(sk, sealed->enc, AsBytes("info"), AsBytes("aad"), sealed->ct);
  REQUIRE(pt.ok());
  CHECK(AsChars(pt->view()) == "thirty-two bytes of secret y....");
}

TEST_CASE("any change to enc, ct, aad, info or key makes open fail", "[hpke]") {
  auto sk = *PrivateKey::Generate();
  auto s = *hpke::Seal(sk.Public(), AsBytes("info"), AsBytes("aad"), AsBytes("y"));
  auto open = [&](const PrivateKey& k, Bytes enc, Bytes ct, std::string info, std::string aad) {
    return hpke::Open(k, enc, AsBytes(info), AsBytes(aad), ct).status().code();
  };
  for (size_t i = 0; i < s.ct.size(); ++i) {
    Bytes ct = s.ct;
    ct[i] ^= 0x01;
    CHECK(open(sk, s.enc, ct, "info", "aad") == Code::kDecryptFailed);
  }
  for (size_t i : {size_t{1}, size_t{20}, size_t{64}}) {
    Bytes enc = s.enc;
    enc[i] ^= 0x01;  // almost always off the curve; either way it must not open
    CHECK(open(sk, enc, s.ct, "info", "aad") == Code::kDecryptFailed);
  }
  CHECK(open(sk, s.enc, s.ct, "infO", "aad") == Code::kDecryptFailed);
  CHECK(open(sk, s.enc, s.ct, "info", "aaD") == Code::kDecryptFailed);
  CHECK(open(sk, s.enc, s.ct, "info", "") == Code::kDecryptFailed);
  CHECK(open(*PrivateKey::Generate(), s.enc, s.ct, "info", "aad") == Code::kDecryptFailed);
  CHECK(open(sk, s.enc, Bytes(s.ct.begin(), s.ct.begin() + 10), "info", "aad") == Code::kDecryptFailed);
  CHECK(open(sk, Bytes(s.enc.begin(), s.enc.begin() + 33), s.ct, "info", "aad") == Code::kDecryptFailed);
  CHECK(open(sk, s.enc, s.ct, "info", "aad") == Code::kOk);
}
