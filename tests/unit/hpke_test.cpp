#include <catch2/catch.hpp>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <map>
#include <random>
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

Vectors Load(const std::string& file = "rfc9180-p256-sha256-aes128gcm-base.txt") {
  Vectors v;
  for (auto& b : ParseVectors(test::ReadText(test::VectorPath(file)))) {
    if (b.count("ikmE")) v.setup = b;
    else if (b.count("sequence number")) v.encryptions.push_back(b);
    else if (b.count("exported_value")) v.exports.push_back(b);
  }
  return v;
}

Bytes B(const Block& b, const std::string& k) { return test::Hex(b.at(k)); }
Bytes V(ByteView v) { return Bytes(v.begin(), v.end()); }

template <class T>
T Take(Result<T> r) {
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

// The vectors of each suite: RFC 9180's for P-256 and X25519, hpke-js's for X448 (which has
// no shared_secret, key, base_nonce or exporter_secret: hpke-js does not reveal them).
struct SuiteVectors {
  const hpke::CipherSuite* suite;
  const char* file;
};
const SuiteVectors kVectorFiles[] = {
    {&hpke::kP256Sha256Aes128Gcm, "rfc9180-p256-sha256-aes128gcm-base.txt"},
    {&hpke::kX25519Sha256ChaCha20Poly1305, "rfc9180-x25519-sha256-chacha20poly1305-base.txt"},
    {&hpke::kX448Sha512Aes256Gcm, "hpke-js-x448-sha512-aes256gcm-base.txt"},
};

// A serialized private key as RFC 9180 section 7.1.2 wants it: X25519 and X448 scalars
// clamped (RFC 7748 section 5). The vectors list DeriveKeyPair's bytes before clamping.
Bytes SerializedSk(const hpke::CipherSuite& s, Bytes k) {
  if (s.kem_id == hpke::kKemX25519) {
    k.at(0) &= 248;
    k.at(31) = static_cast<uint8_t>((k.at(31) & 127) | 64);
  } else if (s.kem_id == hpke::kKemX448) {
    k.at(0) &= 252;
    k.at(55) |= 128;
  }
  return k;
}

Bytes Random(size_t n) {
  static std::mt19937 rng(std::random_device{}());
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

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

TEST_CASE("each suite's vector derives its keys, enc, shared secret and schedule", "[hpke-vectors]") {
  for (const auto& [suite, file] : kVectorFiles) {
    const hpke::CipherSuite& s = *suite;
    DYNAMIC_SECTION(s.name) {
      Vectors v = Load(file);
      REQUIRE(std::stoul(v.setup.at("kem_id")) == s.kem_id);
      REQUIRE(std::stoul(v.setup.at("kdf_id")) == s.kdf_id);
      REQUIRE(std::stoul(v.setup.at("aead_id")) == s.aead_id);
      auto skE = Take(hpke::DeriveKeyPair(s, B(v.setup, "ikmE")));
      auto skR = Take(hpke::DeriveKeyPair(s, B(v.setup, "ikmR")));
      CHECK(Take(hpke::SerializePublicKey(s, skE.get())) == B(v.setup, "pkEm"));
      CHECK(Take(hpke::SerializePublicKey(s, skR.get())) == B(v.setup, "pkRm"));
      CHECK(V(Take(hpke::SerializePrivateKey(s, skE.get())).view()) == SerializedSk(s, B(v.setup, "skEm")));
      CHECK(V(Take(hpke::SerializePrivateKey(s, skR.get())).view()) == SerializedSk(s, B(v.setup, "skRm")));
      // The listed private key, read back, is the same key (clamped or not).
      auto skR2 = Take(hpke::DeserializePrivateKey(s, B(v.setup, "skRm")));
      CHECK(Take(hpke::SerializePublicKey(s, skR2.get())) == B(v.setup, "pkRm"));

      auto pkR = Take(hpke::DeserializePublicKey(s, B(v.setup, "pkRm")));
      auto encap = Take(hpke::Encap(s, pkR.get(), skE.get()));
      CHECK(encap.enc == B(v.setup, "enc"));
      CHECK(encap.enc.size() == s.n_enc);
      auto decap = Take(hpke::Decap(s, encap.enc, skR2.get()));
      CHECK(V(decap.view()) == V(encap.shared_secret.view()));
      CHECK(decap.size() == s.n_secret);
      auto ctx = Take(hpke::KeyScheduleBase(s, encap.shared_secret.view(), B(v.setup, "info")));
      CHECK(ctx.suite() == s);
      CHECK(ctx.key().size() == s.n_k);
      CHECK(ctx.base_nonce().size() == s.n_n);
      CHECK(ctx.exporter_secret().size() == s.n_h);
      if (v.setup.count("shared_secret")) {
        CHECK(V(encap.shared_secret.view()) == B(v.setup, "shared_secret"));
        CHECK(V(ctx.key()) == B(v.setup, "key"));
        CHECK(V(ctx.base_nonce()) == B(v.setup, "base_nonce"));
        CHECK(V(ctx.exporter_secret()) == B(v.setup, "exporter_secret"));
      } else {
        CHECK(s.kem_id == hpke::kKemX448);  // only hpke-js's vector may leave them out
      }
    }
  }
}

TEST_CASE("each suite's vector encryptions and exports reproduce, on both sides", "[hpke-vectors]") {
  for (const auto& [suite, file] : kVectorFiles) {
    const hpke::CipherSuite& s = *suite;
    DYNAMIC_SECTION(s.name) {
      Vectors v = Load(file);
      REQUIRE(v.encryptions.size() >= 6);
      REQUIRE(v.exports.size() == 3);
      auto skE = Take(hpke::DeriveKeyPair(s, B(v.setup, "ikmE")));
      auto skR = Take(hpke::DeriveKeyPair(s, B(v.setup, "ikmR")));
      auto pkR = Take(hpke::DeserializePublicKey(s, B(v.setup, "pkRm")));
      auto sender = Take(hpke::SetupBaseS(s, pkR.get(), B(v.setup, "info"), skE.get()));
      auto receiver = Take(hpke::SetupBaseR(s, B(v.setup, "enc"), skR.get(), B(v.setup, "info")));
      CHECK(sender.enc == B(v.setup, "enc"));
      for (const auto& e : v.encryptions) {
        uint64_t seq = std::stoull(e.at("sequence number"));
        INFO("sequence number " << seq);
        while (sender.context.sequence() < seq) {
          auto ct = Take(sender.context.Seal({}, {}));
          CHECK(ct.size() == s.n_t);
          REQUIRE(receiver.Open({}, ct).ok());
        }
        if (e.count("nonce")) CHECK(receiver.sequence() == seq);
        CHECK(Take(sender.context.Seal(B(e, "aad"), B(e, "pt"))) == B(e, "ct"));
        CHECK(V(Take(receiver.Open(B(e, "aad"), B(e, "ct"))).view()) == B(e, "pt"));
      }
      for (const auto& x : v.exports) {
        const size_t length = std::stoul(x.at("L"));
        CHECK(V(Take(receiver.Export(B(x, "exporter_context"), length)).view()) == B(x, "exported_value"));
        CHECK(V(Take(sender.context.Export(B(x, "exporter_context"), length)).view()) == B(x, "exported_value"));
      }
    }
  }
}

TEST_CASE("FindSuite names the three suites and nothing else", "[hpke-suites]") {
  CHECK(hpke::FindSuite("P256-HPKE-SHA256-AES128GCM") == &hpke::kP256Sha256Aes128Gcm);
  CHECK(hpke::FindSuite("X25519-HPKE-SHA256-CHACHA20POLY1305") == &hpke::kX25519Sha256ChaCha20Poly1305);
  CHECK(hpke::FindSuite("X448-HPKE-SHA512-AES256GCM") == &hpke::kX448Sha512Aes256Gcm);
  CHECK(hpke::FindSuite("X448") == nullptr);
  CHECK(hpke::FindSuite("") == nullptr);
}

TEST_CASE("every suite seals and opens messages of any size, with RFC 9180's sizes", "[hpke-suites]") {
  for (const hpke::CipherSuite* suite : hpke::kSuites) {
    const hpke::CipherSuite& s = *suite;
    DYNAMIC_SECTION(s.name) {
      auto sk = Take(hpke::GenerateKeyPair(s));
      Bytes pkm = Take(hpke::SerializePublicKey(s, sk.get()));
      CHECK(pkm.size() == s.n_enc);
      CHECK(Take(hpke::SerializePrivateKey(s, sk.get())).size() == s.n_sk);
      auto pk = Take(hpke::DeserializePublicKey(s, pkm));
      for (size_t n : {size_t{0}, size_t{1}, size_t{32}, size_t{1000}}) {
        Bytes pt = Random(n), aad = Random(n % 7), info = Random(n % 5);
        auto sealed = Take(hpke::Seal(s, pk.get(), info, aad, pt));
        CHECK(sealed.enc.size() == s.n_enc);
        CHECK(sealed.ct.size() == n + s.n_t);
        CHECK(V(Take(hpke::Open(s, sk.get(), sealed.enc, info, aad, sealed.ct)).view()) == pt);
      }
      // A context carries many messages, in order, and both sides export the same secrets.
      auto sender = Take(hpke::SetupBaseS(s, pk.get(), AsBytes("info")));
      auto receiver = Take(hpke::SetupBaseR(s, sender.enc, sk.get(), AsBytes("info")));
      for (int i = 0; i < 3; ++i) {
        Bytes pt = Random(17);
        CHECK(V(Take(receiver.Open(AsBytes("aad"), Take(sender.context.Seal(AsBytes("aad"), pt)))).view()) == pt);
      }
      CHECK(V(Take(sender.context.Export(AsBytes("ctx"), 255 * s.n_h)).view()) ==
            V(Take(receiver.Export(AsBytes("ctx"), 255 * s.n_h)).view()));
      CHECK(receiver.Export(AsBytes("ctx"), 255 * s.n_h + 1).status().code() == Code::kUsage);
    }
  }
}

TEST_CASE("the P-256 overloads and the generic API are one implementation", "[hpke-suites]") {
  auto sk = *PrivateKey::Generate();
  auto by_wrapper = *hpke::Seal(sk.Public(), AsBytes("info"), AsBytes("aad"), AsBytes("y"));
  CHECK(AsChars(Take(hpke::Open(hpke::kP256Sha256Aes128Gcm, sk.pkey(), by_wrapper.enc, AsBytes("info"),
                                AsBytes("aad"), by_wrapper.ct))
                    .view()) == "y");
  auto by_generic = Take(hpke::Seal(hpke::kP256Sha256Aes128Gcm, sk.Public().pkey(), AsBytes("info"), AsBytes("aad"),
                                    AsBytes("y")));
  CHECK(AsChars(Take(hpke::Open(sk, by_generic.enc, AsBytes("info"), AsBytes("aad"), by_generic.ct)).view()) == "y");
  CHECK(Take(hpke::SerializePublicKey(hpke::kP256Sha256Aes128Gcm, sk.pkey())) == sk.Public().point());
  CHECK(V(Take(hpke::SerializePrivateKey(hpke::kP256Sha256Aes128Gcm, sk.pkey())).view()) == V(sk.Scalar().view()));
}

TEST_CASE("a key for another suite, a missing key or a public key as the recipient's is refused before use",
          "[hpke-suites]") {
  for (const hpke::CipherSuite* suite : hpke::kSuites) {
    const hpke::CipherSuite& s = *suite;
    DYNAMIC_SECTION(s.name) {
      auto sk = Take(hpke::GenerateKeyPair(s));
      auto sealed = Take(hpke::Seal(s, sk.get(), {}, {}, AsBytes("y")));
      for (const hpke::CipherSuite* other : hpke::kSuites) {
        if (other == suite) continue;
        INFO("a key of " << other->name);
        auto wrong = Take(hpke::GenerateKeyPair(*other));
        CHECK(hpke::Seal(s, wrong.get(), {}, {}, AsBytes("y")).status().code() == Code::kInvalidKey);
        CHECK(hpke::Encap(s, sk.get(), wrong.get()).status().code() == Code::kInvalidKey);
        CHECK(hpke::Open(s, wrong.get(), sealed.enc, {}, {}, sealed.ct).status().code() == Code::kInvalidKey);
        CHECK(hpke::SerializePublicKey(s, wrong.get()).status().code() == Code::kInvalidKey);
        CHECK(hpke::SerializePrivateKey(s, wrong.get()).status().code() == Code::kInvalidKey);
      }
      CHECK(hpke::Seal(s, nullptr, {}, {}, AsBytes("y")).status().code() == Code::kUsage);
      CHECK(hpke::Open(s, nullptr, sealed.enc, {}, {}, sealed.ct).status().code() == Code::kUsage);
      auto pk = Take(hpke::DeserializePublicKey(s, Take(hpke::SerializePublicKey(s, sk.get()))));
      CHECK(hpke::Open(s, pk.get(), sealed.enc, {}, {}, sealed.ct).status().code() == Code::kInvalidKey);
      CHECK(hpke::SerializePrivateKey(s, pk.get()).status().code() == Code::kInvalidKey);
      CHECK(hpke::DeserializePublicKey(s, Bytes(s.n_enc - 1, 0x04)).status().code() == Code::kInvalidKey);
      CHECK(hpke::DeserializePrivateKey(s, Bytes(s.n_sk + 1, 0x01)).status().code() == Code::kInvalidKey);
      // A suite that is not one of the three, even if only one id differs, is the caller's error.
      hpke::CipherSuite altered = s;
      altered.aead_id = 0xffff;
      CHECK(hpke::Seal(altered, sk.get(), {}, {}, AsBytes("y")).status().code() == Code::kUsage);
      CHECK(hpke::GenerateKeyPair(altered).status().code() == Code::kUsage);
    }
  }
  SECTION("a P-384 key is not a P-256 key") {
    hpke::KeyPtr p384(EVP_EC_gen("P-384"));
    REQUIRE(p384);
    CHECK(hpke::Seal(hpke::kP256Sha256Aes128Gcm, p384.get(), {}, {}, AsBytes("y")).status().code() ==
          Code::kInvalidKey);
  }
  SECTION("a P-256 public key is an uncompressed point on the curve, and a scalar is in [1, n-1]") {
    auto sk = *PrivateKey::Generate();
    Bytes compressed(sk.Public().point().begin(), sk.Public().point().begin() + 33);
    compressed[0] = static_cast<uint8_t>(0x02 | (sk.Public().point()[64] & 1));
    compressed.resize(65, 0);  // the right size, the wrong form
    CHECK(hpke::DeserializePublicKey(hpke::kP256Sha256Aes128Gcm, compressed).status().code() == Code::kInvalidKey);
    Bytes off = sk.Public().point();
    off[64] ^= 0x01;
    CHECK(hpke::DeserializePublicKey(hpke::kP256Sha256Aes128Gcm, off).status().code() == Code::kInvalidKey);
    CHECK(hpke::DeserializePrivateKey(hpke::kP256Sha256Aes128Gcm, Bytes(32, 0)).status().code() == Code::kInvalidKey);
    CHECK(hpke::DeserializePrivateKey(hpke::kP256Sha256Aes128Gcm, Bytes(32, 0xff)).status().code() ==
          Code::kInvalidKey);
  }
}

TEST_CASE("in every suite, any change to enc, ct, aad, info or key makes open fail", "[hpke-suites]") {
  for (const hpke::CipherSuite* suite : hpke::kSuites) {
    const hpke::CipherSuite& s = *suite;
    DYNAMIC_SECTION(s.name) {
      auto sk = Take(hpke::GenerateKeyPair(s));
      auto other = Take(hpke::GenerateKeyPair(s));
      auto sealed = Take(hpke::Seal(s, sk.get(), AsBytes("info"), AsBytes("aad"), AsBytes("thirty-two bytes of y")));
      auto open = [&](EVP_PKEY* k, const Bytes& enc, const Bytes& ct, std::string info, std::string aad) {
        return hpke::Open(s, k, enc, AsBytes(info), AsBytes(aad), ct).status().code();
      };
      for (size_t i = 0; i < sealed.ct.size(); ++i) {
        Bytes ct = sealed.ct;
        ct[i] ^= 0x01;
        CHECK(open(sk.get(), sealed.enc, ct, "info", "aad") == Code::kDecryptFailed);
      }
      for (size_t i = 0; i < sealed.enc.size(); i += 7) {
        Bytes enc = sealed.enc;
        enc[i] ^= 0x01;  // another u-coordinate, or (P-256) almost always off the curve
        CHECK(open(sk.get(), enc, sealed.ct, "info", "aad") == Code::kDecryptFailed);
      }
      CHECK(open(sk.get(), sealed.enc, sealed.ct, "infO", "aad") == Code::kDecryptFailed);
      CHECK(open(sk.get(), sealed.enc, sealed.ct, "info", "aaD") == Code::kDecryptFailed);
      CHECK(open(sk.get(), sealed.enc, sealed.ct, "info", "") == Code::kDecryptFailed);
      CHECK(open(other.get(), sealed.enc, sealed.ct, "info", "aad") == Code::kDecryptFailed);
      CHECK(open(sk.get(), sealed.enc, Bytes(sealed.ct.begin(), sealed.ct.begin() + 10), "info", "aad") ==
            Code::kDecryptFailed);
      CHECK(open(sk.get(), Bytes(sealed.enc.begin(), sealed.enc.end() - 1), sealed.ct, "info", "aad") ==
            Code::kDecryptFailed);
      CHECK(open(sk.get(), sealed.enc, sealed.ct, "info", "aad") == Code::kOk);
    }
  }
}

// RFC 7748 section 6 / RFC 9180 section 7.1.4: DH with a point of small order gives all zeros,
// which the receiver must not use. Points from RFC 7748's u-coordinate encoding (little-endian):
// 0, 1, a point of order 8 (X25519) and p-1 (both curves).
TEST_CASE("an X25519 or X448 key of small order is refused: invalid-key to seal to, decrypt-failed as enc",
          "[hpke-small-order]") {
  auto u = [](size_t size, std::initializer_list<uint8_t> low) {
    Bytes b(size, 0);
    std::copy(low.begin(), low.end(), b.begin());
    return b;
  };
  Bytes p448_minus_1(56, 0xff);
  p448_minus_1[0] = 0xfe;
  p448_minus_1[28] = 0xfe;  // p = 2^448 - 2^224 - 1
  const std::vector<std::pair<const hpke::CipherSuite*, Bytes>> points = {
      {&hpke::kX25519Sha256ChaCha20Poly1305, u(32, {})},
      {&hpke::kX25519Sha256ChaCha20Poly1305, u(32, {1})},
      {&hpke::kX25519Sha256ChaCha20Poly1305,
       test::Hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")},
      {&hpke::kX25519Sha256ChaCha20Poly1305,
       test::Hex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")},
      {&hpke::kX448Sha512Aes256Gcm, u(56, {})},
      {&hpke::kX448Sha512Aes256Gcm, u(56, {1})},
      {&hpke::kX448Sha512Aes256Gcm, p448_minus_1},
  };
  for (const auto& [suite, point] : points) {
    const hpke::CipherSuite& s = *suite;
    INFO(s.name << " u=" << HexEncode(point));
    auto pk = Take(hpke::DeserializePublicKey(s, point));
    auto seal = hpke::Seal(s, pk.get(), {}, {}, AsBytes("y"));
    CHECK(seal.status().code() == Code::kInvalidKey);
    CHECK(seal.status().ToString().find("all zero") != std::string::npos);
    auto sk = Take(hpke::GenerateKeyPair(s));
    auto good = Take(hpke::Seal(s, sk.get(), {}, {}, AsBytes("y")));
    auto open = hpke::Open(s, sk.get(), point, {}, {}, good.ct);
    CHECK(open.status().code() == Code::kDecryptFailed);
    CHECK(hpke::Decap(s, point, sk.get()).status().code() == Code::kDecryptFailed);
  }
}
