// A git repository as the cache uses it (cache/cache.md): refs, trees of commits, blobs,
// ancestry and packs, named by ObjectId. The handle is owned (closed with the object) and
// libgit2 itself stays in the .cpp: the types below are only forward-declared.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cache/git/object_id.h"
#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

typedef struct git_repository git_repository;
typedef struct git_tree git_tree;

namespace vouch::cache::git {

// The branch that holds a cache's vouchers, and the one name for it in vouch.
inline constexpr std::string_view kBranch = "refs/heads/vouchers";
// The branch that holds a cache's transparency log (cache/log.md).
inline constexpr std::string_view kLogRef = "refs/heads/log";

struct RepositoryFree {
  void operator()(git_repository* r) const;
};
struct TreeFree {
  void operator()(git_tree* t) const;
};

// A commit's tree, read once and looked into many times; none (an empty cache's) holds
// nothing.
class Tree {
 public:
  Tree() = default;
  explicit Tree(git_tree* owned) : tree_(owned) {}

  // What `path` names here (a blob, or a tree), if anything.
  std::optional<ObjectId> EntryAt(const std::string& path) const;
  // Every file below the directory `under` ("vouchers", "receipts/B5/SR/MB5S-..."), with its
  // blob, paths from the root in git's order (a pre-order walk); none when there is no such
  // directory. A cache's tree holds vouchers and receipts side by side (cache/cache.md):
  // every reader names the folder it means.
  Result<std::vector<std::pair<std::string, ObjectId>>> Files(std::string_view under) const;
  // The same, one at a time, in path order (a walk holds one path, not all); stops at the
  // first failure `each` returns.
  Status ForEachFile(std::string_view under, const std::function<Status(const std::string&, const ObjectId&)>& each) const;
  // The names of the directories right under the directory `under` (none if it is not one).
  Result<std::vector<std::string>> Directories(std::string_view under) const;

  // The directory `path` as a tree of its own (none when there is no such directory), so
  // that many lookups below it do not read the trees above it again.
  Result<Tree> Subtree(const std::string& path) const;

  git_tree* handle() const { return tree_.get(); }

 private:
  std::unique_ptr<git_tree, TreeFree> tree_;
};

class Repository {
 public:
  // A new bare repository at `path` whose HEAD names `head` (so that `git log` and `git
  // clone` of it show that branch).
  static Status Create(const std::filesystem::path& path, std::string_view head);
  // The bare repository at `path`, no search upwards.
  static Result<Repository> Open(const std::filesystem::path& path);
  // Only an object database over the directory `objects`: no config, no refs, no HEAD are
  // ever read. `what` names it in messages.
  static Result<Repository> OverObjects(const std::string& objects, const std::string& what);

  Repository() = default;  // none
  explicit Repository(git_repository* owned) : repo_(owned) {}

  git_repository* handle() const { return repo_.get(); }

  // Lets go of what libgit2 keeps of the packs read so far: each pack it has opened keeps up
  // to 16 MiB of the delta bases it inflated (GIT_PACK_CACHE_MEMORY_LIMIT, not settable) for
  // as long as the object database lives, so a walk of every object of a cache of many
  // packs grew by 16 MiB a pack (a million vouchers, 33 packs: `cache status` past 400 MiB).
  // The database is replaced by a fresh one over the same directory, and the old one, its
  // packs and their caches, freed. Walkers call it between batches, never while another
  // thread reads or holds the database; objects already read stay valid (they own their
  // bytes). Only for a repository opened from a directory (Open, OverObjects) whose
  // database has no backends added since (a no-op for any other); kIo
  // when the directory cannot be opened again (the repository then reads nothing).
  Status DropPackCaches() const;

  // The git directory, absolute, ending in '/'.
  std::string path() const;

