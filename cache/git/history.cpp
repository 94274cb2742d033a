#include "cache/git/history.h"

#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "cache/git/git.h"

namespace vouch::cache::git {
namespace {

// vouchers/<c1c2>/<c3c4>/<DEVICE-UDF>/<ID>.<ext>: trees four levels below the root at most.
constexpr int kLayoutTreeDepth = 4;

struct OidHash {
  size_t operator()(const git_oid& o) const {
    size_t h;
    std::memcpy(&h, o.id, sizeof h);
    return h;
  }
};
struct OidEq {
  bool operator()(const git_oid& a, const git_oid& b) const { return git_oid_equal(&a, &b); }
};
using OidSet = std::unordered_set<git_oid, OidHash, OidEq>;

std::string Short(const git_oid& id) { return OidText(id).substr(0, 12); }

// git's order of tree entries: names byte for byte, a tree's as if it ended in '/'.
int TreeOrder(const git_tree_entry* a, const git_tree_entry* b) {
  std::string x = git_tree_entry_name(a), y = git_tree_entry_name(b);
  if (git_tree_entry_type(a) == GIT_OBJECT_TREE) x += '/';
  if (git_tree_entry_type(b) == GIT_OBJECT_TREE) y += '/';
  return x.compare(y);
}

struct Node {
  git_oid id;
  git_oid tree;
  std::vector<git_oid> parents;
};

// One verification: commits found by a walk that reads every commit's header before the
// commit, then checked parents first, each tree against its parents' trees by descending
// only where they differ.
class History {
 public:
  History(const Repository& repo, const Repository& cache, const HistoryLimits& limits, const Status* refusal,
          const FileRule& rule, Verified* out)
      : repo_(repo.handle()), cache_(cache.handle()), repo_obj_(repo), cache_repo_(cache), limits_(limits),
        refusal_(refusal), rule_(rule), out_(out) {}

  Status Run(const git_oid& tip, const std::optional<git_oid>& known) {
    VOUCH_RETURN_IF_ERROR(HoldDatabases());
    VOUCH_RETURN_IF_ERROR(Discover(tip, known));
    for (size_t i : Order()) VOUCH_RETURN_IF_ERROR(Commit(nodes_[i]));
    out_->commits = nodes_.size();
    return Status::Ok();
  }

 private:
  // Why an object could not be read: the refusal of the file it was in, if there was one.
  Status Unreadable(const std::string& what) {
    if (refusal_ && !refusal_->ok()) {
      git_error_clear();
      return *refusal_;
    }
    return Fail(Code::kMalformed, what + " cannot be read");
  }

  // Type and size from the object's header, before anything reads the object.
  Status Header(const git_oid& id, git_object_t want, uint64_t cap, const std::string& what) {
    size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    if (git_odb_read_header(&size, &type, odb_.get(), &id) != 0) return Unreadable(what);
    if (type != want) {
      return Error(Code::kMalformed, what + " is a " + git_object_type2string(type) + ", not a " + git_object_type2string(want));
    }
    if (size > cap) {
      return Error(Code::kTooLarge, what + " is " + std::to_string(size) + " bytes, over the cap of " + std::to_string(cap));
    }
    return Status::Ok();
  }

  // A commit on the branch `known` was verified when it came.
  Result<bool> Known(const git_oid& id, const std::optional<git_oid>& known) {
    if (!known) return false;
    if (git_odb_exists_ext(cache_odb_.get(), &id, GIT_ODB_LOOKUP_NO_REFRESH) != 1) return false;
    return cache_repo_.IsAncestor(IdOf(id), IdOf(*known));
  }

  // The new commits: a walk from the tip that stops at known commits, reads each commit's
  // header before the commit, and stops at the caps.
  Status Discover(const git_oid& tip, const std::optional<git_oid>& known) {
    std::vector<git_oid> stack{tip};
    while (!stack.empty()) {
      git_oid id = stack.back();
      stack.pop_back();
      if (index_.count(id) || known_.count(id)) continue;
      VOUCH_ASSIGN_OR_RETURN(bool k, Known(id, known));
      if (k) {
        known_.insert(id);
        continue;
      }
      if (limits_.max_commits && nodes_.size() >= limits_.max_commits) {
        return Error(Code::kTooLarge, "the history has over " + std::to_string(limits_.max_commits) +
                                          " new commits, the cap for one pull");
      }
      std::string name = "commit " + Short(id);
      VOUCH_RETURN_IF_ERROR(Header(id, GIT_OBJECT_COMMIT, limits_.max_commit, name));
      git_commit* c = nullptr;
      if (git_commit_lookup(&c, repo_, &id) != 0) return Unreadable(name);
      CommitPtr commit(c);
      unsigned parents = git_commit_parentcount(c);
      if (parents > limits_.max_parents) {
        return Error(Code::kTooLarge, name + " has " + std::to_string(parents) + " parents, over the cap of " +
                                          std::to_string(limits_.max_parents));
      }
      Node node{id, *git_commit_tree_id(c), {}};
      for (unsigned i = 0; i < parents; ++i) node.parents.push_back(*git_commit_parent_id(c, i));
      for (unsigned i = parents; i-- > 0;) stack.push_back(node.parents[i]);
      index_.emplace(id, nodes_.size());
      nodes_.push_back(std::move(node));
      VOUCH_RETURN_IF_ERROR(Fresh(id));
    }
    return Status::Ok();
  }

