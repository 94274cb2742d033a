// Cache::Verify and Cache::VerifyHistory: proving a history append-only, within bounds (the
// walk itself is git::VerifyHistory, cache/git/history.h; what may be added is HistoryRule).
#include <sys/stat.h>

#include <algorithm>

#include "cache/cache.h"
#include "cache/git/history.h"
#include "cache/receipts.h"
#include "formats/voucher_json.h"

namespace vouch::cache {

Status Cache::VerifyHistory(const git::Repository& repo, const git::ObjectId& tip,
                            const std::optional<git::ObjectId>& known, const HistoryLimits& limits,
                            const Status* refusal, git::Verified* out) const {
  return git::VerifyHistory(repo, repo_, tip, known, limits, refusal,
                            HistoryRule(), out);
}

git::FileRule Cache::HistoryRule() const {
  git::FileRule rule;
  rule.cap = [](const std::string& path) -> uint64_t {
    return IsReceiptTreePath(path) ? formats::kMaxReceiptSize : formats::kMaxVoucherSize;
  };
  rule.check = [this](const std::string& path, ByteView bytes) {
    return IsReceiptTreePath(path) ? CheckFiledReceipt(path, bytes) : CheckVoucher(path, bytes);
  };
  return rule;
}

Status Cache::Verify() const {
  // git honours replacements, grafts and a shallow file; libgit2 (and so vouch) does not.
  // With any of them, the git CLI and a mirror's clients would see other objects than the
  // ones verified here.
  VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> replaced, repo_.RefNames("refs/replace/"));
  if (!replaced.empty()) {
    return Error(Code::kUnsupported, "the cache has " + replaced.front() +
                                         ": git would show the replacement where vouch verifies the original (remove it with git replace -d)");
  }
  for (const char* file : {"info/grafts", "shallow"}) {
    struct stat st;
    if (::lstat((path_ / file).c_str(), &st) == 0) {
      return Error(Code::kUnsupported, std::string("the cache has ") + file + ": git would see another history than the one vouch verifies");
    }
  }
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, repo_.Resolve(kBranch));
  if (tip) {
    HistoryLimits limits;
    limits.max_commits = 0;  // a cache's own history may be longer than one pull
    git::Verified verified;
    VOUCH_RETURN_IF_ERROR(VerifyHistory(repo_, *tip, std::nullopt, limits, nullptr, &verified));
  }
  // The branch still holds every tip accepted from a remote and every commit a bundle was
  // exported from: a branch moved back behind them lost vouchers it had.
  VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> recorded, repo_.RefNames("refs/vouch/remotes/"));
  VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> bundles, repo_.RefNames("refs/vouch/bundles/"));
  recorded.insert(recorded.end(), bundles.begin(), bundles.end());
  std::sort(recorded.begin(), recorded.end());
  for (const auto& ref : recorded) {
    VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> at, repo_.Resolve(ref));
    if (!at) continue;
    bool contained = false;
    if (tip) {
      VOUCH_ASSIGN_OR_RETURN(contained, repo_.IsAncestor(*at, *tip));
    }
    if (!contained) {
      std::string whose = ref.rfind("refs/vouch/remotes/", 0) == 0 ? "the tip pulled from " + repo_.RemoteUrl(ref.substr(19)) : "the commit bundle " + ref.substr(19) + " was exported from";
      return Error(Code::kRewritten, std::string(kBranch) + " no longer contains " + at->Hex().substr(0, 12) + ", " + whose +
                                         " (" + ref + "): it was moved back");
    }
  }
  return VerifyLog();
}

}  // namespace vouch::cache
