#include "cache/git/staging.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include <unistd.h>

#include "cache/git/git.h"
#include "cache/git/store.h"

namespace vouch::cache::git {
namespace {

// An object database backend that reads from another object database and never writes.
// libgit2 asks it before writing each tree and commit whether the object is stored already
// ("freshen", which it prefers to `exists`): it says no without looking. Those objects are
// nearly all new (the history is append-only, so a changed tree differs from every tree the
// cache has), and looking cost a search of every pack the cache has, per tree: at a million
// vouchers, some 300 packs, most of an import's time (perf: memcmp in the packs' indexes).
// One that is not new after all is packed again, as before. `exists` still answers
// truthfully (without rescanning the packs on a miss); reads do rescan, so a pack another
// writer just added is found.
struct Reader {
  git_odb_backend parent;
  OdbPtr odb;  // a reference of its own to the other database

  static Reader* Of(git_odb_backend* b) { return reinterpret_cast<Reader*>(b); }

  static int Read(void** data, size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* oid) {
    git_odb_object* obj = nullptr;
    if (int rc = git_odb_read(&obj, Of(b)->odb.get(), oid); rc != 0) return rc;
    OdbObjectPtr owned(obj);
    *len = git_odb_object_size(obj);
    *type = git_odb_object_type(obj);
    *data = git_odb_backend_data_alloc(b, *len);
    if (*data && *len) std::memcpy(*data, git_odb_object_data(obj), *len);
    return *data ? 0 : -1;
  }
  static int ReadHeader(size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* oid) {
    return git_odb_read_header(len, type, Of(b)->odb.get(), oid);
  }
  static int Exists(git_odb_backend* b, const git_oid* oid) {
    return git_odb_exists_ext(Of(b)->odb.get(), oid, GIT_ODB_LOOKUP_NO_REFRESH);
  }
  static int Freshen(git_odb_backend*, const git_oid*) { return GIT_ENOTFOUND; }
  static void Free(git_odb_backend* b) { delete Of(b); }

  static Result<BackendPtr> New(OdbPtr odb) {
    auto r = std::make_unique<Reader>();
    if (git_odb_init_backend(&r->parent, GIT_ODB_BACKEND_VERSION) != 0) return Fail(Code::kInternal, "odb backend");
    r->parent.read = Read;
    r->parent.read_header = ReadHeader;
    r->parent.exists = Exists;
    r->parent.freshen = Freshen;
    r->parent.free = Free;
    r->odb = std::move(odb);
    return BackendPtr(&r.release()->parent);
  }
};

// Carries the pack from the packbuilder's thread to the indexer on another, so that
// compressing and indexing overlap. Buffers are handed over whole (1 MiB each) and at
// most kDepth wait at a time, which bounds the memory the pack takes in flight.
class PackPipe {
 public:
  explicit PackPipe(git_odb_writepack* wp) : wp_(wp), thread_([this] { Drain(); }) {}
  ~PackPipe() { Close(); }

  // The packbuilder's write callback.
  static int Write(void* data, size_t size, void* self) { return static_cast<PackPipe*>(self)->Put(data, size); }

  // Hands over what is buffered and waits for the indexer; false if it failed.
  bool Close() {
    if (thread_.joinable()) {
      Hand();
      {
        std::lock_guard<std::mutex> l(mu_);
        closed_ = true;
      }
      cv_.notify_all();
      thread_.join();
    }
    return !failed_;
  }
  git_indexer_progress* stats() { return &stats_; }
  uint64_t bytes() const { return bytes_; }  // the pack's size
  const std::string& error() const { return error_; }  // after Close() returned false

 private:
  static constexpr size_t kBuffer = 1 << 20;
  static constexpr size_t kDepth = 16;

  int Put(const void* data, size_t size) {
    if (failed_) return -1;
    const auto* p = static_cast<const uint8_t*>(data);
    current_.insert(current_.end(), p, p + size);
    bytes_ += size;
    if (current_.size() >= kBuffer) Hand();
    return 0;
  }
  void Hand() {
    if (current_.empty()) return;
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return queue_.size() < kDepth; });
    queue_.push_back(std::move(current_));
    current_ = {};
    cv_.notify_all();
  }
  void Drain() {
    for (;;) {
      std::vector<uint8_t> buf;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return !queue_.empty() || closed_; });
        if (queue_.empty()) return;
        buf = std::move(queue_.front());
        queue_.pop_front();
      }
      cv_.notify_all();
      // After a failure the rest is drained unread, so the writer never blocks. libgit2's
      // errors are per thread: the indexer's is kept here for the caller's report.
      if (!failed_ && wp_->append(wp_, buf.data(), buf.size(), &stats_) != 0) {
        const git_error* e = git_error_last();
        error_ = e && e->message ? e->message : "indexer failed";
        failed_ = true;
      }
    }
  }

  git_odb_writepack* wp_;
  git_indexer_progress stats_{};
  uint64_t bytes_ = 0;
  std::vector<uint8_t> current_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<uint8_t>> queue_;
  bool closed_ = false;
  std::atomic<bool> failed_{false};
  std::string error_;
  std::thread thread_;  // last: started once everything above is ready
};

}  // namespace

