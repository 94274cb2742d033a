#include "cache/git/transport.h"

#include <cctype>
#include <filesystem>

#include "cache/git/git.h"

namespace vouch::cache::git {

void RemoteFree::operator()(git_remote* r) const { git_remote_free(r); }

std::string UrlOf(const Repository& repo, const std::string& name_or_url) {
  git_remote* r = nullptr;
  if (git_remote_lookup(&r, repo.handle(), name_or_url.c_str()) == 0) {
    RemotePtr owned(r);
    return git_remote_url(r);
  }
  git_error_clear();
  std::error_code ec;
  if (std::filesystem::exists(name_or_url, ec)) return std::filesystem::absolute(name_or_url).string();
  return name_or_url;
}

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

namespace {

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

}  // namespace

Status Fetch(const Repository& quarantine, const std::string& url, const std::optional<ObjectId>& local,
             const std::optional<ObjectId>& tracked, const HistoryLimits& limits, uint64_t* bytes) {
  if (local) VOUCH_RETURN_IF_ERROR(quarantine.SetRef(std::string(kBranch), *local, "vouch: remote tip"));
  if (tracked) VOUCH_RETURN_IF_ERROR(quarantine.SetRef("refs/vouch/tracked", *tracked, "vouch: remote tip"));
  git_remote* r = nullptr;
  if (git_remote_create_anonymous(&r, quarantine.handle(), url.c_str()) != 0) return Fail(Code::kUsage, "remote '" + url + "'");
  RemotePtr remote(r);
  std::string spec = "+" + std::string(kBranch) + ":" + kIncoming;
  std::string log_spec = "+" + std::string(kLogRef) + ":" + kIncomingLog;  // skipped when the remote has none
  char* specs[] = {spec.data(), log_spec.data()};
  git_strarray refspecs = {specs, 2};
  Transfer transfer{&limits, 0, Status::Ok()};
  git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  opts.update_fetchhead = 0;
  opts.callbacks.transfer_progress = OnTransfer;
  opts.callbacks.payload = &transfer;
  int rc = git_remote_fetch(r, &refspecs, &opts, "vouch: pull");
  *bytes = transfer.bytes;
  if (!transfer.refusal.ok()) {
    git_error_clear();
    return transfer.refusal;
  }
  if (rc != 0) return Fail(Code::kIo, "fetch");
  return Status::Ok();
}

Result<Remote> Remote::Open(const Repository& repo, const std::string& name_or_url) {
  Remote remote;
  git_remote* r = nullptr;
  if (git_remote_lookup(&r, repo.handle(), name_or_url.c_str()) == 0) {
    remote.remote_.reset(r);
    remote.url_ = git_remote_url(r);
    return remote;
  }
  git_error_clear();
  remote.url_ = UrlOf(repo, name_or_url);
  if (git_remote_create_anonymous(&r, repo.handle(), remote.url_.c_str()) != 0) {
    return Fail(Code::kUsage, "remote '" + name_or_url + "'");
  }
  remote.remote_.reset(r);
  return remote;
}

Result<std::optional<ObjectId>> Remote::Advertised(std::string_view ref) {
  git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
  if (git_remote_connect(remote_.get(), GIT_DIRECTION_FETCH, &cb, nullptr, nullptr) != 0) {
    return Fail(Code::kIo, "connect to " + url_);
  }
  const git_remote_head** heads = nullptr;
  size_t n = 0;
  if (git_remote_ls(&heads, &n, remote_.get()) != 0) return Fail(Code::kIo, "list " + url_);
  std::optional<ObjectId> at;
  for (size_t i = 0; i < n; ++i) {
    if (std::string_view(heads[i]->name) == ref) at = IdOf(heads[i]->oid);
  }
  git_remote_disconnect(remote_.get());
  return at;
}

namespace {

int OnPushUpdate(const char* refname, const char* status, void* payload) {
  if (status) *static_cast<std::string*>(payload) = std::string(refname) + ": " + status;
  return 0;
}

}  // namespace

Status Remote::Push(std::string_view ref, std::string* rejected) {
  std::string spec = std::string(ref) + ":" + std::string(ref);  // no '+': never forced
  char* specs[] = {spec.data()};
  git_strarray refspecs = {specs, 1};
  rejected->clear();
  git_push_options opts = GIT_PUSH_OPTIONS_INIT;
  opts.callbacks.push_update_reference = OnPushUpdate;
  opts.callbacks.payload = rejected;
  if (git_remote_push(remote_.get(), &refspecs, &opts) != 0) return Fail(Code::kIo, "push to " + url_);
  return Status::Ok();
}

}  // namespace vouch::cache::git