  // Parents before children (a depth-first walk, first parents first), so the commit named
  // in a refusal is the oldest that offends.
  std::vector<size_t> Order() const {
    std::vector<size_t> order;
    order.reserve(nodes_.size());
    std::vector<uint8_t> state(nodes_.size(), 0);  // 0 new, 1 on the stack, 2 placed
    std::vector<std::pair<size_t, size_t>> stack;   // node, next parent
    for (size_t root = 0; root < nodes_.size(); ++root) {
      if (state[root]) continue;
      stack.push_back({root, 0});
      state[root] = 1;
      while (!stack.empty()) {
        auto& [n, next] = stack.back();
        if (next < nodes_[n].parents.size()) {
          auto it = index_.find(nodes_[n].parents[next++]);
          if (it != index_.end() && state[it->second] == 0) {
            state[it->second] = 1;
            stack.push_back({it->second, 0});
          }
          continue;
        }
        state[n] = 2;
        order.push_back(n);
        stack.pop_back();
      }
    }
    return order;
  }

  Result<git_oid> TreeOfCommit(const git_oid& id) {
    if (auto it = index_.find(id); it != index_.end()) return nodes_[it->second].tree;
    git_commit* c = nullptr;
    if (git_commit_lookup(&c, repo_, &id) != 0) return Unreadable("commit " + Short(id));
    CommitPtr owned(c);
    return *git_commit_tree_id(c);
  }

  Status Commit(const Node& node) {
    name_ = "commit " + Short(node.id);
    std::vector<std::optional<git_oid>> parent_trees;
    for (const auto& p : node.parents) {
      VOUCH_ASSIGN_OR_RETURN(git_oid t, TreeOfCommit(p));
      parent_trees.emplace_back(t);
    }
    merge_ = node.parents.size() >= 2;
    return Dir(node.tree, parent_trees, "", 0);
  }

