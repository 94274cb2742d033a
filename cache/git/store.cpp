#include "cache/git/store.h"

#include <set>

namespace vouch::cache::git {

namespace {

// Writes the tree of the directory `prefix` names ("" the root; else ending in '/') on top
// of `base` (may be null), taking from `entries` every path under it. Sorted input makes
// each directory a contiguous run, so one pass builds every tree bottom up and only the
// builders of the directories on the way to the current path are alive.
Result<ObjectId> Insert(git_repository* repo, const git_tree* base, PathSource& entries, const std::string& prefix,
                        const TreeWritten& written, size_t* added) {
  git_treebuilder* raw = nullptr;
  if (git_treebuilder_new(&raw, repo, base) != 0) return Fail(Code::kInternal, "tree builder");
  TreeBuilderPtr tb(raw);
  std::string name;
  for (const PathEntry* e = entries.Current(); e; e = entries.Current()) {
    const std::string& path = e->first;
    if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) break;  // past this directory
    std::string_view rest = std::string_view(path).substr(prefix.size());
    size_t slash = rest.find('/');
    name.assign(rest.substr(0, slash));
    const git_tree_entry* existing = base ? git_tree_entry_byname(base, name.c_str()) : nullptr;
    if (slash == std::string_view::npos) {
      if (existing) {
        if (IdOf(*git_tree_entry_id(existing)) != e->second) {
          return Error(Code::kIdMismatch, path + " is already in the cache with other bytes");
        }
      } else {
        git_oid blob = OidOf(e->second);
        if (git_treebuilder_insert(nullptr, tb.get(), name.c_str(), &blob, GIT_FILEMODE_BLOB) != 0) {
          return Fail(Code::kInternal, "tree insert " + name);
        }
        ++*added;
      }
      VOUCH_RETURN_IF_ERROR(entries.Next());
      continue;
    }
    TreePtr subtree;
    if (existing) {
      if (git_tree_entry_type(existing) != GIT_OBJECT_TREE) return Error(Code::kMalformed, name + " is not a directory in the cache");
      git_tree* t = nullptr;
      if (git_tree_lookup(&t, repo, git_tree_entry_id(existing)) != 0) return Fail(Code::kMalformed, "tree " + name);
      subtree.reset(t);
    }
    std::string sub_prefix = prefix + name + "/";
    VOUCH_ASSIGN_OR_RETURN(ObjectId sub_id, Insert(repo, subtree.get(), entries, sub_prefix, written, added));
    git_oid sub_oid = OidOf(sub_id);
    if (git_treebuilder_insert(nullptr, tb.get(), name.c_str(), &sub_oid, GIT_FILEMODE_TREE) != 0) {
      return Fail(Code::kInternal, "tree insert " + name);
    }
  }
  git_oid out;
  if (git_treebuilder_write(&out, tb.get()) != 0) return Fail(Code::kIo, "tree write");
  // A tree's size: 28 bytes of header and id per entry, and the names.
  VOUCH_RETURN_IF_ERROR(written(IdOf(out), 64 * static_cast<uint64_t>(git_treebuilder_entrycount(tb.get()))));
  return IdOf(out);
}

}  // namespace

Result<GrownTree> InsertPaths(git_repository* repo, const git_tree* base, PathSource& entries, const TreeWritten& written) {
  GrownTree grown;
  VOUCH_ASSIGN_OR_RETURN(grown.tree, Insert(repo, base, entries, "", written, &grown.added));
  if (entries.Current()) return Error(Code::kInternal, "paths out of order at " + entries.Current()->first);
  return grown;
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
