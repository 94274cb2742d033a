// tlog_tool: vouch's side of tests/integration/tlog_go.sh, the same commands as
// tests/tlog_go/main.go so the script can cross every producer with every checker.
//
//   tlog_tool keygen NAME                          prints the signer key, then the vkey
//   tlog_tool sign SKEY-FILE TEXT-FILE             prints the signed note
//   tlog_tool open VKEY NOTE-FILE                  prints the note text; exit 1 if refused
//   tlog_tool root LEAF-FILE...                    base64 tree head of the leaves
//   tlog_tool prove-record INDEX LEAF-FILE...      inclusion proof, one base64 hash a line
//   tlog_tool prove-tree OLD LEAF-FILE...          consistency proof from OLD to all leaves
//   tlog_tool check-record INDEX SIZE ROOT LEAF-FILE [HASH...]
//   tlog_tool check-tree OLD OLD-ROOT NEW NEW-ROOT [HASH...]
//
// And the device side's test artifacts (tests/integration/device_log.sh), made with
// formats/tlog only so that the test does not depend on the cache's log commands:
//   tlog_tool witness-keygen NAME                  prints the witness's key (Go's signer key
//                                                  text, the seed), then its cosigner vkey
//   tlog_tool proof LOG-SKEY-FILE TIME WITNESSES INDEX ENTRY-FILE...
//       prints the c2sp.org/tlog-proof@v1 of entry INDEX in the log of the ENTRY-FILEs (in
//       that order), its checkpoint signed by the log key and cosigned at TIME (unix seconds,
//       "now" or "now-N") by each of WITNESSES (comma-separated witness key files, repeats
//       kept, or "none")
//   tlog_tool bundle OUT-DIR VOUCHER-FILE...       writes one bundle of the vouchers, each
//                                                  with FILE.tlog-proof when it exists
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "formats/bundle.h"
#include "formats/envelope.h"
#include "formats/layout.h"
#include "formats/tlog/checkpoint.h"
#include "formats/tlog/cosignature.h"
#include "formats/tlog/merkle.h"
#include "formats/tlog/note.h"
#include "formats/tlog/proof.h"
#include "formats/voucher_json.h"
#include "libvoucher/instant.h"
#include "libvoucher/encoding.h"
#include "libvoucher/file.h"

using namespace vouch;
using namespace vouch::formats::tlog;

namespace {

[[noreturn]] void Die(const Status& s) {
  std::fprintf(stderr, "tlog_tool: %s\n", s.ToString().c_str());
  std::exit(1);
}

template <class T>
T Must(Result<T> r) {
  if (!r.ok()) Die(r.status());
  return std::move(r).value();
}

std::string ReadText(const char* path) {
  Bytes b = Must(ReadFile(path, kMaxNoteSize + 1));
  return std::string(AsChars(b));
}

uint64_t Num(const char* s) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (*s == '\0' || *end != '\0') Die(Error(Code::kUsage, std::string("not a number: ") + s));
  return v;
}