  // The tree `t` at `path` against the parents' trees there (absent: nullopt): a commit may
  // only add files, a merge only what a parent has. Subtrees equal to a parent's are not
  // entered, so the work follows what changed, once per parent at most.
  Status Dir(const git_oid& t, const std::vector<std::optional<git_oid>>& parents, const std::string& path, int depth) {
    for (const auto& p : parents) {
      if (p && git_oid_equal(&*p, &t)) {
        // A parent's tree: nothing new below; every other parent's must lie inside it.
        for (const auto& q : parents) {
          if (q && !git_oid_equal(&*q, &t)) VOUCH_RETURN_IF_ERROR(Inside(*q, t, path));
        }
        return Status::Ok();
      }
    }
    std::string where = path.empty() ? name_ + "'s tree" : name_ + " " + path;
    VOUCH_RETURN_IF_ERROR(Read(1 + parents.size()));
    VOUCH_RETURN_IF_ERROR(Header(t, GIT_OBJECT_TREE, limits_.max_tree, "tree " + Short(t) + " (" + where + ")"));
    git_tree* raw = nullptr;
    if (git_tree_lookup(&raw, repo_, &t) != 0) return Unreadable("tree " + Short(t));
    TreePtr tree(raw);
    VOUCH_RETURN_IF_ERROR(Fresh(t));
    std::vector<TreePtr> ps;
    OidSet distinct;
    for (const auto& p : parents) {
      if (!p || !distinct.insert(*p).second) continue;
      if (git_tree_lookup(&raw, repo_, &*p) != 0) return Unreadable("tree " + Short(*p));
      ps.emplace_back(raw);
    }
    // Sorted, unique names of plain files and directories: lookups by name rely on it.
    size_t n = git_tree_entrycount(raw = tree.get());
    for (size_t i = 0; i < n; ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(raw, i);
      std::string full = path + git_tree_entry_name(e);
      git_filemode_t mode = git_tree_entry_filemode(e);
      if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_TREE) {
        return Error(Code::kMalformed, name_ + " adds " + full + " as something other than a plain file");
      }
      if (i > 0 && TreeOrder(git_tree_entry_byindex(raw, i - 1), e) >= 0) {
        return Error(Code::kMalformed, name_ + " has a tree whose entries are out of order or repeated at " + full);
      }
      if (mode == GIT_FILEMODE_TREE && depth >= kLayoutTreeDepth) {
        return Error(Code::kUnsafePath, name_ + " adds " + full + "/, deeper than the layout");
      }
    }
    // Every entry of every parent is kept, with the same blob.
    for (const auto& p : ps) {
      for (size_t i = 0; i < git_tree_entrycount(p.get()); ++i) {
        const git_tree_entry* e = git_tree_entry_byindex(p.get(), i);
        const git_tree_entry* mine = git_tree_entry_byname(tree.get(), git_tree_entry_name(e));
        std::string full = path + git_tree_entry_name(e);
        if (!mine) return Error(Code::kRewritten, Deleted(e, path));
        if (git_tree_entry_type(mine) != git_tree_entry_type(e) ||
            (git_tree_entry_type(e) == GIT_OBJECT_BLOB && !git_oid_equal(git_tree_entry_id(mine), git_tree_entry_id(e)))) {
          return Error(Code::kRewritten, name_ + " changes " + full + ": the history is not append-only");
        }
      }
    }
    // What is new here: subtrees checked against the parents' (if any), files added.
    for (size_t i = 0; i < n; ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(tree.get(), i);
      std::string full = path + git_tree_entry_name(e);
      std::vector<std::optional<git_oid>> below;
      for (const auto& p : ps) {
        if (const git_tree_entry* pe = git_tree_entry_byname(p.get(), git_tree_entry_name(e))) below.emplace_back(*git_tree_entry_id(pe));
      }
      if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
        if (merge_ && below.empty()) {
          // Named by its first file, read only after its tree's header is checked.
          VOUCH_RETURN_IF_ERROR(Header(*git_tree_entry_id(e), GIT_OBJECT_TREE, limits_.max_tree, "tree " + full));
          return Error(Code::kRewritten, name_ + " is a merge that adds " + FirstFile(e, path) + " of its own");
        }
        VOUCH_RETURN_IF_ERROR(Dir(*git_tree_entry_id(e), below, full + "/", depth + 1));
        continue;
      }
      if (!below.empty()) continue;  // a parent's file, the same blob (checked above)
      if (merge_) return Error(Code::kRewritten, name_ + " is a merge that adds " + full + " of its own");
      VOUCH_RETURN_IF_ERROR(File(*git_tree_entry_id(e), full));
    }
    return Status::Ok();
  }

