// measure CMD ARGS...: runs CMD and prints "<seconds> <peak RSS KiB> <exit status>" on stderr,
// for tests that bound time and memory (tests/integration/hostile_media.sh).
#include <cstdio>
#include <string>
#include <vector>

#include "bench/run.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return 2;
  auto r = vouch::bench::RunOnce(args, "/dev/stdout");
  std::fprintf(stderr, "%.3f %ld %d\n", r.seconds, r.max_rss_kib, r.exit_code);
  return r.exit_code;
}
