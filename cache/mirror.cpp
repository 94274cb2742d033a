// Cache::Pull and Cache::Push: mirroring over ordinary git remotes. The rules (what is
// verified, when a remote is refused, fast-forward or merge) are here; talking to remotes is
// cache/git/transport.h, reading a local remote safely cache/git/remote.h.
#include <algorithm>

#include "cache/cache.h"
#include "cache/git/staging.h"
#include "cache/git/lock.h"
#include "cache/git/remote.h"
#include "cache/git/transport.h"
#include "cache/http/client.h"
#include "cache/receipts.h"
#include "cache/sorted_paths.h"
#include "formats/voucher_json.h"

namespace vouch::cache {
namespace {

// One private ref name per remote URL: the tip last accepted from it.
std::string KeyOf(const std::string& url) { return git::ObjectId::OfBlob(AsBytes(url)).Hex(); }

}  // namespace

Result<Cache::PullReport> Cache::Pull(const std::string& remote_name, const HistoryLimits& limits,
                                      std::span<const formats::tlog::NoteVerifier> log_keys) {
  std::string url = git::UrlOf(repo_, remote_name);
  std::string key = KeyOf(url), tracking_ref = "refs/vouch/remotes/" + key;
  // Every refusal names the remote; the cache's objects and branch are as they were.
  auto refuse = [&](const Status& s) { return s.Context("pull from " + http::Redact(url)); };
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> local, repo_.Resolve(kBranch));
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tracked, repo_.Resolve(tracking_ref));
  // Nothing the remote has reaches the cache's objects before it is verified: it lands in
  // a quarantine (a fetch's pack there, a local remote read in place).
  VOUCH_ASSIGN_OR_RETURN(git::Quarantine quarantine, git::Quarantine::Make(repo_));
  PullReport report;
  std::optional<git::ObjectId> incoming;
  std::optional<std::string> local_path = git::LocalPath(url);
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
    Status fetched = git::Fetch(quarantine.repo(), url, local, tracked, limits, &report.received_bytes);
    if (!quarantine.refusal().ok()) return refuse(quarantine.refusal());
    if (!fetched.ok()) return refuse(fetched);
    if (report.received_bytes == 0) report.received_bytes = quarantine.PackBytes();
    VOUCH_ASSIGN_OR_RETURN(incoming, quarantine.repo().Resolve(git::kIncoming));
  }
  if (!incoming) return Error(Code::kNotFound, http::Redact(url) + " has no " + std::string(kBranch));

  // Only what is new is verified: the cost follows the delta, not the cache. The paths it
  // adds are kept on disk past a run (a merge needs them), counted as they come.
  struct Counted : git::PathSink {
    SortedPaths paths;
    size_t vouchers = 0, receipts = 0;
    explicit Counted(std::filesystem::path dir) : paths(std::move(dir)) {}
    Status Add(std::string path, const git::ObjectId& blob) override {
      ++(IsReceiptTreePath(path) ? receipts : vouchers);
      return paths.Add(std::move(path), blob);
    }
  } added(path_ / "vouch");
  // gc (which drops objects no ref reaches) waits while this holds the lock shared, from
  // before the verification: it skips objects the cache holds, which must still be there
  // when the verified objects move in.
  VOUCH_ASSIGN_OR_RETURN(git::CacheLock lock, git::CacheLock::Take(path_.string(), git::CacheLock::Mode::kShared));
  // The objects to move in, kept on disk as they are found (two million at a million vouchers).
  git::IdSpool fresh(path_ / "vouch");
  git::Verified verified;
  verified.added = &added;
  verified.fresh = &fresh;
  Status v = VerifyHistory(quarantine.repo(), *incoming, local, limits, &quarantine.refusal(), &verified);
  if (!v.ok()) return refuse(v);
  report.new_commits = verified.commits;
  // A remote that no longer contains what we accepted from it before has been rewritten.
  if (tracked) {
    auto contains = quarantine.repo().IsAncestor(*tracked, *incoming);
    if (!contains.ok()) return refuse(contains.status());
    if (!*contains) {
      return refuse(Error(Code::kRewritten, "remote history was rewritten: it no longer contains " +
                                                tracked->Hex().substr(0, 12) + ", pulled before"));
    }
  }

  // The remote's log, if it has one: checked against every copy of that log held here
  // (a fork refuses the whole pull), and kept when it is the largest seen.
  // One pull at a time checks and keeps remote logs: the check and the move of the kept
  // copy's ref are one step (else two pulls could keep the smaller copy).
  std::optional<git::CacheLock> logs_lock;
  std::optional<RemoteLog> remote_log;
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> incoming_log, quarantine.IncomingLog());
  if (incoming_log) {
    auto lock = git::CacheLock::Take(path_.string(), git::CacheLock::Mode::kExclusive, true, "logs-lock");
    if (!lock.ok()) return lock.status();
    logs_lock.emplace(std::move(*lock));
    auto checked = CheckRemoteLog(quarantine.repo(), *incoming_log, *incoming, log_keys);
    if (!checked.ok()) return refuse(checked.status());
    remote_log = std::move(*checked);
    for (const git::ObjectId& id : remote_log->objects) VOUCH_RETURN_IF_ERROR(fresh.Add(id));
    report.log_origin = remote_log->origin;
    report.log_size = remote_log->size;
    report.log_checked = remote_log->checked;
  }

  // Verified: the new objects move into the cache as packs of them alone.
  auto adopted = quarantine.Adopt(repo_, fresh);
  if (!adopted.ok()) return refuse(adopted.status());
  if (local_path) report.received_bytes = *adopted;

  report.tip = incoming->Hex();
  bool done = false;
  VOUCH_ASSIGN_OR_RETURN(local, repo_.Resolve(kBranch));  // it may have moved meanwhile
  if (!local) {
    done = repo_.CompareAndSwap(kBranch, *incoming, std::nullopt, "vouch: pull").ok();
    if (done) report.kind = PullReport::Kind::kFastForward;
  } else {
    VOUCH_ASSIGN_OR_RETURN(bool behind, repo_.IsAncestor(*incoming, *local));
    VOUCH_ASSIGN_OR_RETURN(bool ahead, repo_.IsAncestor(*local, *incoming));
    if (behind) {
      report.kind = *local == *incoming ? PullReport::Kind::kUpToDate : PullReport::Kind::kRemoteBehind;
      report.tip = local->Hex();
      done = true;
    } else if (ahead) {
      done = repo_.CompareAndSwap(kBranch, *incoming, *local, "vouch: pull").ok();
      if (done) report.kind = PullReport::Kind::kFastForward;
    }
  }
  if (!done) {
    // Diverged (or raced): a merge commit whose tree is the union of both sides.
    size_t n = 0;
    VOUCH_ASSIGN_OR_RETURN(report.tip, CommitOnTip(added.paths, *incoming, "vouch: merge vouchers from " + http::Redact(url), &n));
    report.kind = PullReport::Kind::kMerged;
  }
  if (report.kind != PullReport::Kind::kRemoteBehind && report.kind != PullReport::Kind::kUpToDate) {
    report.new_vouchers = added.vouchers;
    report.new_receipts = added.receipts;
  }
  VOUCH_RETURN_IF_ERROR(repo_.SetRef(tracking_ref, *incoming, "vouch: remote tip"));
  VOUCH_RETURN_IF_ERROR(repo_.RecordRemote(key, url));
  if (remote_log && remote_log->checked && remote_log->newer) {
    VOUCH_RETURN_IF_ERROR(repo_.SetRef(remote_log->ref, remote_log->tree, "vouch: remote log"));
  }
  logs_lock.reset();
  VOUCH_RETURN_IF_ERROR(SyncLog(nullptr));  // one log, one writer: what came in joins this cache's own log
  return report;
}