Hash ParseHash(const std::string& b64) {
  Bytes b = Must(Base64Decode(b64));
  if (b.size() != 32) Die(Error(Code::kMalformed, "hash not 32 bytes: " + b64));
  Hash h{};
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

std::string Show(const Hash& h) { return Base64Encode(ByteView(h.data(), h.size())); }

std::vector<Hash> LeafHashes(int argc, char** argv, int from) {
  std::vector<Hash> out;
  for (int i = from; i < argc; ++i) {
    Bytes data = Must(ReadFile(argv[i], 1 << 20));
    out.push_back(Must(LeafHash(data)));
  }
  return out;
}

std::vector<Hash> Hashes(int argc, char** argv, int from) {
  std::vector<Hash> out;
  for (int i = from; i < argc; ++i) out.push_back(ParseHash(argv[i]));
  return out;
}

std::string Line(const char* path) {
  std::string s = ReadText(path);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

uint64_t Time(const std::string& s) {
  uint64_t now = static_cast<uint64_t>(Instant::Now().seconds());
  if (s == "now") return now;
  if (s.rfind("now-", 0) == 0) return now - Num(s.c_str() + 4);
  return Num(s.c_str());
}

int PrintProof(int argc, char** argv) {
  NoteSigner log = Must(NoteSigner::Parse(Line(argv[2])));
  uint64_t time = Time(argv[3]);
  std::vector<Cosigner> witnesses;
  for (std::string rest = argv[4]; rest != "none" && !rest.empty();) {
    size_t comma = rest.find(',');
    NoteSigner w = Must(NoteSigner::Parse(Line(rest.substr(0, comma).c_str())));
    witnesses.push_back(Must(Cosigner::Make(w.name, std::move(w.key))));
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }
  uint64_t index = Num(argv[5]);
  auto leaves = LeafHashes(argc, argv, 6);
  Checkpoint c{log.name, leaves.size(), Must(TreeRoot(leaves)), {}};
  const std::string text = Must(FormatCheckpoint(c));
  std::vector<NoteSigner> signers{log};
  Note note = Must(ParseNote(Must(SignNote(text, signers))));
  for (const Cosigner& w : witnesses) note.signatures.push_back(Must(w.Cosign(text, time)));
  formats::tlog::Proof p{std::nullopt, index, Must(InclusionProof(leaves, index, leaves.size())), FormatNote(note)};
  std::fputs(FormatProof(p).c_str(), stdout);
  return 0;
}

int WriteBundle(int argc, char** argv) {
  std::vector<formats::PackedVoucher> vs;
  for (int i = 3; i < argc; ++i) {
    formats::Envelope e = Must(formats::Identify(Must(ReadFile(argv[i], formats::kMaxVoucherSize))));
    formats::LayoutEntry filed = Must(formats::LayoutEntryOf(e));
    formats::PackedVoucher v{formats::LayoutPath(filed), std::move(e.bytes)};
    std::string proof = std::string(argv[i]) + ".tlog-proof";
    if (FILE* f = std::fopen(proof.c_str(), "rb")) {
      std::fclose(f);
      v.proof = Must(ReadFile(proof, kMaxProofSize + 1));
    }
    vs.push_back(std::move(v));
  }
  for (const auto& b : Must(formats::WriteBundles(argv[2], std::move(vs)))) std::printf("%s\n", b.path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Die(Error(Code::kUsage, "see the comment at the top of tlog_tool.cpp"));
  const std::string cmd = argv[1];
  if (cmd == "keygen" && argc == 3) {
    NoteSigner s = Must(NoteSigner::Make(argv[2], Must(ed25519::PrivateKey::Generate())));
    std::printf("%s\n%s\n", std::string(AsChars(s.Text().view())).c_str(), s.Verifier().Text().c_str());
  } else if (cmd == "witness-keygen" && argc == 3) {
    NoteSigner s = Must(NoteSigner::Make(argv[2], Must(ed25519::PrivateKey::Generate())));
    Cosigner w = Must(Cosigner::Make(s.name, s.key));
    std::printf("%s\n%s\n", std::string(AsChars(s.Text().view())).c_str(), w.Verifier().Text().c_str());
  } else if (cmd == "proof" && argc >= 7) {
    return PrintProof(argc, argv);
  } else if (cmd == "bundle" && argc >= 4) {
    return WriteBundle(argc, argv);
  } else if (cmd == "sign" && argc == 4) {
    std::string skey = ReadText(argv[2]);
    while (!skey.empty() && skey.back() == '\n') skey.pop_back();
    std::vector<NoteSigner> signers{Must(NoteSigner::Parse(skey))};
    std::fputs(Must(SignNote(ReadText(argv[3]), signers)).c_str(), stdout);
  } else if (cmd == "open" && argc == 4) {
    std::vector<NoteVerifier> known{Must(NoteVerifier::Parse(argv[2]))};
    std::fputs(Must(OpenNote(ReadText(argv[3]), known)).text.c_str(), stdout);
  } else if (cmd == "root") {
    std::printf("%s\n", Show(Must(TreeRoot(LeafHashes(argc, argv, 2)))).c_str());
  } else if (cmd == "prove-record" && argc >= 4) {
    auto leaves = LeafHashes(argc, argv, 3);
    for (const Hash& h : Must(InclusionProof(leaves, Num(argv[2]), leaves.size()))) std::printf("%s\n", Show(h).c_str());
  } else if (cmd == "prove-tree" && argc >= 4) {
    auto leaves = LeafHashes(argc, argv, 3);
    for (const Hash& h : Must(ConsistencyProof(leaves, Num(argv[2]), leaves.size()))) std::printf("%s\n", Show(h).c_str());
  } else if (cmd == "check-record" && argc >= 6) {
    Hash leaf = LeafHashes(6, argv, 5)[0];
    Status s = VerifyInclusion(Num(argv[2]), Num(argv[3]), leaf, Hashes(argc, argv, 6), ParseHash(argv[4]));
    if (!s.ok()) Die(s);
  } else if (cmd == "check-tree" && argc >= 6) {
    Status s = VerifyConsistency(Num(argv[2]), Num(argv[4]), ParseHash(argv[3]), ParseHash(argv[5]), Hashes(argc, argv, 6));
    if (!s.ok()) Die(s);
  } else {
    Die(Error(Code::kUsage, "unknown command or wrong arguments: " + cmd));
  }
  return 0;
}
