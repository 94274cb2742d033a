#include "cache/git/id_spool.h"

#include <cerrno>
#include <cstring>

#include "libvoucher/anonymous_file.h"

namespace vouch::cache::git {

IdSpool::~IdSpool() {
  if (file_) std::fclose(file_);
}

Status IdSpool::Add(const ObjectId& id) {
  if (failed_) return Error(Code::kIo, dir_.string() + ": object ids: an earlier write failed");
  if (block_.capacity() < kBlock) block_.reserve(kBlock);
  block_.push_back(id);
  return block_.size() >= kBlock ? Spill() : Status::Ok();
}

// Records of the 20 bytes of each id, nothing else.
Status IdSpool::Spill() {
  failed_ = true;  // until this block is whole on disk
  if (!file_) {
    file_ = OpenAnonymousFile(dir_);
    if (!file_) return Error(Code::kIo, dir_.string() + ": cannot create a file for object ids: " + std::strerror(errno));
  }
  if (std::fseek(file_, 0, SEEK_END) != 0) return Error(Code::kIo, dir_.string() + ": object ids: " + std::strerror(errno));
  for (const ObjectId& id : block_) {
    if (std::fwrite(id.bytes().data(), 1, ObjectId::kSize, file_) != ObjectId::kSize) {
      return Error(Code::kIo, dir_.string() + ": writing object ids: " + std::strerror(errno));
    }
  }
  if (std::fflush(file_) != 0) return Error(Code::kIo, dir_.string() + ": writing object ids: " + std::strerror(errno));
  spilled_ += block_.size();
  block_.clear();
  failed_ = false;
  return Status::Ok();
}

Status IdSpool::ForEach(const std::function<Status(std::span<const ObjectId>)>& f) {
  if (failed_) return Error(Code::kIo, dir_.string() + ": object ids: an earlier write failed");
  if (spilled_ > 0) {
    if (std::fseek(file_, 0, SEEK_SET) != 0) return Error(Code::kIo, dir_.string() + ": object ids: " + std::strerror(errno));
    std::vector<ObjectId> read;
    read.reserve(kBlock);
    uint8_t raw[ObjectId::kSize];
    for (uint64_t left = spilled_; left > 0;) {
      read.clear();
      while (left > 0 && read.size() < kBlock) {
        if (std::fread(raw, 1, sizeof raw, file_) != sizeof raw) {
          return Error(Code::kIo, dir_.string() + ": reading object ids back: " +
                                      (std::ferror(file_) ? std::strerror(errno) : "the file is shorter than written"));
        }
        read.emplace_back(raw);
        --left;
      }
      VOUCH_RETURN_IF_ERROR(f(read));
    }
  }
  return block_.empty() ? Status::Ok() : f(block_);
}

}  // namespace vouch::cache::git
