// A device fetching its voucher from a stick that carries 100,000 vouchers for other
// devices, against `unzip -p` extracting that one entry from a single 100,001-entry bundle
// (DESIGN.md section 10, issue 4; issue 16: within 1.0x). Both run as processes, measured the
// same way: median wall time of 7 runs and peak resident memory. Sticks: the sharded export
// (vouch.vshards), and a plain one (the `vouchers/` tree: the device's voucher among 10,000
// others, as only the device's own directory is read).
//
//   bench_fetch [N] [WORKDIR]     defaults: 100000, a new temporary directory (removed)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "bench/run.h"
#include "formats/bundle.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"
#include "libvoucher/device_state.h"
#include "libvoucher/encoding.h"
#include "libvoucher/issue.h"
#include "libvoucher/udf.h"

using namespace vouch;
namespace fs = std::filesystem;

namespace {

struct Built {
  std::string my_path, mono;
};

// Builds the device and both exports under `work`. Runs in a child process, so that the
// memory it takes is not counted in the peak of the processes measured later (a child's
// peak RSS includes its parent's at the moment of exec).
int Build(const fs::path& work, size_t n) {
  // The device, its manufacturer and owner, and one real voucher for it.
  CertSpec ca;
  ca.common_name = "Bench CA";
  ca.ca = true;
  auto mfr = *PrivateKey::Generate();
  auto root = *SelfSign(mfr, ca);
  InitOptions o;
  o.serial_number = "BENCH-1";
  o.anchors = {root};
  auto device = DeviceState::Init(work / "device", o);
  if (!device.ok()) { std::fprintf(stderr, "%s\n", device.status().ToString().c_str()); return 1; }
  DraftRequest r;
  r.device_key = device->identity().key.Public();
  r.serial_number = o.serial_number;
  r.domain_ca = root;
  r.domain_ca_key = mfr;
  auto draft = *DraftVoucher(r);
  formats::Envelope signed_env = *formats::SignVoucher(draft.voucher, formats::EnvelopeKind::kJws, {mfr, {root}});
  Bytes mine = signed_env.bytes;
  std::string my_path = formats::LayoutPath({device->identity().udf, signed_env.id, signed_env.kind});

  // n vouchers for other devices: right-sized, filed under random device UDFs. Bundles do
  // not look inside them, so random bytes do as well as signed ones and cost far less.
  std::printf("building %zu vouchers for other devices...\n", n);
  std::mt19937_64 rng(42);
  std::vector<formats::PackedVoucher> all;
  all.reserve(n + 1);
  for (size_t i = 0; i < n; ++i) {
    Bytes fake_key(91), body(1200);
    for (auto& b : fake_key) b = static_cast<uint8_t>(rng());
    for (auto& b : body) b = static_cast<uint8_t>(rng());
    Bytes bytes = ToBytes("{\"payload\":\"" + Base64Encode(body) + "\"}");
    std::string dev = udf::KeyFingerprint(fake_key);
    all.push_back({formats::LayoutPath({dev, formats::VoucherId(formats::EnvelopeKind::kJws, bytes), formats::EnvelopeKind::kJws}), std::move(bytes)});
  }
  all.push_back({my_path, mine});
  for (size_t i = n - std::min<size_t>(n, 10000); i <= n; ++i) {
    fs::path p = work / "plain" / all[i].path;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(all[i].bytes.data()),
                                             static_cast<std::streamsize>(all[i].bytes.size()));
  }
  auto mono = formats::WriteBundles(work / "mono", all, SIZE_MAX);
  auto sharded = formats::WriteBundles(work / "stick", all);
  if (!mono.ok() || !sharded.ok()) { std::fprintf(stderr, "cannot write bundles\n"); return 1; }
  std::printf("single bundle: %.0f MB, %zu entries; sharded export: %zu shards under %s/\n",
              static_cast<double>(fs::file_size(mono->at(0).path)) / 1e6, n + 1, sharded->size(),
              std::string(formats::kShardDirectory).c_str());
  FILE* f = std::fopen((work / "built.txt").c_str(), "w");
  std::fprintf(f, "%s\n%s\n", my_path.c_str(), mono->at(0).path.c_str());
  std::fclose(f);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::stoul(argv[1]) : 100000;
  bool keep = argc > 2;
  fs::path work = keep ? fs::path(argv[2]) : fs::temp_directory_path() / ("vouch-bench-fetch-" + std::to_string(getpid()));
  fs::create_directories(work);
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) _exit(Build(work, n));
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  std::string my_path, mono_path;
  {
    std::ifstream in(work / "built.txt");
    std::getline(in, my_path);
    std::getline(in, mono_path);
  }

  std::string exe = VOUCH_DEVICE_PATH;
  auto unzip = bench::RunMedian({"unzip", "-p", mono_path, my_path});
  auto fetch = bench::RunMedian({exe, "fetch", "--dry-run", "--state", (work / "device").string(), (work / "stick").string()});
  auto plain = bench::RunMedian({exe, "fetch", "--dry-run", "--state", (work / "device").string(), (work / "plain").string()});
  auto apply = bench::RunOnce({exe, "fetch", "--state", (work / "device").string(), (work / "stick").string()});
  auto mono_fetch = bench::RunMedian({exe, "fetch", "--dry-run", "--state", (work / "device").string(), mono_path}, 3);

  std::printf("\nanchor: unzip -p of one entry from the single %zu-entry bundle\n", n + 1);
  std::printf("  %-44s %9s %10s %6s\n", "run", "seconds", "peak MiB", "exit");
  auto row = [](const char* name, const bench::RunResult& x) {
    std::printf("  %-44s %9.4f %10.1f %6d\n", name, x.seconds, static_cast<double>(x.max_rss_kib) / 1024, x.exit_code);
  };
  row("unzip -p (anchor)", unzip);
  row("vouch-device fetch --dry-run (sharded stick)", fetch);
  row("vouch-device fetch --dry-run (plain stick)", plain);
  row("vouch-device fetch (sharded stick, applies)", apply);
  row("vouch-device fetch --dry-run (single bundle)", mono_fetch);
  std::printf("  ratio fetch / unzip -p: sharded %.2f, plain %.2f (goal <= 1.0), peak %.1f MiB (goal < 32)\n",
              fetch.seconds / unzip.seconds, plain.seconds / unzip.seconds, static_cast<double>(fetch.max_rss_kib) / 1024);
  std::printf("  (the single bundle is over the reader's 16,384-entry cap: exit 4 means refused, as designed)\n");
  if (!keep) fs::remove_all(work);
  return 0;
}
