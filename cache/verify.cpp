// Cache::Verify and Cache::VerifyRange: proving a history append-only.
#include <set>

#include "cache/cache.h"
#include "cache/git/git.h"
#include "cache/git/store.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"

namespace vouch::cache {
namespace {

Result<git::TreePtr> CommitTree(git_commit* c) {
  git_tree* t = nullptr;
  if (git_commit_tree(&t, c) != 0) return git::Fail(Code::kMalformed, "tree of " + git::OidText(*git_commit_id(c)));
  return git::TreePtr(t);
}

bool HasBlob(const git_tree* tree, const char* path, const git_oid& oid) {
  git_tree_entry* e = nullptr;
  if (git_tree_entry_bypath(&e, tree, path) != 0) {
    git_error_clear();
    return false;
  }
  git::TreeEntryPtr owned(e);
  return git_oid_equal(git_tree_entry_id(e), &oid) && git_tree_entry_filemode(e) == GIT_FILEMODE_BLOB;
}

}  // namespace

Status Cache::VerifyRange(const std::string& tip_hex, const std::optional<std::string>& known, size_t* commits,
                          std::map<std::string, git_oid>* added) const {
  git_oid tip;
  if (git_oid_fromstr(&tip, tip_hex.c_str()) != 0) return git::Fail(Code::kInternal, "object id");
  git_revwalk* w = nullptr;
  if (git_revwalk_new(&w, repo_) != 0) return git::Fail(Code::kInternal, "revwalk");
  git::RevwalkPtr walk(w);
  // Oldest first, so the first offending commit is the one reported.
  git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
  if (git_revwalk_push(w, &tip) != 0) return git::Fail(Code::kMalformed, "history of " + tip_hex);
  if (known) {
    git_oid k;
    if (git_oid_fromstr(&k, known->c_str()) == 0) git_revwalk_hide(w, &k);
    git_error_clear();
  }
  git_oid id;
  size_t n = 0;
  while (git_revwalk_next(&id, w) == 0) {
    ++n;
    std::string name = "commit " + git::OidText(id).substr(0, 12);
    git_commit* c = nullptr;
    if (git_commit_lookup(&c, repo_, &id) != 0) return git::Fail(Code::kMalformed, name);
    git::CommitPtr commit(c);
    VOUCH_ASSIGN_OR_RETURN(git::TreePtr tree, CommitTree(c));
    unsigned parents = git_commit_parentcount(c);
    std::vector<git::TreePtr> parent_trees;
    for (unsigned i = 0; i < parents; ++i) {
      git_commit* p = nullptr;
      if (git_commit_parent(&p, c, i) != 0) return git::Fail(Code::kMalformed, name + " parent");
      git::CommitPtr pc(p);
      VOUCH_ASSIGN_OR_RETURN(git::TreePtr pt, CommitTree(p));
      parent_trees.push_back(std::move(pt));
    }
    // Against each parent (or the empty tree for a root): only additions.
    size_t sides = parents ? parents : 1;
    for (size_t i = 0; i < sides; ++i) {
      git_tree* base = parents ? parent_trees[i].get() : nullptr;
      git_diff* d = nullptr;
      if (git_diff_tree_to_tree(&d, repo_, base, tree.get(), nullptr) != 0) return git::Fail(Code::kMalformed, name + " diff");
      git::DiffPtr diff(d);
      for (size_t k = 0; k < git_diff_num_deltas(d); ++k) {
        const git_diff_delta* delta = git_diff_get_delta(d, k);
        const char* path = delta->new_file.path;
        if (delta->status != GIT_DELTA_ADDED) {
          const char* what = delta->status == GIT_DELTA_DELETED ? "deletes" : "changes";
          return Error(Code::kRewritten, name + " " + what + " " + delta->old_file.path + ": the history is not append-only");
        }
        if (delta->new_file.mode != GIT_FILEMODE_BLOB) {
          return Error(Code::kMalformed, name + " adds " + path + " as something other than a plain file");
        }
        if (parents >= 2) {
          // A merge is the union of its parents: whatever it adds against one parent must
          // come, byte for byte, from another.
          bool from_other = false;
          for (size_t j = 0; j < parents && !from_other; ++j) {
            from_other = j != i && HasBlob(parent_trees[j].get(), path, delta->new_file.id);
          }
          if (!from_other) return Error(Code::kRewritten, name + " is a merge that adds " + path + " of its own");
          continue;
        }
        git_blob* b = nullptr;
        if (git_blob_lookup(&b, repo_, &delta->new_file.id) != 0) return git::Fail(Code::kMalformed, name + " " + path);
        git::BlobPtr blob(b);
        if (static_cast<uint64_t>(git_blob_rawsize(b)) > formats::kMaxVoucherSize) {
          return Error(Code::kTooLarge, name + " adds " + path + ", over the voucher cap");
        }
        ByteView bytes(static_cast<const uint8_t*>(git_blob_rawcontent(b)), static_cast<size_t>(git_blob_rawsize(b)));
        auto checked = CheckVoucher(path, bytes);
        if (!checked.ok()) return checked.status().Context(name);
        if (added) (*added)[path] = delta->new_file.id;
      }
    }
  }
  if (commits) *commits = n;
  return Status::Ok();
}

Status Cache::Verify() const {
  VOUCH_ASSIGN_OR_RETURN(std::optional<std::string> tip, Tip());
  if (!tip) return Status::Ok();
  return VerifyRange(*tip, std::nullopt, nullptr, nullptr);
}

}  // namespace vouch::cache
