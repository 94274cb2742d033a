// Cache::Pull and Cache::Push: mirroring over ordinary git remotes.
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "cache/cache.h"
#include "cache/git/git.h"
#include "cache/git/remote.h"
#include "cache/git/store.h"
#include "formats/voucher_json.h"

namespace vouch::cache {
namespace {

// A configured remote's URL, else the argument itself (an existing path made absolute).
std::string UrlOf(git_repository* repo, const std::string& name_or_url) {
  git_remote* r = nullptr;
  if (git_remote_lookup(&r, repo, name_or_url.c_str()) == 0) {
    git::RemotePtr owned(r);
    return git_remote_url(r);
  }
  git_error_clear();
  std::error_code ec;
  if (std::filesystem::exists(name_or_url, ec)) return std::filesystem::absolute(name_or_url).string();
  return name_or_url;
}

// The directory of a local remote: a path that exists, or a file:// URL (%XX decoded);
// none for a network URL. This is the test libgit2 makes to pick its local transport.
std::optional<std::string> LocalPath(const std::string& url) {
  if (url.rfind("file://", 0) == 0) {
    std::string path;
    for (size_t i = 7; i < url.size(); ++i) {
      if (url[i] == '%' && i + 2 < url.size() && std::isxdigit(static_cast<unsigned char>(url[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(url[i + 2]))) {
        path.push_back(static_cast<char>(std::stoi(url.substr(i + 1, 2), nullptr, 16)));
        i += 2;
      } else {
        path.push_back(url[i]);
      }
    }
    return path;
  }
  if (url.find("://") != std::string::npos) return std::nullopt;
  std::error_code ec;
  if (std::filesystem::is_directory(url, ec)) return url;
  return std::nullopt;
}

// A configured remote by name, else an anonymous one for a URL or path.
Result<git::RemotePtr> OpenRemote(git_repository* repo, const std::string& name_or_url, std::string* url) {
  git_remote* r = nullptr;
  if (git_remote_lookup(&r, repo, name_or_url.c_str()) == 0) {
    *url = git_remote_url(r);
    return git::RemotePtr(r);
  }
  git_error_clear();
  *url = UrlOf(repo, name_or_url);
  if (git_remote_create_anonymous(&r, repo, url->c_str()) != 0) return git::Fail(Code::kUsage, "remote '" + name_or_url + "'");
  return git::RemotePtr(r);
}

// One private ref name per remote URL: the tip last accepted from it.
std::string KeyOf(const std::string& url) {
  git_oid oid;
  git_odb_hash(&oid, url.data(), url.size(), GIT_OBJECT_BLOB);
  return git::OidText(oid);
}

Status SetRef(git_repository* repo, const std::string& ref, const git_oid& to) {
  git_reference* r = nullptr;
  int rc = git_reference_create(&r, repo, ref.c_str(), &to, 1, "vouch: remote tip");
  git_reference_free(r);
  return rc == 0 ? Status::Ok() : git::Fail(Code::kIo, ref);
}

constexpr const char* kIncoming = "refs/vouch/incoming";

// What a network fetch may send: checked as the pack arrives, from its header (objects) and
// the bytes counted so far. libgit2 counts received bytes only for a progress callback, so
// this callback is also what makes a git:// pull report them.
struct Transfer {
  const HistoryLimits* limits;
  uint64_t bytes = 0;
  Status refusal;
};

int OnTransfer(const git_indexer_progress* s, void* payload) {
  auto* t = static_cast<Transfer*>(payload);
  t->bytes = s->received_bytes;
  if (s->total_objects > t->limits->max_objects) {
    t->refusal = Error(Code::kTooLarge, "it sends " + std::to_string(s->total_objects) + " objects, over the cap of " +
                                            std::to_string(t->limits->max_objects) + " for one pull");
    return -1;
  }
  if (s->received_bytes > t->limits->max_bytes) {
    t->refusal = Error(Code::kTooLarge, "it sends over " + std::to_string(t->limits->max_bytes) + " bytes, the cap for one pull");
    return -1;
  }
  return 0;
}

// Fetches the remote's branch into the quarantine's refs/vouch/incoming. The cache's tip
// (and the tip last accepted from this remote) are named there too, so that the remote
// sends only what the cache lacks. Only the branch is fetched: never tags, never
// refs/replace/*, which git would honour and libgit2 does not.
Status Fetch(git_repository* quarantine, const std::string& url, const std::optional<git_oid>& local,
             const std::optional<git_oid>& tracked, const HistoryLimits& limits, uint64_t* bytes, uint64_t* objects) {
  if (local) VOUCH_RETURN_IF_ERROR(SetRef(quarantine, std::string(kBranch), *local));
  if (tracked) VOUCH_RETURN_IF_ERROR(SetRef(quarantine, "refs/vouch/tracked", *tracked));
  git_remote* r = nullptr;
  if (git_remote_create_anonymous(&r, quarantine, url.c_str()) != 0) return git::Fail(Code::kUsage, "remote '" + url + "'");
  git::RemotePtr remote(r);
  std::string spec = "+" + std::string(kBranch) + ":" + kIncoming;
  char* specs[] = {spec.data()};
  git_strarray refspecs = {specs, 1};
  Transfer transfer{&limits, 0, Status::Ok()};
  git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  opts.update_fetchhead = 0;
  opts.callbacks.transfer_progress = OnTransfer;
  opts.callbacks.payload = &transfer;
  int rc = git_remote_fetch(r, &refspecs, &opts, "vouch: pull");
  *bytes = transfer.bytes;
  *objects = git_remote_stats(r)->total_objects;
  if (!transfer.refusal.ok()) {
    git_error_clear();
    return transfer.refusal;
  }
  if (rc != 0) return git::Fail(Code::kIo, "fetch");
  return Status::Ok();
}

}  // namespace

Result<Cache::PullReport> Cache::Pull(const std::string& remote_name, const HistoryLimits& limits) {
  std::string url = UrlOf(repo_, remote_name);
  std::string key = KeyOf(url), tracking_ref = "refs/vouch/remotes/" + key;
  // Every refusal names the remote; the cache's objects and branch are as they were.
  auto refuse = [&](const Status& s) { return s.Context("pull from " + url); };
  VOUCH_ASSIGN_OR_RETURN(std::optional<git_oid> local, git::ResolveRef(repo_, std::string(kBranch).c_str()));
  VOUCH_ASSIGN_OR_RETURN(std::optional<git_oid> tracked, git::ResolveRef(repo_, tracking_ref.c_str()));
  // Nothing the remote has reaches the cache's objects before it is verified: it lands in
  // a quarantine (a fetch's pack there, a local remote read in place).
  VOUCH_ASSIGN_OR_RETURN(git::Quarantine quarantine, git::Quarantine::Make(repo_));
  PullReport report;
  std::optional<git_oid> incoming;
  uint64_t sent = 0;  // objects a network remote sent
  std::optional<std::string> local_path = LocalPath(url);
  uint64_t max_object = std::max({limits.max_commit, limits.max_tree, uint64_t{formats::kMaxVoucherSize}});
  if (local_path) {
    git::LocalRemoteLimits local_limits;
    local_limits.max_object = max_object;
    auto opened = quarantine.OpenLocal(*local_path, "", local_limits);  // refusals are prefixed with the URL
    if (!opened.ok()) return refuse(opened.status());
    incoming = *opened;
  } else {
    VOUCH_RETURN_IF_ERROR(quarantine.GuardFetch(max_object));
    VOUCH_RETURN_IF_ERROR(git::BoundNetworkSilence(limits.idle_seconds));
    Status fetched = Fetch(quarantine.repo(), url, local, tracked, limits, &report.received_bytes, &sent);
    if (!quarantine.refusal().ok()) return refuse(quarantine.refusal());
    if (!fetched.ok()) return refuse(fetched);
    if (report.received_bytes == 0) report.received_bytes = quarantine.PackBytes();
    VOUCH_ASSIGN_OR_RETURN(incoming, git::ResolveRef(quarantine.repo(), kIncoming));
  }
  if (!incoming) return Error(Code::kNotFound, url + " has no " + std::string(kBranch));

  // Only what is new is verified: the cost follows the delta, not the cache.
  Verified verified;
  Status v = VerifyHistory(quarantine.repo(), *incoming, local, limits, &quarantine.refusal(), &verified);
  if (!v.ok()) return refuse(v);
  report.new_commits = verified.commits;
  // A remote that no longer contains what we accepted from it before has been rewritten.
  if (tracked) {
    auto contains = git::IsAncestor(quarantine.repo(), *tracked, *incoming);
    if (!contains.ok()) return refuse(contains.status());
    if (!*contains) {
      return refuse(Error(Code::kRewritten, "remote history was rewritten: it no longer contains " +
                                                git::OidText(*tracked).substr(0, 12) + ", pulled before"));
    }
  }

  // Verified: the new objects move into the cache as one pack (gc, which drops packs,
  // waits while this holds the lock shared).
  VOUCH_ASSIGN_OR_RETURN(git::CacheLock lock, git::CacheLock::Take(path_.string(), git::CacheLock::Mode::kShared));
  auto adopted = quarantine.Adopt(repo_, verified.fresh, local_path ? 0 : sent);
  if (!adopted.ok()) return refuse(adopted.status());
  if (local_path) report.received_bytes = *adopted;

  std::string incoming_hex = git::OidText(*incoming);
  report.tip = incoming_hex;
  bool done = false;
  VOUCH_ASSIGN_OR_RETURN(local, git::ResolveRef(repo_, std::string(kBranch).c_str()));  // it may have moved meanwhile
  if (!local) {
    done = git::CompareAndSwap(repo_, std::string(kBranch).c_str(), *incoming, std::nullopt, "vouch: pull").ok();
    if (done) report.kind = PullReport::Kind::kFastForward;
  } else {
    VOUCH_ASSIGN_OR_RETURN(bool behind, git::IsAncestor(repo_, *incoming, *local));
    VOUCH_ASSIGN_OR_RETURN(bool ahead, git::IsAncestor(repo_, *local, *incoming));
    if (behind) {
      report.kind = git_oid_equal(&*local, &*incoming) ? PullReport::Kind::kUpToDate : PullReport::Kind::kRemoteBehind;
      report.tip = git::OidText(*local);
      done = true;
    } else if (ahead) {
      done = git::CompareAndSwap(repo_, std::string(kBranch).c_str(), *incoming, *local, "vouch: pull").ok();
      if (done) report.kind = PullReport::Kind::kFastForward;
    }
  }
  if (!done) {
    // Diverged (or raced): a merge commit whose tree is the union of both sides.
    size_t n = 0;
    VOUCH_ASSIGN_OR_RETURN(report.tip, CommitOnTip(verified.added, incoming_hex, "vouch: merge vouchers from " + url, &n));
    report.kind = PullReport::Kind::kMerged;
  }
  report.new_vouchers = report.kind == PullReport::Kind::kRemoteBehind || report.kind == PullReport::Kind::kUpToDate ? 0 : verified.added.size();
  VOUCH_RETURN_IF_ERROR(SetRef(repo_, tracking_ref, *incoming));
  VOUCH_RETURN_IF_ERROR(git::RecordRemote(repo_, key, url));
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
  // libgit2's local transport opens the remote as a repository (config, HEAD, refs): they
  // are checked first, so that a FIFO or a link there is refused rather than followed.
  if (auto path = LocalPath(url)) {
    VOUCH_RETURN_IF_ERROR(git::CheckLocalRemote(*path, "").Context("push to " + url));
  } else {
    VOUCH_RETURN_IF_ERROR(git::BoundNetworkSilence(HistoryLimits{}.idle_seconds));
  }
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