namespace {

Result<uint64_t> PackInto(git_repository* from, const std::vector<ObjectId>& ids, git_odb* into);

}  // namespace

Status Staging::Configure(const std::string& cache_path) {
  Init();
  std::string path = ImportConfigPath(cache_path);
  if (::access(path.c_str(), F_OK) == 0) return Status::Ok();  // the operator's, if changed
  git_config* raw = nullptr;
  if (git_config_open_ondisk(&raw, path.c_str()) != 0) return Fail(Code::kIo, path);
  ConfigPtr cfg(raw);
  // Vouchers are small files with much in common (the owner's certificate, the JSON names)
  // and nothing else: a delta against the neighbour in size order finds as much as a search
  // through ten (measured: 69.70 MB against 69.67 MB for 100,000 vouchers) at a fraction of
  // the time. A 1-byte window memory leaves that one neighbour: libgit2 (like git) always
  // keeps one object in the window. Imports and gc's merges of their packs pack this way;
  // a whole repack and the packs sent to mirrors use git's window of ten, which does better
  // across commits.
  if (git_config_set_int64(raw, "pack.windowMemory", 1) != 0) return Fail(Code::kIo, path + ": pack.windowMemory");
  // Keep every voucher's delta from the search (compressed there, on all cores) rather than
  // computing it again in the single-threaded write. 65535 is git's upper bound.
  if (git_config_set_int64(raw, "pack.deltaCacheLimit", 65535) != 0) return Fail(Code::kIo, path + ": pack.deltaCacheLimit");
  // ... within 16 MiB of them (libgit2's default is 256 MiB): an import's chunk is 16 MiB
  // anyway, but gc's merges pack 48 MiB of packs this way, and at 101,704 vouchers a merge
  // with every delta kept peaked at 134 MiB resident (94 MiB with 16 MiB, in 34.7 s instead
  // of 25.9 s; git's window of ten: 93 MiB, 63.6 s). libgit2 1.5 also reads this key as its
  // big-file threshold (no delta for objects over it): 16 MiB is far above any object a
  // cache holds (vouchers 64 KiB, trees 1 MiB).
  if (git_config_set_int64(raw, "pack.deltaCacheSize", int64_t{16} << 20) != 0) {
    return Fail(Code::kIo, path + ": pack.deltaCacheSize");
  }
  return Status::Ok();
}

Result<Staging> Staging::Begin(const Repository& cache_repo) {
  git_repository* cache = cache_repo.handle();
  Staging s;
  s.cache_ = cache;
  git_odb* staging_odb = nullptr;
  if (git_odb_new(&staging_odb) != 0) return Fail(Code::kInternal, "object database");
  OdbPtr odb(staging_odb);
  // The reader holds a reference of its own to the cache's database.
  git_odb* for_reader = nullptr;
  if (git_repository_odb(&for_reader, cache) != 0) return Fail(Code::kIo, "object database");
  VOUCH_ASSIGN_OR_RETURN(BackendPtr reader, Reader::New(OdbPtr(for_reader)));
  if (git_odb_add_backend(staging_odb, reader.get(), 1) != 0) return Fail(Code::kInternal, "odb backend");
  reader.release();  // the staging database's now
  git_odb_backend* raw_mempack = nullptr;
  if (git_mempack_new(&raw_mempack) != 0) return Fail(Code::kInternal, "mempack");
  BackendPtr mempack(raw_mempack);
  if (git_odb_add_backend(staging_odb, mempack.get(), 2) != 0) return Fail(Code::kInternal, "mempack backend");  // higher: looked at first
  s.mempack_ = mempack.release();  // the staging database's now
  git_repository* repo = nullptr;
  if (git_repository_wrap_odb(&repo, staging_odb) != 0) return Fail(Code::kInternal, "staging repository");
  s.staging_ = Repository(repo);
  // Packs made here follow vouch/import.config over the cache's own config.
  VOUCH_RETURN_IF_ERROR(UseImportPacking(repo, cache));
  git_config* raw_cfg = nullptr;
  if (git_repository_config_snapshot(&raw_cfg, repo) != 0) return Fail(Code::kIo, "config");
  ConfigPtr cfg(raw_cfg);
  int64_t chunk = 0;
  if (git_config_get_int64(&chunk, raw_cfg, "vouch.importChunkBytes") == 0) {
    s.chunk_bytes_ = static_cast<uint64_t>(std::max<int64_t>(chunk, 4096));
  }
  git_error_clear();  // not set: the default
  return s;
}

Status Staging::WriteBlob(const ObjectId& id, ByteView data) {
  git_oid oid = OidOf(id);
  if (mempack_->write(mempack_, &oid, data.data(), data.size(), GIT_OBJECT_BLOB) != 0) return Fail(Code::kIo, "blob write");
  return Staged(id, data.size());
}

Status Staging::Staged(const ObjectId& id, uint64_t size) {
  pending_.push_back(id);
  pending_bytes_ += size + kObjectOverhead;
  return pending_bytes_ >= chunk_bytes_ ? Flush() : Status::Ok();
}

