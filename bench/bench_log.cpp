// The transparency log against named anchors, in one run (issue 12, cache/log.md):
//   appending N vouchers to a log   vs  importing them into a cache without one (goal: the
//                                       difference at most 10% of the import)
//   vouch log prove, 1,000,000 leaves  vs  `git cat-file -p log:checkpoint` (a process that
//                                       opens the repository and reads one blob); goal < 10 ms
//   a device's proof check          vs  the same fetch by a device with no log policy (a
//     (3 cosignatures, 1,000,000       checkpoint with 3 cosignatures, inclusion at leaf
//      leaves)                          777,777 of 1,000,000); goal at most +10%
//
//   bench_log [N] [LEAVES]          defaults: 100000 vouchers to import, 1000000 leaves
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "bench/run.h"
#include "bench/synthetic_vouchers.h"
#include "formats/envelope.h"
#include "formats/layout.h"
#include "formats/tlog/checkpoint.h"
#include "formats/tlog/cosignature.h"
#include "formats/tlog/proof.h"
#include "formats/tlog/tiles.h"
#include "libvoucher/device_state.h"
#include "libvoucher/encoding.h"
#include "libvoucher/file.h"
#include "libvoucher/issue.h"
#include "libvoucher/udf.h"

using namespace vouch;
namespace fs = std::filesystem;
namespace tlog = formats::tlog;

