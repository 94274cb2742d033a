#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "formats/tlog/checkpoint.h"
#include "formats/tlog/cosignature.h"
#include "libvoucher/encoding.h"
#include "testutil.h"

using namespace vouch;
using namespace vouch::formats::tlog;

namespace {

// c2sp.org/tlog-checkpoint's example body.
const std::string kExample =
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

Checkpoint Sample(uint64_t size) {
  Checkpoint c;
  c.origin = "log.example/vouchers";
  c.size = size;
  c.root = *LeafHash(AsBytes("root " + std::to_string(size)));
  return c;
}

}  // namespace

TEST_CASE("the c2sp example checkpoint parses, and every checkpoint has one spelling", "[tlog-checkpoint]") {
  auto c = ParseCheckpoint(kExample);
  REQUIRE(c.ok());
  CHECK(c->origin == "example.com/behind-the-sofa");
  CHECK(c->size == 20852163);
  CHECK(Base64Encode(ByteView(c->root.data(), c->root.size())) == "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
  CHECK(c->extensions.empty());
  CHECK(*FormatCheckpoint(*c) == kExample);

  const std::string with_ext = kExample + "extension one\nextension two\n";
  auto e = ParseCheckpoint(with_ext);
  REQUIRE(e.ok());
  CHECK(e->extensions == std::vector<std::string>{"extension one", "extension two"});
  CHECK(*FormatCheckpoint(*e) == with_ext);

  Checkpoint empty = Sample(0);
  empty.root = *EmptyTreeRoot();
  auto text = FormatCheckpoint(empty);
  REQUIRE(text.ok());
  CHECK(text->find("\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n") != std::string::npos);
  CHECK(*ParseCheckpoint(*text) == empty);
  Checkpoint max = Sample(UINT64_MAX);
  CHECK(ParseCheckpoint(*FormatCheckpoint(max))->size == UINT64_MAX);
}

TEST_CASE("checkpoints that are not exactly the format are refused", "[tlog-checkpoint]") {
  const std::string root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
  const std::pair<std::string, Code> bad[] = {
      {"", Code::kMalformed},
      {"o\n1\n", Code::kMalformed},                            // two lines
      {"o\n1\n" + root, Code::kMalformed},                     // no final newline
      {"\n1\n" + root + "\n", Code::kMalformed},               // empty origin
      {"o\n01\n" + root + "\n", Code::kMalformed},             // leading zero
      {"o\n00\n" + root + "\n", Code::kMalformed},
      {"o\n+1\n" + root + "\n", Code::kMalformed},
      {"o\n-1\n" + root + "\n", Code::kMalformed},
      {"o\n 1\n" + root + "\n", Code::kMalformed},
      {"o\n18446744073709551616\n" + root + "\n", Code::kMalformed},  // 2^64
      {"o\n1\n" + root.substr(0, 43) + "\n", Code::kMalformed},        // unpadded
      {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", Code::kMalformed},  // pad bits
      {"o\n1\nAAAA\n", Code::kMalformed},                                         // 3 bytes
      {"o\n1\n" + root + "\n\n", Code::kMalformed},                               // empty extension
      {"o\r\n1\n" + root + "\n", Code::kMalformed},                               // CRLF
      {std::string(257, 'o') + "\n1\n" + root + "\n", Code::kTooLarge},
  };
  for (const auto& [text, code] : bad) {
    INFO(text);
    CHECK(ParseCheckpoint(text).status().code() == code);
  }
  std::string many = "o\n1\n" + root + "\n";
  for (size_t i = 0; i < kMaxCheckpointExtensions; ++i) many += "e\n";
  CHECK(ParseCheckpoint(many).ok());
  CHECK(ParseCheckpoint(many + "e\n").status().code() == Code::kTooLarge);

  Checkpoint c = Sample(3);
  c.origin = "two\nlines";
  CHECK(FormatCheckpoint(c).status().code() == Code::kUsage);
  c.origin = "";
  CHECK(FormatCheckpoint(c).status().code() == Code::kUsage);
}

TEST_CASE("a signed checkpoint opens only with its own log's key and origin", "[tlog-checkpoint]") {
  auto log = *NoteSigner::Make("log.example/vouchers", *ed25519::PrivateKey::Generate());
  auto other = *NoteSigner::Make("log.example/other", *ed25519::PrivateKey::Generate());
  const std::string text = *FormatCheckpoint(Sample(42));
  std::vector<NoteSigner> by_log{log}, by_other{other};
  const std::string signed_by_log = *SignNote(text, by_log);

  auto opened = OpenCheckpoint(signed_by_log, log.Verifier());
  REQUIRE(opened.ok());
  CHECK(opened->checkpoint == Sample(42));
  CHECK(OpenCheckpoint(signed_by_log, other.Verifier()).status().code() == Code::kUntrustedSigner);
  // The other log's key over this origin: its signature is fine, the origin is not its own.
  CHECK(OpenCheckpoint(*SignNote(text, by_other), other.Verifier()).status().code() == Code::kUntrustedSigner);
  // A signed note that is not a checkpoint.
  CHECK(OpenCheckpoint(*SignNote("log.example/vouchers\nhello\n", by_log), log.Verifier()).status().code() ==
        Code::kMalformed);
}

TEST_CASE("cosignatures sign cosignature/v1, the time and the checkpoint, and each witness counts once", "[tlog-cosignature]") {
  auto log = *NoteSigner::Make("log.example/vouchers", *ed25519::PrivateKey::Generate());
  auto w1 = *Cosigner::Make("witness.example/w1", *ed25519::PrivateKey::Generate());
  auto w2 = *Cosigner::Make("witness.example/w2", *ed25519::PrivateKey::Generate());
  const std::string text = *FormatCheckpoint(Sample(7));
  std::vector<NoteSigner> by_log{log};
  Note note = *ParseNote(*SignNote(text, by_log));

  auto c1 = w1.Cosign(text, 1679315147);
  REQUIRE(c1.ok());
  REQUIRE(c1->signature.size() == 72);
  CHECK(test::Hex("000000006418" "50cb") == Bytes(c1->signature.begin(), c1->signature.begin() + 8));
  // The signed message, built by hand from the spec's words.
  const std::string message = "cosignature/v1\ntime 1679315147\n" + text;
  CHECK(CosignedMessage(text, 1679315147) == message);
  CHECK(ed25519::Verify(w1.key.PublicKey(), AsBytes(message), ByteView(c1->signature).subspan(8)).ok());
  // The key ID uses type 0x04: the same key as a note key (0x01) has another ID.
  CHECK(w1.key_id == *KeyId(w1.name, 0x04, w1.key.PublicKey()));
  CHECK(w1.key_id != *KeyId(w1.name, 0x01, w1.key.PublicKey()));
  auto vkey = NoteVerifier::Parse(w1.Verifier().Text());
  REQUIRE(vkey.ok());
  CHECK(vkey->type == kSignatureTypeCosignature);

  note.signatures.push_back(*c1);
  note.signatures.push_back(*c1);                         // repeated
  note.signatures.push_back(*w1.Cosign(text, 1679315200));  // a later one by the same witness
  note.signatures.push_back(*w2.Cosign(text, 1679315100));
  const std::string cosigned = FormatNote(note);
  auto opened = OpenCheckpoint(cosigned, log.Verifier());  // the log's own check ignores them
  REQUIRE(opened.ok());
  std::vector<NoteVerifier> witnesses{w1.Verifier(), w2.Verifier()};
  auto got = VerifyCosignatures(opened->note, witnesses);
  REQUIRE(got.ok());
  REQUIRE(got->size() == 2);
  CHECK((*got)[0].name == "witness.example/w1");
  CHECK((*got)[0].timestamp == 1679315200);
  CHECK((*got)[1].timestamp == 1679315100);

  // A witness configured as a note key (type 0x01) matches no cosignature line.
  std::vector<NoteVerifier> as_note_key{*NoteVerifier::FromPublicKey(w1.name, 0x01, w1.key.PublicKey())};
  CHECK(VerifyCosignatures(opened->note, as_note_key)->empty());
  // The log's signature is not a cosignature.
  std::vector<NoteVerifier> log_only{log.Verifier()};
  CHECK(VerifyCosignatures(opened->note, log_only)->empty());
}

TEST_CASE("altered, short, far-future and misplaced cosignatures are refused", "[tlog-cosignature]") {
  auto w = *Cosigner::Make("witness.example/w", *ed25519::PrivateKey::Generate());
  std::vector<NoteVerifier> witnesses{w.Verifier()};
  const std::string text = *FormatCheckpoint(Sample(9));
  auto base = *w.Cosign(text, 1000);

  auto with = [&](NoteSignature s, const std::string& t = "") {
    Note n{t.empty() ? text : t, {std::move(s)}};
    return VerifyCosignatures(n, witnesses).status().code();
  };
  CHECK(with(base) == Code::kOk);
  NoteSignature later = base;
  later.signature[7] ^= 1;  // the time is signed
  CHECK(with(later) == Code::kBadSignature);
  NoteSignature flipped = base;
  flipped.signature[40] ^= 1;
  CHECK(with(flipped) == Code::kBadSignature);
  NoteSignature shorter = base;
  shorter.signature.pop_back();
  CHECK(with(shorter) == Code::kBadSignature);
  NoteSignature huge = base;
  huge.signature[0] = 0x80;
  CHECK(with(huge) == Code::kBadSignature);
  // Over another checkpoint (a fork, or a replay on a later tree).
  CHECK(with(base, *FormatCheckpoint(Sample(10))) == Code::kBadSignature);

  CHECK(w.Cosign("not a checkpoint\n", 1).status().code() == Code::kMalformed);
  CHECK(w.Cosign(text, kMaxCosignatureTime + 1).status().code() == Code::kUsage);
  CHECK(w.Cosign(text, kMaxCosignatureTime).ok());
}
