// Files: bounded reads and crash-safe writes.
//
// WriteFileAtomic is the only way vouch writes a file: a temporary file in the same
// directory, created with its final mode (0600 for secrets, so there is no moment when a
// key is readable by others), written, fsynced, renamed over the target, and the directory
// fsynced. A crash leaves the old file or the new one; a failure leaves no temporary behind.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

#include <memory>
#include <vector>

namespace vouch {

enum class Overwrite { kNo, kYes };

// Closes a file descriptor when it goes out of scope (the readers of media hold many).
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

Status WriteFileAtomic(const std::filesystem::path& path, ByteView data, unsigned mode = 0644,
                       Overwrite overwrite = Overwrite::kYes);

// Reads a regular file of at most `cap` bytes; a larger one is kTooLarge, not truncated.
// Does not follow a symlink when `follow_links` is false (media are hostile).
Result<Bytes> ReadFile(const std::filesystem::path& path, size_t cap, bool follow_links = true);

// ReadFile for a private key file: the bytes come back as SecretBytes and the buffer they
// were read into is wiped, so a key leaves no copy on the heap.
Result<SecretBytes> ReadSecretFile(const std::filesystem::path& path, size_t cap);

// The same, for a file already opened (by openat, say); `what` names it in errors. The
// descriptor stays the caller's.
Result<Bytes> ReadOpenFile(int fd, size_t cap, const std::string& what);

// fsync a directory, so that a rename inside it is durable.
Status SyncDirectory(const std::filesystem::path& dir);

// Many files written together (a batch of vouchers) with two syncs of their file system in all
// instead of two fsyncs each, which cost a batch more than its signatures: Stage writes a
// file under a temporary name beside its path, unsynced; Commit syncs the file system once
// (every staged byte durable), renames each into place, syncs once more (the names durable)
// and says how each went. A crash at any point leaves each name absent or whole, as
// WriteFileAtomic does; what was staged and not committed is removed when the batch goes.
class FileBatch {
 public:
  // `root`: a folder on the file system the files go to (synced through it).
  static Result<FileBatch> Open(const std::filesystem::path& root);
  FileBatch(FileBatch&&) noexcept;
  FileBatch& operator=(FileBatch&&) = delete;
  ~FileBatch();

  // Writes `data` to a temporary file in `path`'s folder (which must exist). Returns the
  // ticket Commit's answer is indexed by. Safe from several threads at once.
  Result<size_t> Stage(const std::filesystem::path& path, ByteView data, unsigned mode = 0644);
  // Renames every staged file into place (replacing what is there): the status of each, by ticket.
  std::vector<Status> Commit();

 private:
  FileBatch() = default;
  struct Staged {
    std::filesystem::path temp, path;
  };
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vouch
