// The git cache against named anchors, in one run (DESIGN.md section 10, issue 5):
//   ingest of N vouchers          vs  `git fast-import` of the same blobs and tree (goal <= 1.5x),
//                                     from the files and from the shard set a stick carries
//   lookup of one device          vs  `git cat-file -p vouchers:<path>` of the same voucher
//   pull of 1,000 new vouchers    vs  the first full pull of all N (bytes and time follow the delta)
// Everything measured runs as its own process, from a parent kept small (see bench/run.h).
//
//   bench_cache [N]               default 100000
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "bench/run.h"
#include "bench/synthetic_vouchers.h"
#include "formats/envelope.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"
#include "libvoucher/encoding.h"
#include "libvoucher/file.h"
#include "libvoucher/udf.h"

using namespace vouch;
namespace fs = std::filesystem;

namespace {

std::string Field(const std::string& file, const std::string& name) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto at = line.find("\"" + name + "\": ");
    if (at != std::string::npos) {
      std::string v = line.substr(at + name.size() + 4);
      while (!v.empty() && (v.back() == ',' || v.back() == '"')) v.pop_back();
      if (!v.empty() && v[0] == '"') v.erase(0, 1);
      return v;
    }
  }
  return "?";
}

double PackBytes(const fs::path& repo) {
  double total = 0;
  for (auto& e : fs::directory_iterator(repo / "objects" / "pack")) {
    if (e.path().extension() == ".pack") total += static_cast<double>(e.file_size());
  }
  return total;
}

constexpr int kIngestRuns = 3;

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::stoul(argv[1]) : 100000;
  fs::path work = fs::temp_directory_path() / ("vouch-bench-cache-" + std::to_string(getpid()));
  fs::create_directories(work);
  std::printf("vouch cache benchmark: %zu vouchers\n", n);
  std::fflush(stdout);
  if (pid_t pid = fork(); pid == 0) {
    std::ofstream stream(work / "stream", std::ios::binary);
    bench::MakeVouchers(work / "src", n, 1, &stream);
    bench::MakeVouchers(work / "delta", 1000, 2, nullptr);
    _exit(0);
  } else {
    int status = 0;
    waitpid(pid, &status, 0);
  }
  std::string vouch = VOUCH_PATH;
  std::string a = (work / "a.git").string(), b = (work / "b.git").string();

  // The shard set a stick would carry: the other natural source of a big import.
  bench::RunOnce({vouch, "bundle", "create", "--from", (work / "src").string(), "--out", (work / "stick").string()});

  // Ingest, each run into a fresh repository, the three alternating: timings on a shared
  // machine drift by a third from one minute to the next, so each figure is a median.
  std::vector<bench::RunResult> fi_runs, file_runs, bundle_runs;
  for (int i = 0; i < kIngestRuns; ++i) {
    for (const char* repo : {"fi.git", "a.git", "s.git"}) fs::remove_all(work / repo);
    bench::RunOnce({"git", "init", "-q", "--bare", (work / "fi.git").string()});
    fi_runs.push_back(bench::RunOnce({"sh", "-c", "git --git-dir " + (work / "fi.git").string() + " fast-import --quiet < " +
                                                      (work / "stream").string()}));
    bench::RunOnce({vouch, "cache", "init", "--cache", a});
    file_runs.push_back(bench::RunOnce({vouch, "cache", "import", (work / "src").string(), "--cache", a, "--json"},
                                       (work / "ingest.json").string()));
    bench::RunOnce({vouch, "cache", "init", "--cache", (work / "s.git").string()});
    bundle_runs.push_back(bench::RunOnce({vouch, "cache", "import", (work / "stick").string(), "--cache", (work / "s.git").string()}));
  }
  auto fi = bench::Median(fi_runs), ingest = bench::Median(file_runs), from_bundles = bench::Median(bundle_runs);
  std::printf("  imported %s vouchers\n\n", Field((work / "ingest.json").string(), "added").c_str());
  std::printf("anchor: git fast-import of the same blobs and tree, from one stream (median of %d, alternating)\n", kIngestRuns);
  std::printf("  %-42s %9.2f s %9.1f MiB\n", "git fast-import", fi.seconds, static_cast<double>(fi.max_rss_kib) / 1024);
  std::string from_files = "vouch cache import, from " + std::to_string(n) + " files";
  std::printf("  %-42s %9.2f s %9.1f MiB   ratio %.2f (goal <= 1.5)\n", from_files.c_str(),
              ingest.seconds, static_cast<double>(ingest.max_rss_kib) / 1024, ingest.seconds / fi.seconds);
  std::printf("  %-42s %9.2f s %9.1f MiB   ratio %.2f (goal <= 1.5)\n", "vouch cache import, from the shard set",
              from_bundles.seconds, static_cast<double>(from_bundles.max_rss_kib) / 1024, from_bundles.seconds / fi.seconds);
  std::printf("  pack sizes: git fast-import %.1f MB, vouch %.1f MB\n", PackBytes(work / "fi.git") / 1e6, PackBytes(a) / 1e6);

  // Lookup of one device: ours against git cat-file of the same blob.
  std::string path;
  for (auto& e : fs::recursive_directory_iterator(work / "src")) {
    if (e.is_regular_file()) { path = fs::relative(e.path(), work / "src").string(); break; }
  }
  std::string udf = formats::ParseLayoutPath(path)->device_udf;
  auto get = bench::RunMedian({vouch, "cache", "get", udf, "--cache", a});
  auto cat = bench::RunMedian({"git", "--git-dir", a, "cat-file", "-p", "refs/heads/vouchers:" + path});
  std::printf("\nanchor: git cat-file -p vouchers:<path> (the same voucher)\n");
  std::printf("  %-42s %9.4f s %9.1f MiB\n", "git cat-file", cat.seconds, static_cast<double>(cat.max_rss_kib) / 1024);
  std::printf("  %-42s %9.4f s %9.1f MiB   ratio %.2f\n", "vouch cache get UDF", get.seconds,
              static_cast<double>(get.max_rss_kib) / 1024, get.seconds / cat.seconds);

  // Pulls: the first takes everything; after 1,000 more on the remote, only those.
  bench::RunOnce({vouch, "cache", "init", "--cache", b});
  auto full = bench::RunOnce({vouch, "cache", "pull", a, "--cache", b, "--json"}, (work / "full.json").string());
  bench::RunOnce({vouch, "cache", "import", (work / "delta").string(), "--cache", a});
  auto delta = bench::RunOnce({vouch, "cache", "pull", a, "--cache", b, "--json"}, (work / "delta.json").string());
  double full_bytes = std::stod(Field((work / "full.json").string(), "received-bytes"));
  double delta_bytes = std::stod(Field((work / "delta.json").string(), "received-bytes"));
  std::printf("\nanchor: the first, full pull of the same cache\n");
  std::printf("  %-42s %9.2f s %12.0f bytes %7s vouchers\n", "full pull", full.seconds, full_bytes,
              Field((work / "full.json").string(), "new-vouchers").c_str());
  std::printf("  %-42s %9.2f s %12.0f bytes %7s vouchers\n", "incremental pull (1,000 new)", delta.seconds, delta_bytes,
              Field((work / "delta.json").string(), "new-vouchers").c_str());
  std::printf("  delta/full: time %.3f, bytes %.4f; vouchers %.4f\n", delta.seconds / full.seconds, delta_bytes / full_bytes,
              1000.0 / static_cast<double>(n));
  if (!std::getenv("VOUCH_BENCH_KEEP")) fs::remove_all(work);
  return 0;
}
