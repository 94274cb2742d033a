// Benchmark helpers: a timer, and the `openssl speed` anchor measured in the same run.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <sstream>
#include <string>

namespace vouch::bench {

// Runs `op` repeatedly for about `seconds`; returns the mean seconds per operation.
inline double TimePerOp(const std::function<void()>& op, double seconds = 1.0) {
  using clock = std::chrono::steady_clock;
  op();  // warm-up
  long n = 0;
  auto start = clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < 16; ++i) op();
    n += 16;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  } while (elapsed < seconds);
  return elapsed / static_cast<double>(n);
}

// Runs `openssl speed -seconds S ALG...` and returns ops/s per line label, e.g.
// "ecdh (nistp256)" -> 21000, "ecdsa sign (nistp256)" -> 40000, "ecdsa verify (nistp256)".
inline std::map<std::string, double> OpensslSpeed(const std::string& algs, int seconds = 2) {
  std::map<std::string, double> out;
  std::string cmd = "openssl speed -seconds " + std::to_string(seconds) + " " + algs + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char line[512];
  while (fgets(line, sizeof line, p)) {
    std::string s(line);
    auto at = s.find("(nistp256)");
    if (at == std::string::npos || s.find("bits") == std::string::npos) continue;
    // `openssl speed -multi N` prints the same table summed over N processes.
    std::string tail = s.substr(at + 10);
    for (char& c : tail) if (c == 's') c = ' ';  // "0.0001s" -> "0.0001"
    std::istringstream rest(tail);
    if (s.find("ecdsa") != std::string::npos) {
      double sign_s, verify_s, sign_ops, verify_ops;
      if (rest >> sign_s >> verify_s >> sign_ops >> verify_ops) {
        out["ecdsa sign (nistp256)"] = sign_ops;
        out["ecdsa verify (nistp256)"] = verify_ops;
      }
    } else if (s.find("ecdh") != std::string::npos) {
      double op_s, ops;
      if (rest >> op_s >> ops) out["ecdh (nistp256)"] = ops;
    }
  }
  pclose(p);
  return out;
}

}  // namespace vouch::bench
