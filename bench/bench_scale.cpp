// vouch at scale (issue 16): every step a fleet's vouchers go through, at N real vouchers,
// each against a named anchor doing the same work with git, zip or unzip, in one run:
//
//   issue N (--batch, all cores)    vouchers/s (bench_issue holds its crypto anchor)
//   cache import                    git fast-import of the same blobs and tree
//   cache verify                    git cat-file --batch --batch-all-objects (reads every object)
//   cache get UDF                   git cat-file -p vouchers:<path>
//   cache list                      git ls-tree -r --name-only vouchers
//   cache status --json             git ls-tree -r vouchers (the walk, no blob read)
//   full pull, pull of 1% new       git fetch of the same into a bare repository
//   bundle create --cache (shards)  zip -r -0 of the same files
//   device fetch (sharded stick)    unzip -p of its voucher from its shard
//
// Each run is its own process (bench/run.h): wall time and peak resident memory. Goal: every
// peak under 128 MiB at any N; nothing growing faster than N, lookups not at all.
//
//   bench_scale [N...]        default: 100000; e.g. `bench_scale 10000 100000 1000000`
// VOUCH_BENCH_KEEP=1 keeps the work directories (under $TMPDIR).
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "bench/run.h"
#include "formats/layout.h"
#include "libvoucher/cert.h"
#include "libvoucher/device_state.h"
#include "libvoucher/encoding.h"
#include "libvoucher/file.h"
#include "libvoucher/key.h"

using namespace vouch;
namespace fs = std::filesystem;

