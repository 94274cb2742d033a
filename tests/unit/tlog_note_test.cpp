#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "formats/tlog/note.h"
#include "libvoucher/encoding.h"
#include "testutil.h"

using namespace vouch;
using namespace vouch::formats::tlog;

namespace {

// The keys, text and signatures of Go's golang.org/x/mod/sumdb/note tests and examples: the
// reference implementation's own published values.
const std::string kPeterVkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const std::string kPeterSkey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const std::string kEnochVkey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const std::string kText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
const std::string kPeterSig =
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const std::string kEnochSig =
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

std::vector<NoteVerifier> Known(std::initializer_list<std::string> vkeys) {
  std::vector<NoteVerifier> out;
  for (const auto& k : vkeys) out.push_back(*NoteVerifier::Parse(k));
  return out;
}

}  // namespace

TEST_CASE("Go's example signer key signs Go's example note byte for byte", "[tlog-note]") {
  auto signer = NoteSigner::Parse(kPeterSkey);
  REQUIRE(signer.ok());
  CHECK(signer->key_id == 0xc74f20a3);
  CHECK(signer->Verifier().Text() == kPeterVkey);
  CHECK(AsChars(signer->Text().view()) == kPeterSkey);
  std::vector<NoteSigner> signers{*signer};
  CHECK(*SignNote(kText, signers) == kText + "\n" + kPeterSig);
}

TEST_CASE("Go's example notes open with the keys that signed them, unknown keys ignored", "[tlog-note]") {
  auto peter = Known({kPeterVkey});
  auto enoch = Known({kEnochVkey});
  auto both = Known({kPeterVkey, kEnochVkey});
  const std::string msg = kText + "\n" + kPeterSig + kEnochSig;

  auto n = OpenNote(msg, peter);
  REQUIRE(n.ok());
  CHECK(n->text == kText);
  REQUIRE(n->signatures.size() == 2);
  CHECK(n->signatures[0].verified);
  CHECK_FALSE(n->signatures[1].verified);
  CHECK(n->signatures[1].name == "EnochRoot");
  CHECK(n->signatures[1].key_id == 0xaf0cfe78);
  CHECK(OpenNote(msg, enoch)->signatures[1].verified);
  CHECK(OpenNote(msg, both)->signatures[0].verified);
  CHECK(FormatNote(*n) == msg);

  // Nobody known: refused as untrusted. A known key's bad signature refuses the whole note.
  CHECK(OpenNote(kText + "\n" + kEnochSig, peter).status().code() == Code::kUntrustedSigner);
  CHECK(OpenNote(kText + "\n" + kPeterSig, {}).status().code() == Code::kUntrustedSigner);
  CHECK(OpenNote("Other text.\n\n" + kPeterSig + kEnochSig, enoch).status().code() == Code::kBadSignature);
  // Same name, another key ID (or the reverse): an unknown key, ignored.
  std::string wrong_id = kPeterSig;
  wrong_id.replace(wrong_id.find("x08go"), 5, "y08go");
  CHECK(OpenNote(kText + "\n" + wrong_id + kEnochSig, both)->signatures[0].verified == false);
  CHECK(OpenNote(kText + "\n" + wrong_id, peter).status().code() == Code::kUntrustedSigner);
}

TEST_CASE("Go's vkey manglings are all refused, each with a precise code", "[tlog-note]") {
  REQUIRE(NoteVerifier::Parse(kPeterVkey).ok());
  for (size_t i = 0; i <= kPeterVkey.size(); ++i) {
    for (size_t j = i + 1; j <= kPeterVkey.size(); ++j) {
      if (i == 0 && j == kPeterVkey.size()) continue;
      INFO(kPeterVkey.substr(i, j - i));
      CHECK_FALSE(NoteVerifier::Parse(kPeterVkey.substr(i, j - i)).ok());
    }
  }
  for (size_t i = 0; i < kPeterVkey.size(); ++i) {
    std::string k = kPeterVkey;
    ++k[i];
    INFO(k);
    CHECK_FALSE(NoteVerifier::Parse(k).ok());
  }
  CHECK(NoteVerifier::Parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==").status().code() ==
        Code::kMalformed);
  CHECK(NoteVerifier::Parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").status().code() ==
        Code::kUnsupported);
  CHECK(NoteVerifier::Parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").status().code() ==
        Code::kInvalidKey);
  CHECK(NoteVerifier::Parse(std::string(5000, 'a')).status().code() == Code::kTooLarge);
  // Upper-case hex is Go's too.
  CHECK(NoteVerifier::Parse("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").ok());
  CHECK(NoteSigner::Parse("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz").status().code() ==
        Code::kInvalidKey);
  CHECK(NoteSigner::Parse(kPeterVkey).status().code() == Code::kMalformed);
}

TEST_CASE("key names: no spaces of any kind, no plus, not empty", "[tlog-note]") {
  CHECK(IsValidKeyName("example.com/log"));
  CHECK(IsValidKeyName("quasimodo.example/salvatore"));
  CHECK(IsValidKeyName("ünïcode"));
  for (const char* bad : {"", "a b", "a+b", "a\tb", "a\xC2\xA0" "b", "a\xE3\x80\x80" "b", "a\xE2\x80\xA8" "b", "\xff", "a\x01"}) {
    INFO(bad);
    CHECK_FALSE(IsValidKeyName(bad));
  }
}

