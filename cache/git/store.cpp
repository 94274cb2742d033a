#include "cache/git/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>

#include <ctime>

namespace vouch::cache::git {

Result<std::optional<git_oid>> ResolveRef(git_repository* repo, const char* ref) {
  git_oid oid;
  int rc = git_reference_name_to_id(&oid, repo, ref);
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return std::optional<git_oid>();
  }
  if (rc != 0) return Fail(Code::kMalformed, std::string("cannot resolve ") + ref, rc);
  return std::optional<git_oid>(oid);
}

Result<TreePtr> TreeOf(git_repository* repo, const git_oid& commit) {
  git_commit* c = nullptr;
  if (git_commit_lookup(&c, repo, &commit) != 0) return Fail(Code::kMalformed, "commit " + OidText(commit));
  CommitPtr cp(c);
  git_tree* t = nullptr;
  if (git_commit_tree(&t, c) != 0) return Fail(Code::kMalformed, "tree of commit " + OidText(commit));
  return TreePtr(t);
}

namespace {

// Writes the tree for entries[begin, end), whose paths all start with `prefix` bytes that
// name this directory, on top of `base` (may be null). Sorted input lets each directory
// be a contiguous range, so no path is copied on the way down.
Result<git_oid> Insert(git_repository* repo, const git_tree* base, const std::vector<const PathEntry*>& entries, size_t begin,
                       size_t end, size_t prefix, std::vector<git_oid>* written) {
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
        if (git_oid_cmp(git_tree_entry_id(existing), &entries[i]->second) != 0) {
          return Error(Code::kIdMismatch, entries[i]->first + " is already in the cache with other bytes");
        }
      } else if (git_treebuilder_insert(nullptr, tb.get(), name.c_str(), &entries[i]->second, GIT_FILEMODE_BLOB) != 0) {
        return Fail(Code::kInternal, "tree insert " + name);
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
    VOUCH_ASSIGN_OR_RETURN(git_oid sub_oid, Insert(repo, subtree.get(), entries, i, j, sub_prefix, written));
    if (git_treebuilder_insert(nullptr, tb.get(), name.c_str(), &sub_oid, GIT_FILEMODE_TREE) != 0) {
      return Fail(Code::kInternal, "tree insert " + name);
    }
    i = j;
  }
  git_oid out;
  if (git_treebuilder_write(&out, tb.get()) != 0) return Fail(Code::kIo, "tree write");
  written->push_back(out);
  return out;
}

}  // namespace

Result<git_oid> InsertPaths(git_repository* repo, const git_tree* base, const std::vector<const PathEntry*>& entries,
                            std::vector<git_oid>* written) {
  return Insert(repo, base, entries, 0, entries.size(), 0, written);
}

Result<git_oid> MakeCommit(git_repository* repo, const git_oid& tree_oid, const std::vector<git_oid>& parents,
                           const std::string& message) {
  git_tree* t = nullptr;
  if (git_tree_lookup(&t, repo, &tree_oid) != 0) return Fail(Code::kInternal, "tree lookup");
  TreePtr tree(t);
  std::vector<CommitPtr> owned;
  std::vector<const git_commit*> ps;
  for (const auto& p : parents) {
    git_commit* c = nullptr;
    if (git_commit_lookup(&c, repo, &p) != 0) return Fail(Code::kInternal, "parent lookup");
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
  return out;
}

Status CompareAndSwap(git_repository* repo, const char* ref, const git_oid& to, const std::optional<git_oid>& from,
                      const std::string& log) {
  std::string repo_path = git_repository_path(repo);
  VOUCH_ASSIGN_OR_RETURN(CacheLock lock, CacheLock::Take(repo_path, CacheLock::Mode::kExclusive, true, "ref-lock"));
  std::string lock_file = repo_path + ref + ".lock";
  struct stat st;
  if (::stat(lock_file.c_str(), &st) == 0 && st.st_mtime + 2 < ::time(nullptr)) ::unlink(lock_file.c_str());
  git_reference* r = nullptr;
  int rc = from ? git_reference_create_matching(&r, repo, ref, &to, 1, &*from, log.c_str())
                : git_reference_create(&r, repo, ref, &to, 0, log.c_str());
  git_reference_free(r);
  if (rc == 0) return Status::Ok();
  if (rc == GIT_EMODIFIED || rc == GIT_ELOCKED || rc == GIT_EEXISTS) {
    git_error_clear();
    return Error(Code::kExists, std::string(ref) + " moved meanwhile");
  }
  return Fail(Code::kIo, std::string("cannot move ") + ref, rc);
}

namespace {

std::string RemotesFile(git_repository* repo) { return std::string(git_repository_path(repo)) + "vouch/remotes"; }

}  // namespace

Status RecordRemote(git_repository* repo, const std::string& key, const std::string& url) {
  git_config* raw = nullptr;
  std::string path = RemotesFile(repo);
  if (git_config_open_ondisk(&raw, path.c_str()) != 0) return Fail(Code::kIo, path);
  std::unique_ptr<git_config, Deleter<git_config_free>> cfg(raw);
  std::string name = "remote." + key + ".url";
  git_buf old = GIT_BUF_INIT;
  bool same = git_config_get_string_buf(&old, raw, name.c_str()) == 0 && url == old.ptr;
  git_buf_dispose(&old);
  git_error_clear();
  if (!same && git_config_set_string(raw, name.c_str(), url.c_str()) != 0) return Fail(Code::kIo, path);
  return Status::Ok();
}

std::string RemoteUrl(git_repository* repo, const std::string& key) {
  git_config* raw = nullptr;
  std::string path = RemotesFile(repo), url = key;
  if (::access(path.c_str(), R_OK) == 0 && git_config_open_ondisk(&raw, path.c_str()) == 0) {
    git_buf buf = GIT_BUF_INIT;
    if (git_config_get_string_buf(&buf, raw, ("remote." + key + ".url").c_str()) == 0) url = buf.ptr;
    git_buf_dispose(&buf);
    git_config_free(raw);
  }
  git_error_clear();
  return url;
}

Result<bool> IsAncestor(git_repository* repo, const git_oid& ancestor, const git_oid& descendant) {
  if (git_oid_equal(&ancestor, &descendant)) return true;
  int rc = git_graph_descendant_of(repo, &descendant, &ancestor);
  if (rc < 0) return Fail(Code::kMalformed, "history walk", rc);
  return rc == 1;
}

Result<CacheLock> CacheLock::Take(const std::string& cache_path, Mode mode, bool wait, const char* name) {
  std::string path = cache_path + "/vouch/" + name;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error(Code::kIo, path + ": cannot open lock");
  int op = (mode == Mode::kShared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB);
  while (::flock(fd, op) != 0) {
    if (errno == EINTR) continue;
    ::close(fd);
    return Error(Code::kExists, path + ": busy");
  }
  return CacheLock(fd);
}

CacheLock::~CacheLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace vouch::cache::git
