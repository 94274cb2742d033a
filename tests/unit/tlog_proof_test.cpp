#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "formats/tlog/proof.h"
#include "libvoucher/encoding.h"

using namespace vouch;
using namespace vouch::formats::tlog;

namespace {

ByteView View(const std::string& s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

// A log of `n` leaves "entry i", its checkpoint signed by the log and cosigned by witnesses.
struct Fixture {
  NoteSigner log = *NoteSigner::Make("log.example/vouchers", *ed25519::PrivateKey::Generate());
  Cosigner w1 = *Cosigner::Make("witness.example/w1", *ed25519::PrivateKey::Generate());
  Cosigner w2 = *Cosigner::Make("witness.example/w2", *ed25519::PrivateKey::Generate());
  std::vector<std::string> entries;
  std::vector<Hash> leaves;
  std::string checkpoint;  // signed by the log, cosigned by w1 at 1000 and w2 at 2000

  explicit Fixture(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      entries.push_back("entry " + std::to_string(i));
      leaves.push_back(*LeafHash(View(entries.back())));
    }
    Checkpoint c{log.name, n, *TreeRoot(leaves), {}};
    const std::string text = *FormatCheckpoint(c);
    std::vector<NoteSigner> by_log{log};
    Note note = *ParseNote(*SignNote(text, by_log));
    note.signatures.push_back(*w1.Cosign(text, 1000));
    note.signatures.push_back(*w2.Cosign(text, 2000));
    checkpoint = FormatNote(note);
  }
  Proof For(uint64_t index) const {
    return Proof{std::nullopt, index, *InclusionProof(leaves, index, leaves.size()), checkpoint};
  }
  LogPolicy Policy(size_t quorum) const {
    return LogPolicy{log.Verifier(), {w1.Verifier(), w2.Verifier()}, quorum, std::nullopt};
  }
};

}  // namespace

TEST_CASE("a tlog-proof reads back to itself, with and without extra data", "[tlog-proof]") {
  Fixture f(11);
  Proof p = f.For(5);
  const std::string text = FormatProof(p);
  CHECK(text.starts_with("c2sp.org/tlog-proof@v1\nindex 5\n"));
  auto back = ParseProof(text);
  REQUIRE(back.ok());
  CHECK(FormatProof(*back) == text);
  p.extra = Bytes{1, 2, 3};
  const std::string with_extra = FormatProof(p);
  CHECK(with_extra.starts_with("c2sp.org/tlog-proof@v1\nextra AQID\nindex 5\n"));
  CHECK(FormatProof(*ParseProof(with_extra)) == with_extra);
  // A one-leaf tree: no hashes at all, the blank line follows the index.
  Fixture one(1);
  const std::string single = FormatProof(one.For(0));
  CHECK(single.starts_with("c2sp.org/tlog-proof@v1\nindex 0\n\nlog.example/vouchers\n1\n"));
  CHECK(VerifyProof(View(one.entries[0]), single, one.Policy(2)).ok());
}

TEST_CASE("a proof verifies for its own leaf under the log's key and a quorum of witnesses", "[tlog-proof]") {
  Fixture f(11);
  const std::string text = FormatProof(f.For(5));
  auto ok = VerifyProof(View(f.entries[5]), text, f.Policy(2));
  REQUIRE(ok.ok());
  CHECK(ok->index == 5);
  CHECK(ok->checkpoint.size == 11);
  CHECK(ok->cosignatures.size() == 2);

  // Another leaf's bytes, another index.
  CHECK(VerifyProof(View(f.entries[6]), text, f.Policy(2)).status().code() == Code::kBadSignature);
  Proof other = f.For(5);
  other.index = 6;
  CHECK(VerifyProof(View(f.entries[5]), FormatProof(other), f.Policy(2)).status().code() == Code::kBadSignature);
  // Truncated and reordered hashes.
  Proof truncated = f.For(5);
  truncated.hashes.pop_back();
  CHECK(VerifyProof(View(f.entries[5]), FormatProof(truncated), f.Policy(2)).status().code() == Code::kMalformed);
  Proof reordered = f.For(5);
  std::swap(reordered.hashes[0], reordered.hashes[1]);
  CHECK(VerifyProof(View(f.entries[5]), FormatProof(reordered), f.Policy(2)).status().code() == Code::kBadSignature);
  // Another log's key.
  Fixture g(11);
  LogPolicy wrong_log = f.Policy(0);
  wrong_log.log = g.log.Verifier();
  wrong_log.log.name = f.log.name;  // same name, other key: its key ID differs, so no line is its
  CHECK_FALSE(VerifyProof(View(f.entries[5]), text, wrong_log).ok());
  CHECK(VerifyProof(View(f.entries[5]), text, g.Policy(0)).status().code() == Code::kUntrustedSigner);
}

