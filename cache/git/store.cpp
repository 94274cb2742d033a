#include "cache/git/store.h"

#include <set>

namespace vouch::cache::git {

namespace {

// Writes the tree for entries[begin, end), whose paths all start with `prefix` bytes that
// name this directory, on top of `base` (may be null). Sorted input lets each directory
// be a contiguous range, so no path is copied on the way down.
Result<ObjectId> Insert(git_repository* repo, const git_tree* base, const std::vector<const PathEntry*>& entries, size_t begin,
                        size_t end, size_t prefix, std::vector<ObjectId>* written) {
  git_treebuilder* raw = nullptr;
  if (git_treebuilder_new(&raw, repo, base) != 0) return Fail(Code::kInternal, "tree builder");
  TreeBuilderPtr tb(raw);
  std::string name;
  for (size_t i = begin; i < end;) {
    std::string_view rest = std::string_view(entries[i]->first).substr(prefix);
    size_t slash = rest.find('/');
    name.assign(rest.substr(0, slash));
    const git_tree_entry* existing = base ? git_tree_entry_byname(base, name.c_str()) : nullptr;
    if (slash == std::string_view::npos) {
      if (existing) {
        if (IdOf(*git_tree_entry_id(existing)) != entries[i]->second) {
          return Error(Code::kIdMismatch, entries[i]->first + " is already in the cache with other bytes");
        }
      } else {
        git_oid blob = OidOf(entries[i]->second);
        if (git_treebuilder_insert(nullptr, tb.get(), name.c_str(), &blob, GIT_FILEMODE_BLOB) != 0) {
          return Fail(Code::kInternal, "tree insert " + name);
        }
      }
      ++i;
      continue;
    }
    // The run of entries under this subdirectory.
    size_t sub_prefix = prefix + slash + 1;
    size_t j = i + 1;
    while (j < end && entries[j]->first.size() > sub_prefix &&
           entries[j]->first.compare(0, sub_prefix, entries[i]->first, 0, sub_prefix) == 0) {
      ++j;
    }
    TreePtr subtree;
    if (existing) {
      if (git_tree_entry_type(existing) != GIT_OBJECT_TREE) return Error(Code::kMalformed, name + " is not a directory in the cache");
      git_tree* t = nullptr;
      if (git_tree_lookup(&t, repo, git_tree_entry_id(existing)) != 0) return Fail(Code::kMalformed, "tree " + name);
      subtree.reset(t);
    }
    VOUCH_ASSIGN_OR_RETURN(ObjectId sub_id, Insert(repo, subtree.get(), entries, i, j, sub_prefix, written));
    git_oid sub_oid = OidOf(sub_id);
    if (git_treebuilder_insert(nullptr, tb.get(), name.c_str(), &sub_oid, GIT_FILEMODE_TREE) != 0) {
      return Fail(Code::kInternal, "tree insert " + name);
    }
    i = j;
  }
  git_oid out;
  if (git_treebuilder_write(&out, tb.get()) != 0) return Fail(Code::kIo, "tree write");
  written->push_back(IdOf(out));
  return IdOf(out);
}

}  // namespace

Result<ObjectId> InsertPaths(git_repository* repo, const git_tree* base, const std::vector<const PathEntry*>& entries,
                             std::vector<ObjectId>* written) {
  return Insert(repo, base, entries, 0, entries.size(), 0, written);
}

Result<ObjectId> ReplacePaths(git_repository* repo, const git_tree* base, const std::vector<PathChange>& changes,
                              std::vector<ObjectId>* written) {
  std::vector<git_tree_update> updates(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    updates[i].action = changes[i].blob ? GIT_TREE_UPDATE_UPSERT : GIT_TREE_UPDATE_REMOVE;
    if (changes[i].blob) updates[i].id = OidOf(*changes[i].blob);
    updates[i].filemode = GIT_FILEMODE_BLOB;
    updates[i].path = changes[i].path.c_str();
  }
  git_oid out;
  if (git_tree_create_updated(&out, repo, const_cast<git_tree*>(base), updates.size(), updates.data()) != 0) {
    return Fail(Code::kInternal, "tree update");
  }
  // The trees libgit2 wrote: the root and every directory on a changed path (some may have
  // existed already; packing one twice is harmless).
  git_tree* raw = nullptr;
  if (git_tree_lookup(&raw, repo, &out) != 0) return Fail(Code::kInternal, "tree lookup");
  TreePtr root(raw);
  std::set<std::string> dirs;
  for (const PathChange& c : changes) {
    for (size_t slash = c.path.find('/'); slash != std::string::npos; slash = c.path.find('/', slash + 1)) {
      dirs.insert(c.path.substr(0, slash));
    }
  }
  written->push_back(IdOf(out));
  for (const std::string& d : dirs) {
    git_tree_entry* e = nullptr;
    if (git_tree_entry_bypath(&e, root.get(), d.c_str()) != 0) continue;  // removed with its last file
    if (git_tree_entry_type(e) == GIT_OBJECT_TREE) written->push_back(IdOf(*git_tree_entry_id(e)));
    git_tree_entry_free(e);
  }
  return IdOf(out);
}

Result<ObjectId> MakeCommit(git_repository* repo, const ObjectId& tree_id, const std::vector<ObjectId>& parents,
                            const std::string& message) {
  git_oid tree_oid = OidOf(tree_id);
  git_tree* t = nullptr;
  if (git_tree_lookup(&t, repo, &tree_oid) != 0) return Fail(Code::kInternal, "tree lookup");
  TreePtr tree(t);
  std::vector<CommitPtr> owned;
  std::vector<const git_commit*> ps;
  for (const auto& p : parents) {
    git_commit* c = nullptr;
    git_oid parent = OidOf(p);
    if (git_commit_lookup(&c, repo, &parent) != 0) return Fail(Code::kInternal, "parent lookup");
    owned.emplace_back(c);
    ps.push_back(c);
  }
  git_signature* sig = nullptr;
  if (git_signature_now(&sig, "vouch", "vouch@localhost") != 0) return Fail(Code::kInternal, "signature");
  SignaturePtr sp(sig);
  git_oid out;
  if (git_commit_create(&out, repo, nullptr, sig, sig, nullptr, message.c_str(), tree.get(), ps.size(), ps.data()) != 0) {
    return Fail(Code::kIo, "commit");
  }
  return IdOf(out);
}

}  // namespace vouch::cache::git
