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

Result<git_oid> Insert(git_repository* repo, const git_tree* base, const std::map<std::string, git_oid>& entries,
                       std::vector<git_oid>* written) {
  git_treebuilder* raw = nullptr;
  if (git_treebuilder_new(&raw, repo, base) != 0) return Fail(Code::kInternal, "tree builder");
  TreeBuilderPtr tb(raw);
  // Group by first path component; leaves go in directly, directories recurse.
  auto it = entries.begin();
  while (it != entries.end()) {
    std::string_view path = it->first;
    size_t slash = path.find('/');
    std::string name(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      const git_tree_entry* existing = base ? git_tree_entry_byname(base, name.c_str()) : nullptr;
      if (existing) {
        if (git_oid_cmp(git_tree_entry_id(existing), &it->second) != 0) {
          return Error(Code::kIdMismatch, name + " is already in the cache with other bytes");
        }
      } else if (git_treebuilder_insert(nullptr, tb.get(), name.c_str(), &it->second, GIT_FILEMODE_BLOB) != 0) {
        return Fail(Code::kInternal, "tree insert " + name);
      }
      ++it;
      continue;
    }
    std::map<std::string, git_oid> sub;
    std::string prefix = name + "/";
    for (; it != entries.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      sub.emplace(it->first.substr(prefix.size()), it->second);
    }
    TreePtr subtree;
    if (base) {
      const git_tree_entry* e = git_tree_entry_byname(base, name.c_str());
      if (e) {
        if (git_tree_entry_type(e) != GIT_OBJECT_TREE) return Error(Code::kMalformed, name + " is not a directory in the cache");
        git_tree* t = nullptr;
        if (git_tree_lookup(&t, repo, git_tree_entry_id(e)) != 0) return Fail(Code::kMalformed, "tree " + name);
        subtree.reset(t);
      }
    }
    VOUCH_ASSIGN_OR_RETURN(git_oid sub_oid, Insert(repo, subtree.get(), sub, written));
    if (git_treebuilder_insert(nullptr, tb.get(), name.c_str(), &sub_oid, GIT_FILEMODE_TREE) != 0) {
      return Fail(Code::kInternal, "tree insert " + name);
    }
  }
  git_oid out;
  if (git_treebuilder_write(&out, tb.get()) != 0) return Fail(Code::kIo, "tree write");
  written->push_back(out);
  return out;
}

}  // namespace

Result<git_oid> InsertPaths(git_repository* repo, const git_tree* base, const std::map<std::string, git_oid>& entries,
                            std::vector<git_oid>* written) {
  return Insert(repo, base, entries, written);
}

Result<PackSession> PackSession::Begin(git_repository* repo) {
  PackSession s;
  s.repo_ = repo;
  if (git_repository_odb(&s.odb_, repo) != 0) return Fail(Code::kIo, "object database");
  if (git_mempack_new(&s.mempack_) != 0) return Fail(Code::kInternal, "mempack");
  // Priority above the loose and pack backends: every write lands in memory first.
  if (git_odb_add_backend(s.odb_, s.mempack_, 999) != 0) {
    s.mempack_->free(s.mempack_);
    s.mempack_ = nullptr;
    return Fail(Code::kInternal, "mempack backend");
  }
  return s;
}

PackSession::PackSession(PackSession&& o) noexcept { *this = std::move(o); }
PackSession& PackSession::operator=(PackSession&& o) noexcept {
  std::swap(repo_, o.repo_);
  std::swap(odb_, o.odb_);
  std::swap(mempack_, o.mempack_);
  std::swap(pending_, o.pending_);
  return *this;
}

PackSession::~PackSession() {
  // The odb owns the backend once added; freeing the odb reference is enough. The
  // repository keeps its odb, so the mempack stays attached but empty after a reset.
  if (mempack_) git_mempack_reset(mempack_);
  if (odb_) git_odb_free(odb_);
}

Result<git_oid> PackSession::WriteBlob(ByteView data) {
  git_oid oid;
  if (git_blob_create_from_buffer(&oid, repo_, data.data(), data.size()) != 0) return Fail(Code::kIo, "blob write");
  pending_.push_back(oid);
  return oid;
}

Status PackSession::Flush() {
  if (pending_.empty()) return Status::Ok();
  git_packbuilder* raw = nullptr;
  if (git_packbuilder_new(&raw, repo_) != 0) return Fail(Code::kInternal, "packbuilder");
  std::unique_ptr<git_packbuilder, Deleter<git_packbuilder_free>> pb(raw);
  git_packbuilder_set_threads(raw, 0);  // 0: as many as there are cores
  for (const auto& oid : pending_) {
    if (git_packbuilder_insert(raw, &oid, nullptr) != 0) return Fail(Code::kIo, "pack object " + OidText(oid));
  }
  git_buf pack = GIT_BUF_INIT;
  if (git_packbuilder_write_buf(&pack, raw) != 0) return Fail(Code::kIo, "pack build");
  git_odb_writepack* wp = nullptr;
  git_indexer_progress stats{};
  Status s;
  if (git_odb_write_pack(&wp, odb_, nullptr, nullptr) != 0) {
    s = Fail(Code::kIo, "pack write");
  } else {
    if (wp->append(wp, pack.ptr, pack.size, &stats) != 0 || wp->commit(wp, &stats) != 0) s = Fail(Code::kIo, "pack index");
    wp->free(wp);
  }
  git_buf_dispose(&pack);
  if (s.ok()) {
    git_mempack_reset(mempack_);
    pending_.clear();
  }
  return s;
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
