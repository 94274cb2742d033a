// Proving a history append-only, within bounds (cache/cache.md, "Verifying" and "Bounds"):
// the walk over commits and trees that Cache::Verify and Cache::Pull run. What may be added
// (a voucher at its layout path, a receipt at its own) is the caller's rule, asked of `rule`
// for each new file.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cache/git/id_spool.h"
#include "cache/git/object_id.h"
#include "cache/git/repository.h"
#include "cache/git/staging.h"
#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {

// Bounds on every history vouch takes from elsewhere (cache.md, "Bounds"). Each object's type
// and size are read from its header before the object is read, so an object over its cap
// costs its header, not its size. Files are capped by the caller's FileRule (vouchers at
// formats::kMaxVoucherSize, receipts at formats::kMaxReceiptSize).
struct HistoryLimits {
  uint64_t max_commit = 64 * 1024;  // one commit object, message included
  uint64_t max_tree = 1 << 20;      // one tree object: 10,000 vouchers under one device
  unsigned max_parents = 16;        // parents of one commit
  size_t max_commits = 200000;      // new commits in one pull (0: no cap; verify has none)
  uint64_t max_objects = 2000000;   // objects a remote may send in one pull
  uint64_t max_bytes = 2ull << 30;  // bytes a remote may send in one pull
  int idle_seconds = 60;            // a network remote's silence before the pull gives up
};

// What a verification found: the commits it verified, the paths they add (and their
// blobs), and the objects among them that the cache does not have.
struct Verified {
  size_t commits = 0;
  size_t files = 0;           // files the new commits add
  PathSink* added = nullptr;  // given: each added file's path and blob (a pull's merge needs them)
  IdSpool* fresh = nullptr;   // given: each object the cache lacks (a pull moves them in)
};

// What may be added: for each file a commit adds, the most bytes a file at its path may hold
// (checked from the blob's header before the blob is read), and the check of its path and
// bytes, which returns its canonical path or why not.
struct FileRule {
  std::function<uint64_t(const std::string& path)> cap;
  std::function<Result<std::string>(const std::string& path, ByteView bytes)> check;
};

// Verifies the history of `tip` as `repo` holds it (the cache, or a pull's quarantine) down
// to commits on the branch `known` of `cache` (none: the whole history), within `limits`:
// every commit keeps every path of each parent with the same blob, a merge adds nothing but
// its parents' files, and each added file passes `rule`. Commits are checked parents first,
// so a refusal names the oldest that offends. `refusal` (may be null) says why a read failed
// when the files it came from were refused.
Status VerifyHistory(const Repository& repo, const Repository& cache, const ObjectId& tip,
                     const std::optional<ObjectId>& known, const HistoryLimits& limits, const Status* refusal,
                     const FileRule& rule, Verified* out);

}  // namespace vouch::cache::git
