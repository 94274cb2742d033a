// Talking to git remotes (cache/cache.md, "Mirroring"): which remote a name or URL means, a
// pull's fetch into its quarantine within the bounds, and what a push needs. Which tips are
// acceptable is the caller's rule (cache/mirror.cpp); reading a local remote's files safely
// is remote.h's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/git/history.h"
#include "cache/git/object_id.h"
#include "cache/git/repository.h"
#include "libvoucher/status.h"

typedef struct git_remote git_remote;

namespace vouch::cache::git {

// Where a fetch puts the remote's branch, in the quarantine.
inline constexpr const char* kIncoming = "refs/vouch/incoming";
// And its log branch (cache/log.md), when it has one.
inline constexpr const char* kIncomingLog = "refs/vouch/incoming-log";

// A configured remote's URL, else the argument itself (an existing path made absolute).
std::string UrlOf(const Repository& repo, const std::string& name_or_url);

// The directory of a local remote: a path that exists, or a file:// URL (%XX decoded);
// none for a network URL. This is the test libgit2 makes to pick its local transport.
std::optional<std::string> LocalPath(const std::string& url);

// Fetches the remote's branch into the quarantine's kIncoming. The cache's tip `local` (and
// the tip last accepted from this remote, `tracked`) are named there too, so that the remote
// sends only what the cache lacks. Only the branch is fetched: never tags, never
// refs/replace/*, which git would honour and libgit2 does not. What the remote sends is
// checked against `limits` (objects, bytes) as it arrives; `bytes` says how much it sent.
Status Fetch(const Repository& quarantine, const std::string& url, const std::optional<ObjectId>& local,
             const std::optional<ObjectId>& tracked, const HistoryLimits& limits, uint64_t* bytes);

struct RemoteFree {
  void operator()(git_remote* r) const;
};

// A remote to push to.
class Remote {
 public:
  // A configured remote by name, else an anonymous one for a URL or path (kUsage if
  // neither can be made).
  static Result<Remote> Open(const Repository& repo, const std::string& name_or_url);

  const std::string& url() const { return url_; }

  // Where the remote's `ref` is (none: it has none), from what it advertises.
  Result<std::optional<ObjectId>> Advertised(std::string_view ref);
  // Pushes `ref` to the same ref there, never forced. `rejected` gets the remote's refusal
  // ("<ref>: <why>"), empty when it took the push.
  Status Push(std::string_view ref, std::string* rejected);

 private:
  std::unique_ptr<git_remote, RemoteFree> remote_;
  std::string url_;
};

}  // namespace vouch::cache::git