TEST_CASE("hostile notes are refused by rule and never crash", "[tlog-note]") {
  auto peter = Known({kPeterVkey});
  const std::string good = kText + "\n" + kPeterSig;
  REQUIRE(OpenNote(good, peter).ok());

  // Go's own list of malformed messages.
  for (const std::string& bad : {kText, kText + "\n", kText + "\n" + kPeterSig.substr(0, kPeterSig.size() - 1),
                                 "\x01" + kText + "\n" + kPeterSig, "\xff" + kText + "\n" + kPeterSig,
                                 kText + "\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
                                 kText + "\n" + kPeterSig + "Unexpected line.\n"}) {
    INFO(bad);
    CHECK(ParseNote(bad).status().code() == Code::kMalformed);
  }

  // CRLF anywhere.
  std::string crlf = good;
  crlf.replace(crlf.find('\n'), 1, "\r\n");
  CHECK(ParseNote(crlf).status().code() == Code::kMalformed);
  // Non-canonical base64: non-zero pad bits, missing padding, a newline inside.
  std::string noncanon = good;
  noncanon.replace(noncanon.find("AM="), 3, "AN=");
  CHECK(ParseNote(noncanon).status().code() == Code::kMalformed);
  std::string unpadded = good;
  unpadded.erase(unpadded.find("AM=") + 2, 1);
  CHECK(ParseNote(unpadded).status().code() == Code::kMalformed);
  // A hyphen or two spaces instead of the em dash and one space.
  CHECK(ParseNote(kText + "\n- PeterNeumann x08go/ZJkuBS9U=\n").status().code() == Code::kMalformed);
  CHECK(ParseNote(kText + "\n—  PeterNeumann x08go/ZJkuBS9U=\n").status().code() == Code::kMalformed);
  // Under five bytes: a key ID and no signature.
  CHECK(ParseNote(kText + "\n— PeterNeumann x08gow==\n").status().code() == Code::kMalformed);
  // An empty signature line.
  CHECK(ParseNote(kText + "\n" + kPeterSig + "\n").status().code() == Code::kMalformed);
  // Over the caps: 10,000 signature lines, and a note over 1 MiB.
  std::string many = kText + "\n";
  for (int i = 0; i < 10000; ++i) many += kEnochSig;
  CHECK(ParseNote(many).status().code() == Code::kTooLarge);
  std::string hundred = kText + "\n";
  for (size_t i = 0; i < kMaxNoteSignatures - 1; ++i) hundred += kEnochSig;
  CHECK(OpenNote(hundred + kPeterSig, peter).ok());
  CHECK(ParseNote(hundred + kEnochSig + kPeterSig).status().code() == Code::kTooLarge);
  CHECK(ParseNote(std::string(kMaxNoteSize, 'a') + "\n\n" + kPeterSig).status().code() == Code::kTooLarge);
  // An unknown signature type with a matching name is just an unknown key.
  CHECK(OpenNote(good + "— PeterNeumann AAAAAAAAAA==\n", peter).ok());
  // Every truncation of a good note: refused or (never) accepted, never a crash.
  for (size_t n = 0; n < good.size(); ++n) CHECK_FALSE(OpenNote(good.substr(0, n), peter).ok());
}

TEST_CASE("notes signed by fresh keys round-trip; texts that cannot be notes are refused", "[tlog-note]") {
  auto a = *NoteSigner::Make("log.example/a", *ed25519::PrivateKey::Generate());
  auto b = *NoteSigner::Make("log.example/b", *ed25519::PrivateKey::Generate());
  std::vector<NoteSigner> signers{a, b};
  const std::string text = "line one\n\nline three after a blank line\n";
  auto msg = SignNote(text, signers);
  REQUIRE(msg.ok());
  std::vector<NoteVerifier> vb{b.Verifier()};
  auto n = OpenNote(*msg, vb);
  REQUIRE(n.ok());
  CHECK(n->text == text);
  CHECK_FALSE(n->signatures[0].verified);
  CHECK(n->signatures[1].verified);
  auto reparsed = NoteVerifier::Parse(a.Verifier().Text());
  REQUIRE(reparsed.ok());
  CHECK(reparsed->public_key == a.key.PublicKey());
  auto skey = NoteSigner::Parse(std::string(AsChars(a.Text().view())));
  REQUIRE(skey.ok());
  CHECK(skey->key.PublicKey() == a.key.PublicKey());

  CHECK(SignNote("no newline", signers).status().code() == Code::kMalformed);
  CHECK(SignNote("crlf\r\n", signers).status().code() == Code::kMalformed);
  CHECK(SignNote("", signers).status().code() == Code::kMalformed);
  CHECK(SignNote(text, {}).status().code() == Code::kUsage);
  CHECK(NoteSigner::Make("bad name", *ed25519::PrivateKey::Generate()).status().code() == Code::kUsage);
}
