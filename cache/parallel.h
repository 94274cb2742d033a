// Running independent work on every core.
#pragma once

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace vouch::cache {

// Calls fn(i) for i in [0, n) from up to hardware_concurrency threads, one per `grain`
// items (so small n stays on this thread). fn must touch no shared state but its own slot i.
template <class Fn>
void ParallelFor(size_t n, Fn fn, size_t grain = 64) {
  unsigned threads = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), static_cast<unsigned>(n / grain + 1)));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

}  // namespace vouch::cache
