// Pulls (cache/cache.md, "Mirroring" and "Bounds"): the quarantine a pull lands in, and a
// remote's objects read as hostile input, a local remote's in place and a fetched pack as it
// streams in, with every size checked before libgit2 inflates anything.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cache/git/id_spool.h"
#include "cache/git/object_id.h"
#include "cache/git/repository.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {

// Bounds on reading a local remote's files (cache.md, "Bounds").
struct LocalRemoteLimits {
  uint64_t max_object = 1 << 20;      // any object, delta base or delta result, inflated
  size_t max_packs = 256;             // pack files
  uint64_t max_loose = 2 << 20;       // one loose object file, compressed
  uint64_t max_ref = 256;             // refs/heads/vouchers
  uint64_t max_packed_refs = 64 << 20;  // packed-refs, read a line at a time
};

// Where a pull lands before it is verified (cache.md, "Mirroring"): <cache>/vouch/pull-XXXXXX/,
// a bare repository that reads the cache's objects through objects/info/alternates and
// writes only its own. Nothing a remote sends reaches the cache's objects until Adopt, so a
// refused pull leaves the cache's packs as they were. The directory is removed when the
// Quarantine is dropped; one left by a killed pull is removed by the next pull.
class Quarantine {
 public:
  static Result<Quarantine> Make(const Repository& cache);
  Quarantine(Quarantine&& o) noexcept;
  Quarantine& operator=(Quarantine&&) = delete;
  ~Quarantine();

  Repository& repo() { return repo_; }

  // Reads a local remote (a path) as hostile input and makes its objects readable through
  // repo(); returns its refs/heads/vouchers (none when it has none). libgit2 never opens the
  // remote as a repository: no config, no HEAD, no refdb. config and HEAD must be regular
  // files if present; refs/heads/vouchers (else packed-refs) is read here, capped, with no
  // link followed; alternates and links are refused (kUnsupported). Each pack and index is
  // opened here (no link, no FIFO: kUnsupported) and libgit2 reads that very open file
  // through /proc/self/fd, so it cannot be swapped for a FIFO afterwards; loose objects are
  // checked and copied (capped) into the quarantine before libgit2 reads them.
  // Refusals name the file ("config is a fifo, not a regular file"), after "<what>: " when
  // `what` is not empty.
  Result<std::optional<ObjectId>> OpenLocal(const std::string& path, const std::string& what,
                                           const LocalRemoteLimits& limits);
  // Makes a fetch into repo() write its pack through a check of the sizes inside it, before
  // libgit2's indexer resolves any delta in memory: a delta whose base or result is over
  // `max_object` bytes, or that could rest on a plain object over it, is refused
  // (kTooLarge, in refusal()). Plain objects are hashed as a stream, whatever their size.
  Status GuardFetch(uint64_t max_object);
  // The remote's refs/heads/log, if it has one (a local remote's read by OpenLocal, a
  // network remote's fetched beside the branch). Its objects are read through repo().
  Result<std::optional<ObjectId>> IncomingLog() const;

  // Why the last read of a local remote's object, or a fetch's pack, was refused (a FIFO, a
  // link, a loose object or a delta over the cap); ok otherwise.
  const Status& refusal() const { return *refusal_; }

  // Moves the verified objects `ids` into the cache as packs written from here (of those
  // objects only: nothing else a remote sent is kept). Returns the size of the packs the
  // cache gained.
  Result<uint64_t> Adopt(const Repository& cache, IdSpool& ids);
  // Sizes of the packs a fetch left here.
  uint64_t PackBytes() const;

 private:
  Quarantine() = default;
  std::string dir_;
  int lock_fd_ = -1;
  std::vector<int> pinned_;  // a local remote's packs and indexes, open while repo_ lives
  std::unique_ptr<Status> refusal_ = std::make_unique<Status>();
  std::unique_ptr<std::mutex> refusal_mu_ = std::make_unique<std::mutex>();
  Repository repo_;
  std::optional<ObjectId> incoming_log_;
};

// Every network connection libgit2 makes (git://, http://, https:// under TLS) from now on
// fails once the other side has sent (or taken) nothing for `seconds`: libgit2 1.5 has no
// timeout of its own, and a server that stops sending stalled a pull for ever.
Status BoundNetworkSilence(int seconds);

// Checks a local remote before libgit2's local transport opens it (push): config, HEAD,
// refs/heads/vouchers and packed-refs regular files, objects and refs plain directories, no
// alternates. kUnsupported otherwise.
Status CheckLocalRemote(const std::string& path, const std::string& what);

}  // namespace vouch::cache::git