Result<GrownTree> Staging::Grow(const Tree& base, PathSource& paths) {
  return InsertPaths(staging_.handle(), base.handle(), paths,
                     [this](const ObjectId& id, uint64_t size) { return Staged(id, size); });
}

Result<ObjectId> Staging::Commit(const ObjectId& tree, const std::vector<ObjectId>& parents, const std::string& message) {
  VOUCH_ASSIGN_OR_RETURN(ObjectId commit, MakeCommit(staging_.handle(), tree, parents, message));
  pending_.push_back(commit);
  VOUCH_RETURN_IF_ERROR(Flush());
  return commit;
}

Result<ObjectId> Staging::CommitChanges(const Tree& base, const std::vector<PathChange>& changes,
                                        const std::vector<ObjectId>& parents, const std::string& message) {
  std::vector<ObjectId> trees;
  VOUCH_ASSIGN_OR_RETURN(ObjectId tree, ReplacePaths(staging_.handle(), base.handle(), changes, &trees));
  pending_.insert(pending_.end(), trees.begin(), trees.end());
  VOUCH_ASSIGN_OR_RETURN(ObjectId commit, MakeCommit(staging_.handle(), tree, parents, message));
  pending_.push_back(commit);
  VOUCH_RETURN_IF_ERROR(Flush());
  return commit;
}

Status Staging::Flush() {
  if (pending_.empty()) return Status::Ok();
  git_odb* raw = nullptr;
  if (git_repository_odb(&raw, cache_) != 0) return Fail(Code::kIo, "object database");
  OdbPtr cache_odb(raw);
  VOUCH_RETURN_IF_ERROR(PackInto(staging_.handle(), pending_, cache_odb.get()).status());
  git_mempack_reset(mempack_);
  pending_.clear();
  pending_bytes_ = 0;
  return Status::Ok();
}

Result<uint64_t> WritePack(const Repository& from, IdSpool& ids, const Repository& into, uint64_t chunk_bytes) {
  git_odb* raw = nullptr;
  if (git_repository_odb(&raw, into.handle()) != 0) return Fail(Code::kIo, "object database");
  OdbPtr odb(raw);
  git_odb* raw_from = nullptr;
  if (git_repository_odb(&raw_from, from.handle()) != 0) return Fail(Code::kIo, "object database");
  OdbPtr from_odb(raw_from);
  // A pack per chunk, as Staging flushes: the packbuilder holds what it packs (and its
  // deltas) in memory, so one pack of a large pull would hold the pull.
  uint64_t bytes = 0, pending = 0;
  std::vector<ObjectId> chunk;
  auto flush = [&]() -> Status {
    VOUCH_ASSIGN_OR_RETURN(uint64_t written, PackInto(from.handle(), chunk, odb.get()));
    bytes += written;
    chunk.clear();
    pending = 0;
    return Status::Ok();
  };
  VOUCH_RETURN_IF_ERROR(ids.ForEach([&](std::span<const ObjectId> block) -> Status {
    for (const ObjectId& id : block) {
      git_oid oid = OidOf(id);
      size_t size = 0;
      git_object_t type;
      if (git_odb_read_header(&size, &type, from_odb.get(), &oid) != 0) return Fail(Code::kIo, "object " + id.Hex());
      chunk.push_back(id);
      pending += size + Staging::kObjectOverhead;
      if (pending >= chunk_bytes) VOUCH_RETURN_IF_ERROR(flush());
    }
    return Status::Ok();
  }));
  if (!chunk.empty()) VOUCH_RETURN_IF_ERROR(flush());
  return bytes;
}

namespace {

Result<uint64_t> PackInto(git_repository* from, const std::vector<ObjectId>& ids, git_odb* into) {
  if (ids.empty()) return uint64_t{0};
  git_packbuilder* raw = nullptr;
  if (git_packbuilder_new(&raw, from) != 0) return Fail(Code::kInternal, "packbuilder");
  PackbuilderPtr pb(raw);
  git_packbuilder_set_threads(raw, 0);  // 0: as many as there are cores
  for (const auto& id : ids) {
    git_oid oid = OidOf(id);
    if (git_packbuilder_insert(raw, &oid, nullptr) != 0) return Fail(Code::kIo, "pack object " + id.Hex());
  }
  git_odb_writepack* wp = nullptr;
  if (git_odb_write_pack(&wp, into, nullptr, nullptr) != 0) return Fail(Code::kIo, "pack write");
  WritepackPtr writer(wp);
  uint64_t bytes = 0;
  {
    PackPipe pipe(wp);
    int rc = git_packbuilder_foreach(raw, &PackPipe::Write, &pipe);
    if (!pipe.Close()) return Error(Code::kIo, "pack write: " + pipe.error());
    if (rc != 0) return Fail(Code::kIo, "pack build", rc);
    if (wp->commit(wp, pipe.stats()) != 0) return Fail(Code::kIo, "pack index");
    bytes = pipe.bytes();
  }
  if (git_odb_refresh(into) != 0) return Fail(Code::kIo, "object database refresh");
  return bytes;
}

}  // namespace

}  // namespace vouch::cache::git