TEST_CASE("witness quorums count distinct configured witnesses, and stale checkpoints are refused", "[tlog-proof]") {
  Fixture f(4);
  // Only w1, its cosignature repeated three times.
  Note note = *ParseNote(f.checkpoint);
  Note only_w1{note.text, {note.signatures[0], note.signatures[1], note.signatures[1], note.signatures[1]}};
  Proof p = f.For(2);
  p.checkpoint = FormatNote(only_w1);
  auto r = VerifyProof(View(f.entries[2]), FormatProof(p), f.Policy(2));
  CHECK(r.status().code() == Code::kTooFewWitnesses);
  CHECK(VerifyProof(View(f.entries[2]), FormatProof(p), f.Policy(1)).ok());
  // A witness nobody configured does not count.
  LogPolicy just_w2 = f.Policy(1);
  just_w2.witnesses = {f.w2.Verifier()};
  CHECK(VerifyProof(View(f.entries[2]), FormatProof(p), just_w2).status().code() == Code::kTooFewWitnesses);

  // Freshness: the newest counted cosignature (2000) against now and the allowed age.
  const std::string text = FormatProof(f.For(2));
  LogPolicy aged = f.Policy(2);
  aged.max_age_seconds = 500;
  CHECK(VerifyProof(View(f.entries[2]), text, aged, 2400).ok());
  CHECK(VerifyProof(View(f.entries[2]), text, aged, 2600).status().code() == Code::kLogStale);
  CHECK(VerifyProof(View(f.entries[2]), text, aged).ok());  // no trusted clock: not checked
  LogPolicy none = f.Policy(0);
  none.witnesses.clear();
  none.max_age_seconds = 500;
  CHECK(VerifyProof(View(f.entries[2]), text, none, 2400).status().code() == Code::kLogStale);
}

TEST_CASE("hostile proofs are refused by rule", "[tlog-proof]") {
  Fixture f(3);
  const std::string good = FormatProof(f.For(1));
  auto code = [](const std::string& text) { return ParseProof(text).status().code(); };
  CHECK(code("") == Code::kMalformed);
  CHECK(code("c2sp.org/tlog-proof@v2\nindex 0\n\n" + f.checkpoint) == Code::kMalformed);
  CHECK(code("c2sp.org/tlog-proof@v1\nindex 01\n\n" + f.checkpoint) == Code::kMalformed);
  CHECK(code("c2sp.org/tlog-proof@v1\nindex -1\n\n" + f.checkpoint) == Code::kMalformed);
  CHECK(code("c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\n" + f.checkpoint) == Code::kMalformed);
  CHECK(code("c2sp.org/tlog-proof@v1\nindex 0\n" + f.checkpoint) == Code::kMalformed);  // no blank line
  std::string crlf = good;
  crlf.replace(crlf.find('\n'), 1, "\r\n");
  CHECK(code(crlf) == Code::kMalformed);
  // Non-canonical base64 of a hash (a set pad bit), and a hash of 31 bytes.
  std::string h = Base64Encode(Bytes(32, 0));
  std::string bad_bits = h;
  bad_bits[42] = 'B';
  CHECK(code("c2sp.org/tlog-proof@v1\nindex 0\n" + bad_bits + "\n\n" + f.checkpoint) == Code::kMalformed);
  CHECK(code("c2sp.org/tlog-proof@v1\nindex 0\n" + Base64Encode(Bytes(31, 0)) + "\n\n" + f.checkpoint) == Code::kMalformed);
  // 64 and 65 hashes: over the cap before any hashing.
  std::string many = "c2sp.org/tlog-proof@v1\nindex 0\n";
  for (int i = 0; i < 65; ++i) many += h + "\n";
  CHECK(code(many + "\n" + f.checkpoint) == Code::kTooLarge);
  // Oversize.
  CHECK(code(good + std::string(kMaxProofSize, 'a')) == Code::kTooLarge);
  // Every truncation of a good proof is refused (cut after a whole signature line, it lacks a
  // witness the policy needs).
  for (size_t n = 0; n < good.size(); ++n) {
    CHECK_FALSE(VerifyProof(View(f.entries[1]), good.substr(0, n), f.Policy(2)).ok());
  }
}