  // Where `ref` points; none when there is no such ref.
  Result<std::optional<ObjectId>> Resolve(std::string_view ref) const;
  // Every ref whose name starts with `prefix`, in the order git lists them.
  Result<std::vector<std::string>> RefNames(std::string_view prefix) const;
  // The object a commit-ish names (a ref, an id, `tip~2`), if any.
  std::optional<ObjectId> Find(const std::string& spec) const;
  // Points `ref` at `to`, wherever it was (a record: a bundle's commit, a remote's tip).
  Status SetRef(const std::string& ref, const ObjectId& to, const std::string& log) const;
  // Moves `ref` to `to` if it is still at `from` (none: the ref must not exist). kExists when
  // another writer moved it first (or holds its lock): the caller rebuilds and tries again.
  // vouch writers move refs only while holding `vouch/ref-lock` exclusively (released by the
  // kernel if the process dies), so a ref lock file found then, older than two seconds, was
  // left by a writer that was killed mid-update and is removed.
  Status CompareAndSwap(std::string_view ref, const ObjectId& to, const std::optional<ObjectId>& from,
                        const std::string& log) const;
  // True when `ancestor` is `descendant` or one of its ancestors.
  Result<bool> IsAncestor(const ObjectId& ancestor, const ObjectId& descendant) const;

  // The tree of a commit, by id; and the ids of every tree and blob under a tree (its own
  // id first), each once (a subtree met again is not walked again): kTooLarge past `cap`
  // of them, kMalformed for a submodule entry or, when `top_level` is not empty, a name
  // at the top that it does not list.
  Result<ObjectId> TreeIdOf(const ObjectId& commit) const;
  Result<std::vector<ObjectId>> TreeObjects(const ObjectId& tree, size_t cap, const std::vector<std::string>& top_level = {}) const;
  Result<Tree> TreeAt(const ObjectId& tree) const;
  // A commit's parents, in order.
  Result<std::vector<ObjectId>> Parents(const ObjectId& commit) const;
  // Whether the object database has `id` (looking again at its packs if not).
  bool Has(const ObjectId& id) const;
  Result<Tree> TreeOf(const ObjectId& commit) const;
  // The tree `object` (a commit or a tree) stands for; `name` names it in messages.
  Result<Tree> PeelToTree(const ObjectId& object, const std::string& name) const;
  // The files below the directory `under` that `to` has and `from` has not, with their
  // blobs, in path order.
  Result<std::vector<std::pair<std::string, ObjectId>>> Added(const Tree& from, const Tree& to, std::string_view under) const;
  // A blob's bytes; kTooLarge over `cap`, read from the object's header before the object.
  Result<Bytes> ReadBlob(const ObjectId& blob, uint64_t cap) const;
  // Reads many blobs at once, as ReadBlob does, on every core: `each(i, blob)` is called once
  // for every ids[i], from worker threads (concurrently: it must touch only its own slot i).
  // libgit2 handles are not shared between threads, so each worker reads through a handle of
  // its own on this repository's directory.
  Status ReadBlobs(const std::vector<ObjectId>& ids, uint64_t cap,
                   const std::function<void(size_t i, Result<Bytes> blob)>& each) const;

  // Packs every object reachable from `tip`, the refs under `prefix` and the log branch
  // into one pack and drops the other packs.
  Status Repack(const ObjectId& tip, const std::string& prefix) const;

  // How many objects the packs hold, by their indexes (an object in two packs twice), and
  // how many bytes the packs are.
  struct PackTotals {
    uint64_t objects = 0;
    uint64_t bytes = 0;
  };
  Result<PackTotals> Packed() const;
  Result<uint64_t> PackedObjects() const;
  // Merges packs, smallest first, into packs made of at most `max_objects` objects and
  // `max_bytes` bytes of packs each (every object of a merged pack is kept, reachable or
  // not), so that the work and memory of one merge are bounded whatever the size of the
  // repository. A pack already over half of either cap is left as it is. Each merge's packs
  // are let go as it ends (the repository reads through an empty database meanwhile, and its
  // own is opened again at the end) only if nothing else holds this repository's database:
  // a Staging does (its reader), so the cache drops its staging first (Cache::Gc).
  Status ConsolidatePacks(uint64_t max_objects, uint64_t max_bytes = UINT64_MAX) const;

  // Remotes pulled from: <repository>/vouch/remotes (a git config file) holds
  // remote.<key>.url, so that messages can name a remote by the key of its tracking ref.
  // RemoteUrl answers "<key>" when it was not recorded.
  Status RecordRemote(const std::string& key, const std::string& url) const;
  std::string RemoteUrl(const std::string& key) const;

 private:
  // Reads through an empty object database from now on, until DropPackCaches: every pack
  // this repository held open is let go (a no-op as DropPackCaches is).
  Status DetachObjects() const;
  std::unique_ptr<git_repository, RepositoryFree> repo_;
  std::string objects_;  // its objects directory, when opened from one (DropPackCaches)
};

}  // namespace vouch::cache::git
