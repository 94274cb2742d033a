// Running independent work on every core: the one parallel-for of vouch (imports check
// vouchers, batch issuing drafts and signs, bundle export files loose vouchers).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace vouch {

// Calls fn(i) for i in [0, n) from up to `threads` threads (0: hardware_concurrency), one
// per `grain` items, so small n stays on this thread. fn must touch no shared state but its
// own slot i (or state it guards itself).
template <class Fn>
void ParallelFor(size_t n, Fn fn, size_t grain = 64, unsigned threads = 0) {
  unsigned cap = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  unsigned count = std::max(1u, std::min<unsigned>(cap, static_cast<unsigned>(n / std::max<size_t>(grain, 1) + 1)));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < count; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

}  // namespace vouch
