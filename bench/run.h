// Running a command as a child and measuring it: wall time, peak resident memory, and the
// peak of its anonymous part (heap, stacks, private maps) without the file pages it maps.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace vouch::bench {

struct RunResult {
  double seconds = 0;
  long max_rss_kib = 0;   // the kernel's peak (VmHWM): anonymous and file pages together
  long max_anon_kib = 0;  // the largest RssAnon seen, sampled every 5 ms
  int exit_code = -1;
};

// RssAnon of `pid` in KiB, or 0. Clean file pages (a pack's mapped index, the program's own
// code) count in the resident peak but are the kernel's to drop and read again; the anonymous
// part is what a process cannot give back, the memory a host must have.
inline long RssAnonKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "RssAnon:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 12, '\n');
  }
  return 0;
}

// Runs argv with stderr, and stdout unless `out` names a file for it, sent to /dev/null.
// Measure from a small process: a child's peak memory includes its parent's at exec time.
inline RunResult RunOnce(const std::vector<std::string>& argv, const std::string& out = "") {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    int stdout_fd = out.empty() ? null : open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(stdout_fd, 1);
    dup2(null, 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  // The sampler runs beside the wait, so the time measured is the child's alone.
  std::atomic<bool> done{false};
  std::atomic<long> anon{0};
  std::thread sampler([&] {
    while (!done.load()) {
      anon = std::max(anon.load(), RssAnonKib(pid));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  RunResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  done = true;
  sampler.join();
  r.max_rss_kib = ru.ru_maxrss;
  r.max_anon_kib = anon.load();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The run of median time among `rs`, with the largest peak memory seen.
inline RunResult Median(std::vector<RunResult> rs) {
  long rss = 0, anon = 0;
  for (const auto& r : rs) rss = std::max(rss, r.max_rss_kib), anon = std::max(anon, r.max_anon_kib);
  std::sort(rs.begin(), rs.end(), [](const auto& a, const auto& b) { return a.seconds < b.seconds; });
  RunResult m = rs[rs.size() / 2];
  m.max_rss_kib = rss;
  m.max_anon_kib = anon;
  return m;
}

// Runs `make` in a child and waits for it: what it allocates is never part of this process,
// whose size every later measured child inherits at exec (see RunOnce).
template <typename F>
void InChild(F make) {
  if (pid_t pid = fork(); pid == 0) {
    make();
    _exit(0);
  } else {
    int status = 0;
    waitpid(pid, &status, 0);
  }
}

// A cache made by `vouch cache init`, filled by `git fast-import` of `stream` and packed by
// `vouch cache gc` (one pack, as a cache that has lived a while).
inline void ImportStream(const std::string& vouch, const std::string& cache, const std::string& stream) {
  RunOnce({vouch, "cache", "init", "--cache", cache});
  RunOnce({"sh", "-c", "git --git-dir " + cache + " fast-import --quiet < " + stream});
  RunOnce({vouch, "cache", "gc", "--cache", cache});
}

// The median of `n` runs by time, with the largest peak memory seen.
inline RunResult RunMedian(const std::vector<std::string>& argv, int n = 7) {
  std::vector<RunResult> rs;
  for (int i = 0; i < n; ++i) rs.push_back(RunOnce(argv));
  return Median(rs);
}

}  // namespace vouch::bench
