// Cache::Pull and Cache::Push: mirroring over ordinary git remotes.
#include <filesystem>

#include "cache/cache.h"
#include "cache/git/git.h"
#include "cache/git/store.h"

namespace vouch::cache {
namespace {

// A configured remote by name, else an anonymous one for a URL or path.
Result<git::RemotePtr> OpenRemote(git_repository* repo, const std::string& name_or_url, std::string* url) {
  git_remote* r = nullptr;
  if (git_remote_lookup(&r, repo, name_or_url.c_str()) == 0) {
    *url = git_remote_url(r);
    return git::RemotePtr(r);
  }
  git_error_clear();
  *url = name_or_url;
  std::error_code ec;
  if (std::filesystem::exists(name_or_url, ec)) *url = std::filesystem::absolute(name_or_url).string();
  if (git_remote_create_anonymous(&r, repo, url->c_str()) != 0) return git::Fail(Code::kUsage, "remote '" + name_or_url + "'");
  return git::RemotePtr(r);
}

// One private ref name per remote URL: where its branch lands, and the tip last accepted.
std::string KeyOf(const std::string& url) {
  git_oid oid;
  git_odb_hash(&oid, url.data(), url.size(), GIT_OBJECT_BLOB);
  return git::OidText(oid);
}

void DeleteRef(git_repository* repo, const std::string& ref) {
  git_reference* r = nullptr;
  if (git_reference_lookup(&r, repo, ref.c_str()) == 0) {
    git_reference_delete(r);
    git_reference_free(r);
  }
  git_error_clear();
}

Status SetRef(git_repository* repo, const std::string& ref, const git_oid& to) {
  git_reference* r = nullptr;
  int rc = git_reference_create(&r, repo, ref.c_str(), &to, 1, "vouch: remote tip");
  git_reference_free(r);
  return rc == 0 ? Status::Ok() : git::Fail(Code::kIo, ref);
}

}  // namespace

Result<Cache::PullReport> Cache::Pull(const std::string& remote_name) {
  std::string url;
  VOUCH_ASSIGN_OR_RETURN(git::RemotePtr remote, OpenRemote(repo_, remote_name, &url));
  std::string key = KeyOf(url);
  std::string incoming_ref = "refs/vouch/incoming/" + key, tracking_ref = "refs/vouch/remotes/" + key;
  std::string spec = "+" + std::string(kBranch) + ":" + incoming_ref;
  char* specs[] = {spec.data()};
  git_strarray refspecs = {specs, 1};
  git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  if (git_remote_fetch(remote.get(), &refspecs, &opts, "vouch: pull") != 0) return git::Fail(Code::kIo, "fetch from " + url);
  PullReport report;
  report.received_bytes = git_remote_stats(remote.get())->received_bytes;

  VOUCH_ASSIGN_OR_RETURN(std::optional<git_oid> incoming, git::ResolveRef(repo_, incoming_ref.c_str()));
  if (!incoming) return Error(Code::kNotFound, url + " has no " + std::string(kBranch));
  auto refuse = [&](Status s) {
    DeleteRef(repo_, incoming_ref);
    return s.Context("pull from " + url);
  };
  // A remote that no longer contains what we accepted from it before has been rewritten.
  VOUCH_ASSIGN_OR_RETURN(std::optional<git_oid> tracked, git::ResolveRef(repo_, tracking_ref.c_str()));
  if (tracked) {
    auto contains = git::IsAncestor(repo_, *tracked, *incoming);
    if (!contains.ok()) return refuse(contains.status());
    if (!*contains) {
      return refuse(Error(Code::kRewritten, "remote history was rewritten: it no longer contains " +
                                                git::OidText(*tracked).substr(0, 12) + ", pulled before"));
    }
  }
  VOUCH_ASSIGN_OR_RETURN(std::optional<std::string> local, Tip());
  std::map<std::string, git_oid> added;
  // Only what is new is verified: the cost follows the delta, not the cache.
  Status v = VerifyRange(git::OidText(*incoming), local, &report.new_commits, &added);
  if (!v.ok()) return refuse(v);

  std::string incoming_hex = git::OidText(*incoming);
  report.tip = incoming_hex;
  bool done = false;
  if (!local) {
    done = git::CompareAndSwap(repo_, std::string(kBranch).c_str(), *incoming, std::nullopt, "vouch: pull").ok();
    if (done) report.kind = PullReport::Kind::kFastForward;
  } else {
    git_oid local_oid;
    git_oid_fromstr(&local_oid, local->c_str());
    VOUCH_ASSIGN_OR_RETURN(bool behind, git::IsAncestor(repo_, *incoming, local_oid));
    VOUCH_ASSIGN_OR_RETURN(bool ahead, git::IsAncestor(repo_, local_oid, *incoming));
    if (behind) {
      report.kind = git_oid_equal(&local_oid, &*incoming) ? PullReport::Kind::kUpToDate : PullReport::Kind::kRemoteBehind;
      report.tip = *local;
      done = true;
    } else if (ahead) {
      done = git::CompareAndSwap(repo_, std::string(kBranch).c_str(), *incoming, local_oid, "vouch: pull").ok();
      if (done) report.kind = PullReport::Kind::kFastForward;
    }
  }
  if (!done) {
    // Diverged (or raced): a merge commit whose tree is the union of both sides.
    size_t n = 0;
    VOUCH_ASSIGN_OR_RETURN(report.tip, CommitOnTip(added, incoming_hex, "vouch: merge vouchers from " + url, &n));
    report.kind = PullReport::Kind::kMerged;
  }
  report.new_vouchers = report.kind == PullReport::Kind::kRemoteBehind || report.kind == PullReport::Kind::kUpToDate ? 0 : added.size();
  VOUCH_RETURN_IF_ERROR(SetRef(repo_, tracking_ref, *incoming));
  DeleteRef(repo_, incoming_ref);
  return report;
}

namespace {

struct PushState {
  std::string rejected;
};

int OnPushUpdate(const char* refname, const char* status, void* payload) {
  if (status) static_cast<PushState*>(payload)->rejected = std::string(refname) + ": " + status;
  return 0;
}

}  // namespace

Status Cache::Push(const std::string& remote_name) {
  std::string url;
  VOUCH_ASSIGN_OR_RETURN(git::RemotePtr remote, OpenRemote(repo_, remote_name, &url));
  VOUCH_ASSIGN_OR_RETURN(std::optional<git_oid> local, git::ResolveRef(repo_, std::string(kBranch).c_str()));
  if (!local) return Error(Code::kNotFound, "the cache is empty: nothing to push");
  // Fast-forward only, checked here so the refusal is precise rather than the server's.
  git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
  if (git_remote_connect(remote.get(), GIT_DIRECTION_FETCH, &cb, nullptr, nullptr) != 0) {
    return git::Fail(Code::kIo, "connect to " + url);
  }
  const git_remote_head** heads = nullptr;
  size_t n = 0;
  if (git_remote_ls(&heads, &n, remote.get()) != 0) return git::Fail(Code::kIo, "list " + url);
  std::optional<git_oid> theirs;
  for (size_t i = 0; i < n; ++i) {
    if (std::string(heads[i]->name) == kBranch) theirs = heads[i]->oid;
  }
  git_remote_disconnect(remote.get());
  if (theirs) {
    git_odb* odb = nullptr;
    git_repository_odb(&odb, repo_);
    bool known = git_odb_exists(odb, &*theirs) == 1;
    git_odb_free(odb);
    bool ff = false;
    if (known) {
      VOUCH_ASSIGN_OR_RETURN(ff, git::IsAncestor(repo_, *theirs, *local));
    }
    if (!ff) return Error(Code::kRewritten, url + " has vouchers this cache lacks (not a fast-forward): pull first");
    if (git_oid_equal(&*theirs, &*local)) return Status::Ok();
  }
  std::string spec = std::string(kBranch) + ":" + std::string(kBranch);  // no '+': never forced
  char* specs[] = {spec.data()};
  git_strarray refspecs = {specs, 1};
  PushState state;
  git_push_options opts = GIT_PUSH_OPTIONS_INIT;
  opts.callbacks.push_update_reference = OnPushUpdate;
  opts.callbacks.payload = &state;
  if (git_remote_push(remote.get(), &refspecs, &opts) != 0) return git::Fail(Code::kIo, "push to " + url);
  if (!state.rejected.empty()) return Error(Code::kRewritten, url + " refused the push: " + state.rejected);
  return Status::Ok();
}

}  // namespace vouch::cache