namespace {

const std::string kVouch = VOUCH_PATH;
const std::string kVouchDevice = VOUCH_DEVICE_PATH;

void Row(const char* name, const bench::RunResult& x) {
  std::printf("  %-52s %9.4f %10.1f %6d\n", name, x.seconds, static_cast<double>(x.max_rss_kib) / 1024, x.exit_code);
}
void Header(const char* anchor) {
  std::printf("\nanchor: %s\n  %-52s %9s %10s %6s\n", anchor, "run", "seconds", "peak MiB", "exit");
}

bool Check(const Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return s.ok();
}

// Part 1: import N vouchers into a plain cache and into a logged one, 3 times each.
void Append(const fs::path& work, size_t n) {
  std::printf("building %zu vouchers...\n", n);
  bench::MakeVouchers(work / "vouchers", n, 1, nullptr);
  std::vector<bench::RunResult> plain, logged;
  for (int i = 0; i < 4; ++i) {
    fs::remove_all(work / "plain.git");
    fs::remove_all(work / "logged.git");
    bench::RunOnce({kVouch, "cache", "init", "--cache", (work / "plain.git").string()});
    bench::RunOnce({kVouch, "cache", "init", "--cache", (work / "logged.git").string()});
    bench::RunOnce({kVouch, "log", "init", "--cache", (work / "logged.git").string(), "--origin", "bench.example/log", "--key",
                    (work / "log.key").string()});
    // Alternating which goes first, so neither always meets a warmer page cache.
    auto run_plain = [&] {
      plain.push_back(bench::RunOnce({kVouch, "cache", "import", "--cache", (work / "plain.git").string(), (work / "vouchers").string()}));
    };
    auto run_logged = [&] {
      logged.push_back(bench::RunOnce({kVouch, "cache", "import", "--cache", (work / "logged.git").string(), (work / "vouchers").string()}));
    };
    if (i % 2 == 0) {
      run_plain();
      run_logged();
    } else {
      run_logged();
      run_plain();
    }
  }
  auto p = bench::Median(plain), l = bench::Median(logged);
  Header("cache import of the same vouchers into a cache without a log");
  Row("cache import, no log (anchor)", p);
  Row("cache import, logged (append + checkpoint)", l);
  std::printf("  log cost: %+.1f%% of the import (goal <= 10%%)\n", (l.seconds - p.seconds) / p.seconds * 100);
  fs::remove_all(work / "vouchers");
}

// Part 2 and 3 share a log of `leaves` leaves: random leaf hashes but for a few real
// vouchers, written to a cache's log branch with git fast-import (building it through
// imports would take hours and measure nothing new).
struct Log {
  tlog::NoteSigner signer;
  std::vector<tlog::Cosigner> witnesses;
  std::vector<tlog::Hash> leaves;
  std::string note;
};

Result<Log> MakeLog(size_t n, const std::vector<std::pair<size_t, Bytes>>& real) {
  Log log;
  VOUCH_ASSIGN_OR_RETURN(log.signer, tlog::NoteSigner::Make("bench.example/log", *ed25519::PrivateKey::Generate()));
  for (int i = 0; i < 3; ++i) {
    VOUCH_ASSIGN_OR_RETURN(tlog::Cosigner w, tlog::Cosigner::Make("w" + std::to_string(i) + ".example", *ed25519::PrivateKey::Generate()));
    log.witnesses.push_back(std::move(w));
  }
  std::mt19937_64 rng(7);
  log.leaves.resize(n);
  for (auto& h : log.leaves) for (auto& b : h) b = static_cast<uint8_t>(rng());
  for (const auto& [i, bytes] : real) {
    VOUCH_ASSIGN_OR_RETURN(log.leaves[i], tlog::LeafHash(bytes));
  }
  VOUCH_ASSIGN_OR_RETURN(tlog::Hash root, tlog::TreeRoot(log.leaves));
  VOUCH_ASSIGN_OR_RETURN(std::string text, tlog::FormatCheckpoint({log.signer.name, n, root, {}}));
  std::vector<tlog::NoteSigner> by{log.signer};
  VOUCH_ASSIGN_OR_RETURN(std::string signed_note, tlog::SignNote(text, by));
  VOUCH_ASSIGN_OR_RETURN(tlog::Note note, tlog::ParseNote(signed_note));
  for (const auto& w : log.witnesses) {
    VOUCH_ASSIGN_OR_RETURN(tlog::NoteSignature line, w.Cosign(text, static_cast<uint64_t>(std::time(nullptr))));
    note.signatures.push_back(line);
  }
  log.note = tlog::FormatNote(note);
  return log;
}

void Blob(std::ostream& s, const std::string& path, const std::string& data) {
  s << "M 100644 inline " << path << "\ndata " << data.size() << "\n" << data << "\n";
}

// Part 2: `vouch log prove` in a cache whose log has `n` leaves.
int Prove(const fs::path& work, size_t n) {
  // The real vouchers: 16 at spread-out leaves, on the vouchers branch.
  std::vector<std::pair<size_t, Bytes>> real;
  std::vector<std::string> paths(n);
  std::mt19937_64 rng(3);
  for (size_t i = 0; i < n; ++i) {
    Bytes key(91);
    for (auto& b : key) b = static_cast<uint8_t>(rng());
    Bytes id(32);
    for (auto& b : id) b = static_cast<uint8_t>(rng());
    paths[i] = formats::LayoutPath({udf::KeyFingerprint(key), formats::VoucherId(formats::EnvelopeKind::kJws, id), formats::EnvelopeKind::kJws});
  }
  fs::create_directories(work / "real");
  bench::MakeVouchers(work / "real", 16, 9, nullptr);
  size_t k = 0;
  for (auto& e : fs::recursive_directory_iterator(work / "real")) {
    if (!e.is_regular_file()) continue;
    size_t at = (k * 62497 + 11) % n;
    Bytes bytes = *ReadFile(e.path(), 1 << 16);
    paths[at] = fs::relative(e.path(), work / "real").string();
    real.emplace_back(at, std::move(bytes));
    ++k;
  }
  std::printf("building a log of %zu leaves...\n", n);
  auto log = MakeLog(n, real);
  if (!log.ok()) return Check(log.status(), "log"), 1;
  fs::path cache = work / "prove.git";
  bench::RunOnce({kVouch, "cache", "init", "--cache", cache.string()});
  bench::RunOnce({kVouch, "cache", "import", "--cache", cache.string(), (work / "real").string()});
  // The log branch, as SyncLog lays it out, through git fast-import; it covers the branch.
  std::string tip_cmd = "git --git-dir '" + cache.string() + "' rev-parse refs/heads/vouchers > '" + (work / "tip").string() + "'";
  if (std::system(tip_cmd.c_str()) != 0) return std::fprintf(stderr, "rev-parse failed\n"), 1;
  std::string tip;
  std::getline(std::ifstream(work / "tip"), tip);
  {
    std::ofstream s(work / "log.stream", std::ios::binary);
    s << "commit refs/heads/log\ncommitter bench <bench@example> 0 +0000\ndata 5\nbench\n";
    Blob(s, "checkpoint", log->note);
    Blob(s, "covers", tip + "\n");
    tlog::TileHashes none(0, [](const std::string& p) -> Result<Bytes> { return Error(Code::kInternal, p); });
    auto all = tlog::AppendTiles(none, log->leaves);
    for (const auto& t : *all) Blob(s, t.Path(), std::string(t.data.begin(), t.data.end()));
    for (size_t at = 0; at < n; at += 256) {
      std::string text;
      size_t w = std::min<size_t>(256, n - at);
      for (size_t i = 0; i < w; ++i) text += paths[at + i] + "\n";
      std::string p = "index/" + tlog::TileIndexPath(at / 256) + (w < 256 ? ".p/" + std::to_string(w) : "");
      Blob(s, p, text);
    }
  }
  std::string cmd = "git --git-dir '" + cache.string() + "' fast-import --quiet < '" + (work / "log.stream").string() + "'";
  if (std::system(cmd.c_str()) != 0) return std::fprintf(stderr, "fast-import failed\n"), 1;
  // The cache is this log's: its config names the key the checkpoint was signed with.
  std::string conf = "origin " + log->signer.name + "\nkey " + (work / "unused.key").string() + "\nvkey " + log->signer.Verifier().Text() + "\n";
  if (!Check(WriteFileAtomic(cache / "vouch" / "log.conf", AsBytes(conf)), "log.conf")) return 1;
  const std::string target = paths[real[5].first];
  auto first = bench::RunOnce({kVouch, "log", "prove", "--cache", cache.string(), target});
  auto prove = bench::RunMedian({kVouch, "log", "prove", "--cache", cache.string(), target}, 15);
  auto by_id = bench::RunMedian({kVouch, "log", "prove", "--cache", cache.string(), fs::path(target).stem().string()}, 15);
  auto anchor = bench::RunMedian({"git", "--git-dir", cache.string(), "cat-file", "-p", "refs/heads/log:checkpoint"}, 15);
  Header("git cat-file -p refs/heads/log:checkpoint (a process opening the repository)");
  Row("git cat-file (anchor)", anchor);
  Row("vouch log prove PATH, first run (builds the lookup)", first);
  Row("vouch log prove PATH", prove);
  Row("vouch log prove ID", by_id);
  std::printf("  %zu leaves: prove %.1f ms (goal < 10 ms), ratio to git cat-file %.2f\n", n, prove.seconds * 1000,
              prove.seconds / anchor.seconds);
  return 0;
}

// Part 3: a device fetching its voucher with its proof, with and without a log policy.
int Device(const fs::path& work, size_t n) {
  CertSpec ca;
  ca.common_name = "Bench CA";
  ca.ca = true;
  auto mfr = *PrivateKey::Generate();
  auto root = *SelfSign(mfr, ca);
  const std::vector<std::string> states = {"plain", "insist"};
  for (const auto& name : states) {
    InitOptions o;
    o.serial_number = "BENCH-1";
    o.anchors = {root};
    auto device = DeviceState::Init(work / name, o);
    if (!device.ok()) return Check(device.status(), "device"), 1;
  }
  // One voucher per device, each at its own leaf of the same log.
  std::vector<std::pair<size_t, Bytes>> real;
  std::vector<std::string> paths;
  for (const auto& name : states) {
    auto device = DeviceState::Open(work / name);
    if (!device.ok()) return Check(device.status(), "device"), 1;
    DraftRequest r;
    r.device_key = device->identity().key.Public();
    r.serial_number = "BENCH-1";
    r.domain_ca = root;
    r.domain_ca_key = mfr;
    auto draft = *DraftVoucher(r);
    formats::Envelope env = *formats::SignVoucher(draft.voucher, formats::EnvelopeKind::kJws, {mfr, {root}});
    paths.push_back(formats::LayoutPath({device->identity().udf, env.id, env.kind}));
    real.emplace_back(real.empty() ? 777777 % n : 777778 % n, env.bytes);
  }
  std::printf("building a log of %zu leaves for the device...\n", n);
  auto log = MakeLog(n, real);
  if (!log.ok()) return Check(log.status(), "log"), 1;
  for (size_t i = 0; i < real.size(); ++i) {
    fs::path stick = work / ("stick-" + states[i]);
    fs::create_directories((stick / paths[i]).parent_path());
    if (!Check(WriteFileAtomic(stick / paths[i], real[i].second), "voucher")) return 1;
    tlog::Proof proof{std::nullopt, real[i].first, *tlog::InclusionProof(log->leaves, real[i].first, n), log->note};
    if (!Check(WriteFileAtomic(fs::path(stick / paths[i]).string() + ".tlog-proof", AsBytes(tlog::FormatProof(proof))), "proof")) return 1;
  }
  std::vector<std::string> policy = {kVouchDevice, "log-policy", "--state", (work / "insist").string(), "--log-key",
                                     log->signer.Verifier().Text(), "--witnesses", "3"};
  for (const auto& w : log->witnesses) {
    policy.push_back("--witness");
    policy.push_back(w.Verifier().Text());
  }
  if (bench::RunOnce(policy).exit_code != 0) return std::fprintf(stderr, "vouch-device log-policy failed\n"), 1;
  auto plain = bench::RunMedian({kVouchDevice, "fetch", "--dry-run", "--state", (work / "plain").string(), (work / "stick-plain").string()}, 15);
  auto insist = bench::RunMedian({kVouchDevice, "fetch", "--dry-run", "--state", (work / "insist").string(), (work / "stick-insist").string()}, 15);
  Header("vouch-device fetch --dry-run by a device with no log policy (the same stick layout)");
  Row("fetch, no policy (anchor)", plain);
  Row("fetch, log + 3 of 3 witnesses, 1M-leaf proof", insist);
  std::printf("  proof check: %+.1f%% of the fetch (goal <= 10%%); exits %d and %d (0: enrolls)\n",
              (insist.seconds - plain.seconds) / plain.seconds * 100, plain.exit_code, insist.exit_code);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::stoul(argv[1]) : 100000;
  size_t leaves = argc > 2 ? std::stoul(argv[2]) : 1000000;
  fs::path work = fs::temp_directory_path() / ("vouch-bench-log-" + std::to_string(getpid()));
  fs::create_directories(work);
  // Each part builds in a child, so its memory is not counted in the processes measured.
  auto part = [&](auto fn, const char* name, size_t arg) {
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      int rc = fn(work / name, arg);
      std::fflush(stdout);  // _exit does not flush
      _exit(rc);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  };
  fs::create_directories(work / "append");
  fs::create_directories(work / "prove");
  fs::create_directories(work / "device");
  bool ok = part([](const fs::path& w, size_t k) { Append(w, k); return 0; }, "append", n);
  ok = part(Prove, "prove", leaves) && ok;
  ok = part(Device, "device", leaves) && ok;
  if (!std::getenv("VOUCH_BENCH_KEEP")) fs::remove_all(work);
  else std::printf("kept %s\n", work.c_str());
  return ok ? 0 : 1;
}