Status Cache::Push(const std::string& remote_name) {
  VOUCH_ASSIGN_OR_RETURN(git::Remote remote, git::Remote::Open(repo_, remote_name));
  const std::string& url = remote.url();
  // libgit2's local transport opens the remote as a repository (config, HEAD, refs): they
  // are checked first, so that a FIFO or a link there is refused rather than followed.
  if (auto path = git::LocalPath(url)) {
    VOUCH_RETURN_IF_ERROR(git::CheckLocalRemote(*path, "").Context("push to " + http::Redact(url)));
  } else {
    VOUCH_RETURN_IF_ERROR(git::BoundNetworkSilence(HistoryLimits{}.idle_seconds));
  }
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> local, repo_.Resolve(kBranch));
  if (!local) return Error(Code::kNotFound, "the cache is empty: nothing to push");
  // Fast-forward only, checked here so the refusal is precise rather than the server's.
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> theirs, remote.Advertised(kBranch));
  if (theirs) {
    bool ff = false;
    if (repo_.Has(*theirs)) {
      VOUCH_ASSIGN_OR_RETURN(ff, repo_.IsAncestor(*theirs, *local));
    }
    if (!ff) return Error(Code::kRewritten, http::Redact(url) + " has vouchers this cache lacks (not a fast-forward): pull first");
  }
  std::string rejected;
  if (!theirs || *theirs != *local) {
    VOUCH_RETURN_IF_ERROR(remote.Push(kBranch, &rejected));
    if (!rejected.empty()) return Error(Code::kRewritten, http::Redact(url) + " refused the push: " + rejected);
  }
  // The log travels with the vouchers (a fast-forward too: each log commit extends the last).
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> log, repo_.Resolve(kLogRef));
  if (log) {
    VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> their_log, remote.Advertised(kLogRef));
    if (their_log && *their_log == *log) return Status::Ok();
    VOUCH_RETURN_IF_ERROR(remote.Push(kLogRef, &rejected));
    if (!rejected.empty()) return Error(Code::kRewritten, http::Redact(url) + " refused the log: " + rejected);
  }
  return Status::Ok();
}

}  // namespace vouch::cache