namespace {

const std::string kVouch = VOUCH_PATH;
const std::string kVouchDevice = VOUCH_DEVICE_PATH;
constexpr double kGoalMiB = 128;

struct Row {
  std::string step, anchor;
  bench::RunResult ours, theirs;
};

// Forks `f` so what it allocates is never in the measured processes' peaks (a child's peak
// includes its parent's at exec time).
template <class F>
bool InChild(F f) {
  pid_t pid = fork();
  if (pid == 0) _exit(f() ? 0 : 1);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool Fail(const Status& s, const char* what) {
  std::fprintf(stderr, "bench_scale: %s: %s\n", what, s.ToString().c_str());
  return false;
}

// The PKI, one real device (state under work/device) and a fleet file of `n` devices whose
// first line is that device; `delta` more devices in a second file.
bool MakeFleet(const fs::path& work, size_t n, size_t delta) {
  CertSpec ca;
  ca.common_name = "Scale Manufacturer";
  ca.ca = true;
  auto mfr = PrivateKey::Generate();
  if (!mfr.ok()) return Fail(mfr.status(), "key");
  auto root = SelfSign(*mfr, ca);
  ca.common_name = "Scale Owner CA";
  auto owner = PrivateKey::Generate();
  auto owner_ca = SelfSign(*owner, ca);
  if (!root.ok() || !owner_ca.ok()) return Fail(root.status(), "certificates");
  for (auto [name, key] : {std::pair{"mfr.key", &*mfr}, std::pair{"owner.key", &*owner}}) {
    if (Status s = SavePrivatePem(work / name, key->Pkcs8Pem(), Overwrite::kYes); !s.ok()) return Fail(s, name);
  }
  (void)WriteFileAtomic(work / "mfr.pem", AsBytes(root->Pem()));
  (void)WriteFileAtomic(work / "owner.pem", AsBytes(owner_ca->Pem()));
  InitOptions o;
  o.serial_number = "SCALE-0";
  o.anchors = {*root};
  auto device = DeviceState::Init(work / "device", o);
  if (!device.ok()) return Fail(device.status(), "device");
  std::ofstream fleet(work / "fleet.csv"), more(work / "delta.csv");
  fleet << "SCALE-0," << Base64Encode(device->identity().key.Public().SpkiDer()) << "\n";
  for (size_t i = 1; i < n + delta; ++i) {
    auto k = PrivateKey::Generate();
    if (!k.ok()) return Fail(k.status(), "key");
    (i < n ? fleet : more) << "SCALE-" << i << "," << Base64Encode(k->Public().SpkiDer()) << "\n";
  }
  std::ofstream(work / "device.udf") << device->identity().udf;
  return true;
}

// The same blobs and tree as `git fast-import` takes them.
bool MakeStream(const fs::path& src, const fs::path& stream_path) {
  std::ofstream stream(stream_path, std::ios::binary);
  std::ostringstream tree;
  size_t mark = 0;
  for (auto& e : fs::recursive_directory_iterator(src)) {
    if (!e.is_regular_file()) continue;
    auto bytes = ReadFile(e.path(), 1 << 20);
    if (!bytes.ok()) return Fail(bytes.status(), "read");
    stream << "blob\nmark :" << ++mark << "\ndata " << bytes->size() << "\n";
    stream.write(reinterpret_cast<const char*>(bytes->data()), static_cast<std::streamsize>(bytes->size()));
    stream << "\n";
    tree << "M 100644 :" << mark << " " << fs::relative(e.path(), src).string() << "\n";
  }
  stream << "commit refs/heads/vouchers\ncommitter vouch <vouch@localhost> 0 +0000\ndata 0\n" << tree.str() << "\n";
  return true;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}


bench::RunResult Shell(const std::string& cmd) { return bench::RunOnce({"sh", "-c", cmd}); }

double MiB(const bench::RunResult& r) { return static_cast<double>(r.max_rss_kib) / 1024; }
double AnonMiB(const bench::RunResult& r) { return static_cast<double>(r.max_anon_kib) / 1024; }

// One N: the rows of its table.
std::vector<Row> Scale(const fs::path& work, size_t n) {
  std::vector<Row> rows;
  size_t delta = std::max<size_t>(1, n / 100);
  std::printf("\n== %zu vouchers (work: %s)\n", n, work.c_str());
  std::fflush(stdout);
  if (!InChild([&] { return MakeFleet(work, n, delta); })) return rows;
  const std::string w = work.string();
  auto issue_args = [&](const std::string& csv, const std::string& out) {
    return std::vector<std::string>{kVouch, "issue", "--batch", w + "/" + csv, "--signer-key", w + "/mfr.key", "--signer-cert",
                                    w + "/mfr.pem", "--domain-ca", w + "/owner.pem", "--domain-ca-key", w + "/owner.key",
                                    "--out-dir", w + "/" + out};
  };
  auto issued = bench::RunOnce(issue_args("fleet.csv", "src"));
  std::printf("  issue --batch: %.1f s, %.1f MiB, %.0f vouchers/s (exit %d)\n", issued.seconds, MiB(issued),
              static_cast<double>(n) / issued.seconds, issued.exit_code);
  rows.push_back({"issue --batch (all cores)", "-", issued, {}});
  bench::RunOnce(issue_args("delta.csv", "delta"));
  if (!InChild([&] { return MakeStream(work / "src", work / "stream"); })) return rows;

  const std::string a = w + "/a.git", b = w + "/b.git", fb = w + "/fb.git";
  bench::RunOnce({"git", "init", "-q", "--bare", w + "/fi.git"});
  auto fi = Shell("git --git-dir " + w + "/fi.git fast-import --quiet < " + w + "/stream");
  bench::RunOnce({kVouch, "cache", "init", "--cache", a});
  auto imported = bench::RunOnce({kVouch, "cache", "import", w + "/src", "--cache", a});
  rows.push_back({"cache import", "git fast-import", imported, fi});

  rows.push_back({"cache verify", "git cat-file --batch-all-objects",
                  bench::RunOnce({kVouch, "cache", "verify", "--cache", a}),
                  Shell("git --git-dir " + a + " cat-file --batch --batch-all-objects > /dev/null")});

  std::string udf = Slurp(work / "device.udf");
  std::string path;
  auto dir = formats::DeviceDirectory(udf);
  for (auto& e : fs::directory_iterator(work / "src" / *dir)) path = fs::relative(e.path(), work / "src").string();
  rows.push_back({"cache get UDF", "git cat-file -p vouchers:PATH", bench::RunMedian({kVouch, "cache", "get", udf, "--cache", a}),
                  bench::RunMedian({"git", "--git-dir", a, "cat-file", "-p", "refs/heads/vouchers:" + path})});
  rows.push_back({"cache list", "git ls-tree -r --name-only", bench::RunOnce({kVouch, "cache", "list", "--cache", a}),
                  Shell("git --git-dir " + a + " ls-tree -r --name-only refs/heads/vouchers > /dev/null")});
  rows.push_back({"cache status --json (first run)", "git ls-tree -r",
                  bench::RunOnce({kVouch, "cache", "status", "--json", "--cache", a}),
                  Shell("git --git-dir " + a + " ls-tree -r refs/heads/vouchers > /dev/null")});

  bench::RunOnce({kVouch, "cache", "init", "--cache", b});
  bench::RunOnce({"git", "init", "-q", "--bare", fb});
  rows.push_back({"cache pull (full)", "git fetch (full)", bench::RunOnce({kVouch, "cache", "pull", a, "--cache", b}),
                  bench::RunOnce({"git", "--git-dir", fb, "fetch", "-q", a, "refs/heads/vouchers:refs/heads/vouchers"})});
  bench::RunOnce({kVouch, "cache", "import", w + "/delta", "--cache", a});
  rows.push_back({"cache pull (1% new)", "git fetch (1% new)", bench::RunOnce({kVouch, "cache", "pull", a, "--cache", b}),
                  bench::RunOnce({"git", "--git-dir", fb, "fetch", "-q", a, "refs/heads/vouchers:refs/heads/vouchers"})});

  rows.push_back({"bundle create --cache (shards)", "zip -r -0",
                  bench::RunOnce({kVouch, "bundle", "create", "--cache", a, "--out", w + "/stick"}),
                  Shell("cd " + w + "/src && zip -q -r -0 " + w + "/all.zip vouchers")});

  // The device's shard and its voucher in it, for unzip.
  std::string shard;
  std::string prefix = path.substr(std::string("vouchers/").size(), 2);
  for (auto& e : fs::recursive_directory_iterator(work / "stick")) {
    if (e.path().extension() == ".vbundle" && e.path().string().find("/" + prefix + "/") != std::string::npos &&
        bench::RunOnce({"unzip", "-l", e.path().string(), path}).exit_code == 0) {
      shard = e.path().string();
    }
  }
  rows.push_back({"device fetch --dry-run (sharded stick)", "unzip -p SHARD PATH",
                  bench::RunMedian({kVouchDevice, "fetch", "--dry-run", "--state", w + "/device", w + "/stick"}),
                  bench::RunMedian({"unzip", "-p", shard, path})});
  return rows;
}

void Print(size_t n, const std::vector<Row>& rows) {
  std::printf("\n%zu vouchers (MiB: peak resident; anon: the largest anonymous part of it)\n  %-40s %9s %7s %6s   %-34s %9s %7s %7s\n",
              n, "step", "s", "MiB", "anon", "anchor", "s", "MiB", "ratio");
  for (const Row& r : rows) {
    std::printf("  %-40s %9.3f %7.1f %6.1f   %-34s", r.step.c_str(), r.ours.seconds, MiB(r.ours), AnonMiB(r.ours), r.anchor.c_str());
    if (r.anchor != "-") {
      std::printf(" %9.3f %7.1f %7.2f", r.theirs.seconds, MiB(r.theirs), r.ours.seconds / r.theirs.seconds);
    }
    std::printf("%s%s\n", MiB(r.ours) < kGoalMiB ? "" : "   OVER 128 MiB", r.ours.exit_code == 0 ? "" : "   FAILED");
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> ns;
  for (int i = 1; i < argc; ++i) ns.push_back(std::stoul(argv[i]));
  if (ns.empty()) ns = {100000};
  std::map<size_t, std::vector<Row>> all;
  bool ok = true;
  for (size_t n : ns) {
    fs::path work = fs::temp_directory_path() / ("vouch-bench-scale-" + std::to_string(getpid()) + "-" + std::to_string(n));
    fs::create_directories(work);
    all[n] = Scale(work, n);
    Print(n, all[n]);
    for (const Row& r : all[n]) ok = ok && r.ours.exit_code == 0 && MiB(r.ours) < kGoalMiB;
    if (!std::getenv("VOUCH_BENCH_KEEP")) fs::remove_all(work);
  }
  // Growth: time and memory at each N against the first, beside the growth of N itself.
  if (all.size() > 1) {
    size_t n0 = all.begin()->first;
    std::printf("\ngrowth against %zu vouchers (time x, memory x; N grows by the first column)\n", n0);
    for (auto& [n, rows] : all) {
      if (n == n0) continue;
      std::printf("  N x%-6.0f", static_cast<double>(n) / static_cast<double>(n0));
      for (size_t i = 0; i < rows.size() && i < all[n0].size(); ++i) {
        std::printf("\n    %-40s time x%7.2f  memory x%5.2f", rows[i].step.c_str(), rows[i].ours.seconds / all[n0][i].ours.seconds,
                    MiB(rows[i].ours) / MiB(all[n0][i].ours));
      }
      std::printf("\n");
    }
  }
  std::printf("\n%s\n", ok ? "every step under 128 MiB" : "a step failed or went over 128 MiB");
  return ok ? 0 : 1;
}
