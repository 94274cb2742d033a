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

// Runs `openssl speed -seconds S ALG...` and returns ops/s per line label: the operation as
// openssl names it and the curve in parentheses, e.g. "ecdh (nistp256)" -> 21000,
// "ecdsa sign (nistp256)" -> 40000, "ecdsa verify (nistp256)", "ecdh (X25519)",
// "EdDSA sign (Ed25519)", "EdDSA verify (Ed448)".
inline std::map<std::string, double> OpensslSpeed(const std::string& algs, int seconds = 2) {
  std::map<std::string, double> out;
  std::string cmd = "openssl speed -seconds " + std::to_string(seconds) + " " + algs + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char line[512];
  while (fgets(line, sizeof line, p)) {
    // " 256 bits ecdh (nistp256)   0.0000s  21000.0" or, for signatures,
    // " 253 bits EdDSA (Ed25519)   0.0001s   0.0002s  13583.7   4957.6".
    std::string s(line);
    auto bits = s.find(" bits "), open = s.find(" ("), close = s.find(')');
    if (bits == std::string::npos || open == std::string::npos || close == std::string::npos || close < open ||
        open < bits + 6) {
      continue;
    }
    std::string op = s.substr(bits + 6, open - bits - 6);  // "ecdh", "ecdsa", "EdDSA"
    std::string curve = s.substr(open + 1, close - open);  // "(nistp256)"
    // `openssl speed -multi N` prints the same table summed over N processes.
    std::string tail = s.substr(close + 1);
    for (char& c : tail) if (c == 's') c = ' ';  // "0.0001s" -> "0.0001"
    std::istringstream rest(tail);
    double a, b, c, d;
    if (!(rest >> a >> b)) continue;
    if (rest >> c >> d) {  // sign s, verify s, sign/s, verify/s
      out[op + " sign " + curve] = c;
      out[op + " verify " + curve] = d;
    } else {  // op s, op/s
      out[op + " " + curve] = b;
    }
  }
  pclose(p);
  return out;
}

}  // namespace vouch::bench
