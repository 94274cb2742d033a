// The paths an import adds, sorted, in bounded memory (cache/cache.md, "Writing").
//
// An import may bring more vouchers than memory holds paths for (a million layout paths
// take some 200 MiB as a std::map). Paths are gathered in memory up to kRunEntries, then
// sorted and written out as a run to an anonymous file (unlinked from the start: a killed
// import leaves nothing behind); reading merges the runs, each path once. Memory: one run
// in memory plus a 64 KiB buffer per run on disk (16 runs for a million vouchers).
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cache/git/staging.h"

namespace vouch::cache {

class SortedPaths : public git::PathSource, public git::PathSink {
 public:
  static constexpr size_t kRunEntries = 65536;

  // Runs are written in `dir` (the cache's own vouch/ folder: the same disk as the cache).
  explicit SortedPaths(std::filesystem::path dir) : dir_(std::move(dir)) {}
  SortedPaths(const SortedPaths&) = delete;
  SortedPaths& operator=(const SortedPaths&) = delete;
  ~SortedPaths() override;

  // Adds a path (a path added twice counts once when read).
  Status Add(std::string path, const git::ObjectId& blob) override;
  // How many paths were added, repeats included.
  size_t added() const { return added_; }

  // PathSource: the paths in order, each once. Rewind() first.
  Status Rewind() override;
  const git::PathEntry* Current() const override { return current_ ? &*current_ : nullptr; }
  Status Next() override;

 private:
  struct Run {
    std::FILE* file = nullptr;
    std::vector<char> buffer;
    std::optional<std::pair<std::string, git::ObjectId>> head;  // its next record
  };
  Status Spill();
  Status ReadHead(Run& run);

  std::filesystem::path dir_;
  std::vector<std::pair<std::string, git::ObjectId>> memory_;  // not yet spilled
  std::vector<std::unique_ptr<Run>> runs_;
  size_t memory_at_ = 0;  // reading: the next of memory_ (sorted by then)
  bool memory_sorted_ = false;
  size_t added_ = 0;
  std::optional<git::PathEntry> current_;
};

}  // namespace vouch::cache