  // `p` lies inside `t`: every path of `p` is in `t` with the same blob. Both are trees of
  // commits already verified (or on the branch), so their sizes are known to be in bounds.
  Status Inside(const git_oid& p, const git_oid& t, const std::string& path) {
    if (git_oid_equal(&p, &t)) return Status::Ok();
    git_tree *pr = nullptr, *tr = nullptr;
    if (git_tree_lookup(&pr, repo_, &p) != 0) return Unreadable("tree " + Short(p));
    TreePtr ptree(pr);
    if (git_tree_lookup(&tr, repo_, &t) != 0) return Unreadable("tree " + Short(t));
    TreePtr ttree(tr);
    for (size_t i = 0; i < git_tree_entrycount(pr); ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(pr, i);
      const git_tree_entry* mine = git_tree_entry_byname(tr, git_tree_entry_name(e));
      std::string full = path + git_tree_entry_name(e);
      if (!mine) return Error(Code::kRewritten, Deleted(e, path));
      if (git_tree_entry_type(mine) != git_tree_entry_type(e)) {
        return Error(Code::kRewritten, name_ + " changes " + full + ": the history is not append-only");
      }
      if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
        VOUCH_RETURN_IF_ERROR(Inside(*git_tree_entry_id(e), *git_tree_entry_id(mine), full + "/"));
      } else if (!git_oid_equal(git_tree_entry_id(mine), git_tree_entry_id(e))) {
        return Error(Code::kRewritten, name_ + " changes " + full + ": the history is not append-only");
      }
    }
    return Status::Ok();
  }

  Status File(const git_oid& id, const std::string& path) {
    VOUCH_RETURN_IF_ERROR(Header(id, GIT_OBJECT_BLOB, rule_.cap(path), name_ + " adds " + path + ", whose blob"));
    git_blob* b = nullptr;
    if (git_blob_lookup(&b, repo_, &id) != 0) return Unreadable(name_ + " " + path);
    BlobPtr blob(b);
    ByteView bytes(static_cast<const uint8_t*>(git_blob_rawcontent(b)), static_cast<size_t>(git_blob_rawsize(b)));
    auto checked = rule_.check(path, bytes);
    if (!checked.ok()) return checked.status().Context(name_);
    ++out_->files;
    if (out_->added) VOUCH_RETURN_IF_ERROR(out_->added->Add(path, IdOf(id)));
    return Fresh(id);
  }

  // The file an entry stands for (its first, for a directory): what a refusal names.
  std::string FirstFile(const git_tree_entry* e, const std::string& path) {
    std::string full = path + git_tree_entry_name(e);
    git_tree* t = nullptr;
    TreePtr held;  // the tree `e` points into, from the second level on: alive while `e` is read
    while (git_tree_entry_type(e) == GIT_OBJECT_TREE && git_tree_lookup(&t, repo_, git_tree_entry_id(e)) == 0) {
      TreePtr next(t);
      if (git_tree_entrycount(t) == 0) break;
      e = git_tree_entry_byindex(t, 0);
      held = std::move(next);
      full += std::string("/") + git_tree_entry_name(e);
      if (git_tree_entry_type(e) != GIT_OBJECT_TREE) break;
    }
    git_error_clear();
    return full;
  }
  std::string Deleted(const git_tree_entry* e, const std::string& path) {
    return name_ + " deletes " + FirstFile(e, path) + ": the history is not append-only";
  }

  Status HoldDatabases() {
    git_odb* odb = nullptr;
    if (git_repository_odb(&odb, repo_) != 0) return Fail(Code::kIo, "object database");
    odb_.reset(odb);
    if (git_repository_odb(&odb, cache_) != 0) return Fail(Code::kIo, "object database");
    cache_odb_.reset(odb);
    return Status::Ok();
  }

  // Every kDropEvery objects, what libgit2 keeps of the packs read goes (Repository::
  // DropPackCaches): a walk of a large history otherwise holds 16 MiB a pack. The trees
  // held up the recursion own their bytes and stay valid.
  static constexpr size_t kDropEvery = 65536;
  //
  // Only when verifying the cache itself: a pull's quarantine reads through backends of its
  // own (a local remote's checked packs, cache/git/remote.cpp) that a database opened
  // again would not have, and it reads the cache's packs through alternates, which a new
  // quarantine database would take over, caches and all, from the cache's (a pull holds
  // what it fetched, a 1% pull of a million 26 MiB).
  Status Read(size_t objects) {
    if (repo_ != cache_ || (read_ += objects) < kDropEvery) return Status::Ok();
    read_ = 0;
    odb_.reset();
    cache_odb_.reset();
    VOUCH_RETURN_IF_ERROR(repo_obj_.DropPackCaches());
    return HoldDatabases();
  }

  // Notes an object the cache lacks, to be moved in once everything is verified. Kept on
  // disk, not in a set: an object met twice (two branches adding the same file) is noted
  // twice, which costs its bytes twice in the pack, not a set of every id in memory.
  Status Fresh(const git_oid& id) {
    if (repo_ == cache_ || !out_->fresh) return Status::Ok();  // verifying the cache itself: nothing to move
    if (git_odb_exists_ext(cache_odb_.get(), &id, GIT_ODB_LOOKUP_NO_REFRESH) == 1) return Status::Ok();
    return out_->fresh->Add(IdOf(id));
  }

  git_repository* repo_;
  git_repository* cache_;
  const Repository& repo_obj_;
  const Repository& cache_repo_;
  size_t read_ = 0;  // objects read since the last DropPackCaches
  HistoryLimits limits_;
  const Status* refusal_;
  const FileRule& rule_;
  Verified* out_;
  OdbPtr odb_, cache_odb_;
  std::vector<Node> nodes_;
  std::unordered_map<git_oid, size_t, OidHash, OidEq> index_;
  OidSet known_;
  std::string name_;  // the commit being checked
  bool merge_ = false;
};

}  // namespace

Status VerifyHistory(const Repository& repo, const Repository& cache, const ObjectId& tip,
                     const std::optional<ObjectId>& known, const HistoryLimits& limits, const Status* refusal,
                     const FileRule& rule, Verified* out) {
  History history(repo, cache, limits, refusal, rule, out);
  std::optional<git_oid> known_oid;
  if (known) known_oid = OidOf(*known);
  return history.Run(OidOf(tip), known_oid);
}

}  // namespace vouch::cache::git
