// `vouch cache get UDF` against `git cat-file -p vouchers:<path>` of the same voucher, on a
// cache of N vouchers (issue 16, item 4: within 2x). bench_cache measures the same lookup
// after its imports; this one builds its cache once (git fast-import of synthetic vouchers,
// packed by `vouch cache gc`) and can keep it, so that a change to the lookup is measured in
// seconds, not minutes.
//
//   bench_get [N] [WORKDIR] [RUNS]   defaults: 100000, a new temporary directory (removed), 21
//
// With WORKDIR the cache is kept there and reused by later runs. Both commands run as
// processes, alternating, and each figure is the median of RUNS.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "bench/run.h"
#include "bench/synthetic_vouchers.h"

using namespace vouch;
namespace fs = std::filesystem;

namespace {

std::string FirstLine(const std::string& command) {
  std::string line;
  if (FILE* p = popen(command.c_str(), "r")) {
    char buf[512];
    if (fgets(buf, sizeof buf, p)) line = buf;
    pclose(p);
  }
  while (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::stoul(argv[1]) : 100000;
  bool keep = argc > 2;
  int runs = argc > 3 ? std::stoi(argv[3]) : 21;
  fs::path work = keep ? fs::path(argv[2]) : fs::temp_directory_path() / ("vouch-bench-get-" + std::to_string(getpid()));
  const std::string vouch = VOUCH_PATH, cache = (work / "cache.git").string();
  if (!fs::exists(work / "cache.git" / "built")) {
    fs::remove_all(work / "cache.git");
    fs::create_directories(work);
    std::printf("building a cache of %zu vouchers...\n", n);
    std::fflush(stdout);
    // Made in a child, so that the parent that measures stays small (bench/run.h).
    bench::InChild([&] {
      std::ofstream stream(work / "stream", std::ios::binary);
      bench::MakeVouchers({}, n, 1, &stream);
    });
    bench::ImportStream(vouch, cache, (work / "stream").string());
    fs::remove(work / "stream");
    std::ofstream(work / "cache.git" / "built") << n << "\n";
  }
  const std::string path = FirstLine("git --git-dir " + cache + " ls-tree -r --name-only refs/heads/vouchers | head -1");
  auto entry = formats::ParseLayoutPath(path);
  if (!entry.ok()) {
    std::fprintf(stderr, "no voucher in %s\n", cache.c_str());
    return 1;
  }
  const std::vector<std::string> get = {vouch, "cache", "get", entry->device_udf, "--cache", cache};
  const std::vector<std::string> cat = {"git", "--git-dir", cache, "cat-file", "-p", "refs/heads/vouchers:" + path};
  std::vector<bench::RunResult> gets, cats;
  for (int i = 0; i < runs; ++i) {
    cats.push_back(bench::RunOnce(cat));
    gets.push_back(bench::RunOnce(get));
  }
  auto g = bench::Median(gets), c = bench::Median(cats);
  std::printf("anchor: git cat-file -p vouchers:<path> (the same voucher), %zu vouchers, median of %d, alternating\n", n, runs);
  std::printf("  %-30s %9.4f s %9.1f MiB\n", "git cat-file", c.seconds, static_cast<double>(c.max_rss_kib) / 1024);
  std::printf("  %-30s %9.4f s %9.1f MiB   ratio %.2f (goal <= 2)   exit %d\n", "vouch cache get UDF", g.seconds,
              static_cast<double>(g.max_rss_kib) / 1024, g.seconds / c.seconds, g.exit_code);
  if (!keep) fs::remove_all(work);
  return g.exit_code == 0 ? 0 : 1;
}
