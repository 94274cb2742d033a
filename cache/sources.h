// What `vouch cache add` and `import` take in: voucher files, directories of them (any
// .vjj/.vcj/.vch or .vbundle below, links not followed), bundles, and receipts (.vrj files, named
// or found below: a stick's vouch-receipts/ tree).
//
// An import may be of any size, so sources are read a batch at a time: only the list of
// files and one batch of voucher bytes are held at once (the cache keeps what it has
// checked as blobs, not as the offered bytes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cache/cache.h"

namespace vouch::cache {

struct Listing;  // what a directory walk found (sources.cpp)

class SourceReader {
 public:
  // Files read (and then checked on every core) at once: 2,048 real vouchers are some 20 MiB.
  static constexpr size_t kBatch = 2048;
  static constexpr size_t kGroup = 16;                // bundles read at once, at most
  static constexpr uint64_t kGroupBytes = 16 << 20;  // and their files' total size
  static constexpr size_t kWalkGroup = 16;           // subtrees listed at once (Next)

  enum class Bundles { kRead, kSkip };
  enum class Receipts { kRead, kSkip };
  // Lists the inputs (walking directories); a missing input is kNotFound. With Bundles::kSkip,
  // .vbundle files found or named are left alone. With Receipts::kRead, .vrj files found or
  // named are offered too (Offered::Kind::kReceipt, after every voucher file); with kSkip they
  // are left alone (readers that want vouchers only: exports, the monitor's --expect).
  static Result<SourceReader> Open(const std::vector<std::string>& inputs, size_t batch = kBatch,
                                   Bundles bundles = Bundles::kRead, Receipts receipts = Receipts::kSkip);

  // The next batch: up to `batch` voucher files read in parallel, then receipts the same way
  // (each capped at formats::kMaxReceiptSize), then whole bundles until there are
  // `batch` vouchers or more (each bundle is capped by its reader); false when none are left. Sources that cannot be read (a
  // hostile bundle, an oversize file) go to refused() and reading goes on.
  Result<bool> Next(std::vector<Offered>* batch);

  const std::vector<CandidateReport>& refused() const { return refused_; }

 private:
  SourceReader() = default;
  // Up to `batch_` of `files` from *next on, each capped at `cap`, read on every core.
  void ReadFiles(const std::vector<std::string>& files, size_t* next, size_t cap, Offered::Kind kind,
                 std::vector<Offered>* batch);
  // Lists a few more of `unwalked_` into the lists below.
  Status WalkSome();
  void Keep(Listing&& listing);
  std::vector<std::pair<std::string, int>> unwalked_;  // subtrees not listed yet, with their depth
  bool take_bundles_ = true, take_receipts_ = false;
  std::vector<std::string> files_;     // loose voucher files
  std::vector<std::string> receipts_;  // .vrj files
  std::vector<std::string> bundles_;   // .vbundle files
  size_t batch_ = kBatch;
  size_t next_file_ = 0, next_receipt_ = 0, next_bundle_ = 0;
  std::vector<CandidateReport> refused_;
};

}  // namespace vouch::cache
