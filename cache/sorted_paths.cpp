#include "cache/sorted_paths.h"

#include <algorithm>
#include <cstring>

#include "libvoucher/anonymous_file.h"

namespace vouch::cache {
namespace {

constexpr size_t kRunBuffer = 64 << 10;

}  // namespace

SortedPaths::~SortedPaths() {
  for (auto& run : runs_) std::fclose(run->file);
}

Status SortedPaths::Add(std::string path, const git::ObjectId& blob) {
  if (path.size() > UINT16_MAX) return Error(Code::kTooLarge, "path over 64 KiB");
  memory_.emplace_back(std::move(path), blob);
  memory_sorted_ = false;
  ++added_;
  return memory_.size() >= kRunEntries ? Spill() : Status::Ok();
}

// A run on disk: records of a 2-byte length (little endian), the path, the 20-byte blob id.
Status SortedPaths::Spill() {
  std::sort(memory_.begin(), memory_.end());
  auto run = std::make_unique<Run>();
  run->file = OpenAnonymousFile(dir_);
  if (!run->file) return Error(Code::kIo, dir_.string() + ": cannot create a file for sorting paths: " + std::strerror(errno));
  run->buffer.resize(kRunBuffer);
  std::setvbuf(run->file, run->buffer.data(), _IOFBF, run->buffer.size());
  for (const auto& [path, blob] : memory_) {
    uint8_t len[2] = {static_cast<uint8_t>(path.size()), static_cast<uint8_t>(path.size() >> 8)};
    if (std::fwrite(len, 1, 2, run->file) != 2 || std::fwrite(path.data(), 1, path.size(), run->file) != path.size() ||
        std::fwrite(blob.bytes().data(), 1, blob.bytes().size(), run->file) != blob.bytes().size()) {
      std::fclose(run->file);
      return Error(Code::kIo, dir_.string() + ": writing sorted paths: " + std::strerror(errno));
    }
  }
  if (std::fflush(run->file) != 0) {
    std::fclose(run->file);
    return Error(Code::kIo, dir_.string() + ": writing sorted paths: " + std::strerror(errno));
  }
  runs_.push_back(std::move(run));
  memory_.clear();
  memory_.shrink_to_fit();  // the next run grows anew: no capacity held while reading
  return Status::Ok();
}

Status SortedPaths::ReadHead(Run& run) {
  uint8_t len[2];
  size_t got = std::fread(len, 1, 2, run.file);
  if (got == 0 && std::feof(run.file)) {
    run.head.reset();
    return Status::Ok();
  }
  std::string path(len[0] | (size_t{len[1]} << 8), '\0');
  uint8_t id[git::ObjectId::kSize];
  if (got != 2 || std::fread(path.data(), 1, path.size(), run.file) != path.size() ||
      std::fread(id, 1, sizeof id, run.file) != sizeof id) {
    return Error(Code::kIo, "reading sorted paths back: short read");
  }
  run.head.emplace(std::move(path), git::ObjectId(id));
  return Status::Ok();
}

Status SortedPaths::Rewind() {
  if (!memory_sorted_) {
    std::sort(memory_.begin(), memory_.end());
    memory_sorted_ = true;
  }
  memory_at_ = 0;
  for (auto& run : runs_) {
    if (std::fseek(run->file, 0, SEEK_SET) != 0) return Error(Code::kIo, "rewinding sorted paths");
    std::clearerr(run->file);
    VOUCH_RETURN_IF_ERROR(ReadHead(*run));
  }
  current_.reset();
  return Next();
}

// The smallest head of the runs and of memory_ is the next path; every copy of it is
// consumed, so a path added twice is read once. A k-way merge by linear scan: runs are few
// (one per 65,536 paths).
Status SortedPaths::Next() {
  const std::pair<std::string, git::ObjectId>* least = memory_at_ < memory_.size() ? &memory_[memory_at_] : nullptr;
  for (auto& run : runs_) {
    if (run->head && (!least || run->head->first < least->first)) least = &*run->head;
  }
  if (!least) {
    current_.reset();
    return Status::Ok();
  }
  current_.emplace(least->first, least->second);
  const std::string& path = current_->first;
  while (memory_at_ < memory_.size() && memory_[memory_at_].first == path) ++memory_at_;
  for (auto& run : runs_) {
    while (run->head && run->head->first == path) VOUCH_RETURN_IF_ERROR(ReadHead(*run));
  }
  return Status::Ok();
}

}  // namespace vouch::cache
