#include "cache/git/tree_walk.h"

#include "cache/git/git.h"

namespace vouch::cache::git {

namespace {

int CollectFile(const char* root, const git_tree_entry* e, void* payload) {
  if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
    auto* w = static_cast<std::pair<std::string, DirectoryWalk::Directory*>*>(payload);
    w->second->files.emplace_back(w->first + root + git_tree_entry_name(e), IdOf(*git_tree_entry_id(e)));
  }
  return 0;
}

}  // namespace

Result<DirectoryWalk> DirectoryWalk::Start(const Tree& tree, std::string_view under, int depth) {
  DirectoryWalk w;
  w.depth_ = depth;
  if (!tree.handle()) return w;
  const std::string dir(under);
  VOUCH_ASSIGN_OR_RETURN(TreePtr t, SubtreeAt(tree.handle(), dir));
  if (!t) return w;  // no such folder: nothing below it
  w.frames_.push_back(Frame{std::unique_ptr<git_tree, TreeFree>(t.release()), 0, dir + "/"});
  w.root_ = dir.size() + 1;
  return w;
}

Result<std::optional<DirectoryWalk::Directory>> DirectoryWalk::Next(const std::function<bool(std::string_view)>& want) {
  while (!frames_.empty()) {
    Frame& top = frames_.back();
    if (top.next == git_tree_entrycount(top.tree.get())) {
      frames_.pop_back();
      continue;
    }
    const git_tree_entry* e = git_tree_entry_byindex(top.tree.get(), top.next++);
    const std::string name = git_tree_entry_name(e);
    const bool at_depth = static_cast<int>(frames_.size()) == depth_;
    if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
      if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) continue;  // a submodule is no file (Tree::Files skips it too)
      Directory alone;
      alone.below = top.path.substr(root_) + name;
      alone.files.emplace_back(top.path + name, IdOf(*git_tree_entry_id(e)));
      return std::optional<Directory>(std::move(alone));
    }
    if (at_depth && !want(name)) continue;
    git_tree* t = nullptr;
    if (git_tree_lookup(&t, git_tree_owner(top.tree.get()), git_tree_entry_id(e)) != 0) {
      return Fail(Code::kMalformed, "tree " + top.path + name);
    }
    std::unique_ptr<git_tree, TreeFree> sub(t);
    std::string path = top.path + name + "/";
    if (!at_depth) {
      frames_.push_back(Frame{std::move(sub), 0, std::move(path)});
      continue;
    }
    Directory d;
    d.name = name;
    d.below = path.substr(root_);
    std::pair<std::string, Directory*> walk{std::move(path), &d};
    if (git_tree_walk(t, GIT_TREEWALK_PRE, CollectFile, &walk) != 0) return Fail(Code::kMalformed, "tree walk of " + walk.first);
    return std::optional<Directory>(std::move(d));
  }
  return std::optional<Directory>();
}

}  // namespace vouch::cache::git
