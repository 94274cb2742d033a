// The append-only voucher cache: a bare git repository whose vouchers branch (git::kBranch)
// holds the medium layout (DESIGN.md section 8; spec page cache/cache.md). This class holds
// the cache's rules; git itself is reached only through cache/git/.
//
// Every commit adds vouchers and removes or changes nothing. Imports write one pack each
// (staged in memory, then streamed to the indexer), and move the branch by compare-and-swap under
// libgit2's ref lock, retrying on a race, so concurrent writers never lose a voucher.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "cache/git/history.h"
#include "cache/git/object_id.h"
#include "cache/git/repository.h"
#include "cache/log.h"
#include "formats/candidate_report.h"
#include "formats/bundle.h"
#include "formats/receipt.h"
#include "formats/tlog/note.h"
#include "libvoucher/cert.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {
class Staging;
class PathSource;
}

namespace vouch::cache {

using formats::CandidateReport;
using git::HistoryLimits;  // bounds on every history vouch takes from elsewhere (cache.md, "Bounds")
using git::kBranch;

inline constexpr size_t kAutoGcPacks = 64;  // consolidate once an import leaves more packs
// Over this many objects or bytes in its packs, gc merges packs (each merge at most this many
// objects, some 40 MiB of libgit2's packbuilder, and this many bytes of packs) instead of
// packing all that is reachable at once. The bytes bound what a merge maps: libgit2's indexer
// maps the pack it writes whole, and its pages count in gc's (and an import's) resident
// memory (a merge of 262,144 objects at a million vouchers: a 331 MB pack, 559 MiB peak).
inline constexpr uint64_t kGcMaxObjects = 262144;
inline constexpr uint64_t kGcMaxPackBytes = 48ull << 20;
// Receipts wait in memory until an import's vouchers are staged (each names a voucher): at most
// this many bytes of distinct receipts per import, some 25,000 real ones (cache/cache.md).
inline constexpr uint64_t kMaxImportReceiptBytes = 64ull << 20;

struct AddReport {
  size_t added = 0;     // new vouchers committed
  size_t receipts = 0;  // new receipts committed (cache/receipts.h)
  size_t present = 0;   // vouchers and receipts already in the cache: no-ops
  std::string commit;  // the new tip, when something was added
  std::vector<CandidateReport> refused;
};

// One voucher or receipt offered to the cache: its bytes, where it came from, and the layout
// path it was filed under there (empty when it came as a loose file).
struct Offered {
  enum class Kind { kVoucher, kReceipt };
  std::string source;
  std::string path;
  Bytes bytes;
  Kind kind = Kind::kVoucher;
};

class Cache {
 public:
  // VOUCH_CACHE, else $XDG_DATA_HOME/vouch/cache.git, else ~/.local/share/vouch/cache.git.
  static std::filesystem::path DefaultPath();

  // Creates a bare repository (or opens an existing cache) and records trust anchors, if
  // any, in <cache>/vouch/trust.pem: from then on the cache refuses vouchers that do not
  // verify against them.
  static Result<Cache> Init(const std::filesystem::path& path, const std::vector<Certificate>& anchors);
  static Result<Cache> Open(const std::filesystem::path& path);

  Cache(Cache&&) noexcept;
  Cache& operator=(Cache&&) noexcept;
  ~Cache();

  const std::filesystem::path& path() const { return path_; }
  const std::vector<Certificate>& anchors() const { return anchors_; }

  // Checks every voucher (envelope parses, id matches bytes, filed at its layout path, and
  // with anchors its signature, time not checked: a cache is an archive) and every receipt
  // (AddReceipts), and commits the new ones in one commit. Refusals are reported per voucher
  // and receipt; nothing refused is committed.
  // `next` offers the vouchers a batch at a time (filling the vector, false when done), so
  // the offered bytes of only one batch are held at once.
  using OfferedBatches = std::function<Result<bool>(std::vector<Offered>* batch)>;
  Result<AddReport> Add(const OfferedBatches& next, const std::string& source);

  // Vouchers filed under a device; all vouchers (paths); the tip commit (none when empty).
  Result<std::vector<formats::PackedVoucher>> Get(std::string_view device_udf) const;
  // The same, one path at a time (a cache of millions is never listed into memory).
  Status List(const std::function<Status(const std::string& path)>& each) const;
  Result<std::vector<std::string>> List() const;
  Result<std::optional<std::string>> Tip() const;

  // Vouchers added after `since` (a commit-ish, or a bundle id exported earlier), or all.
  Result<std::vector<formats::PackedVoucher>> Export(const std::string& since) const;
  // The same, only those filed under vouchers/<prefix>/, a c1c2 or a c1c2/c3c4 (an export a
  // shard at a time holds one shard's vouchers, not the cache's), and only how many without
  // reading them. `at` is the commit to read (from Tip(); "": the tip now): an export of many
  // shards reads them all from one commit while imports move the branch.
  Result<std::vector<formats::PackedVoucher>> Export(const std::string& since, const std::string& prefix,
                                                     const std::string& at = "") const;
  Result<size_t> ExportCount(const std::string& since, const std::string& prefix, const std::string& at = "") const;
  // The directories under vouchers/ (the c1c2s), or under vouchers/<c1c2>/ (its c3c4s), at
  // `at` (as above), in order.
  Result<std::vector<std::string>> Prefixes(const std::string& c1c2 = "", const std::string& at = "") const;
  // Remembers which commit a bundle was exported from, for `--since BUNDLE-ID`.
  Status RecordExport(const std::string& bundle_id, const std::string& commit);

  // Walks the whole history: every commit keeps every path of each parent with the same
  // blob, a merge adds nothing but its parents' vouchers, every path is a layout path and
  // every voucher's id matches its bytes. Names the first offending commit.
  Status Verify() const;

  // A small cache (kGcMaxObjects, kGcMaxPackBytes): packs everything reachable into one pack
  // and drops the old packs. A larger one: merges its packs in bounded steps (every object
  // kept), as cache.md "Packs" says.
  Status Gc();

  // Mirroring over ordinary git remotes: a path, file://, git://, https:// URL or the name
  // of a remote configured in the repository (spec page cache/cache.md, "Mirroring").
  struct PullReport {
    enum class Kind { kUpToDate, kFastForward, kMerged, kRemoteBehind } kind = Kind::kUpToDate;
    size_t new_commits = 0;   // remote commits verified
    size_t new_vouchers = 0;  // vouchers the local branch gained
    size_t new_receipts = 0;  // receipts it gained (cache/receipts.h)
    std::string tip;
    uint64_t received_bytes = 0;  // what the fetch transferred
    std::string log_origin;       // the remote's log, when it has one
    uint64_t log_size = 0;
    bool log_checked = false;     // a key for it was there: checked (cache/log.md, "Pulls")
  };
  // Fetches the remote branch, refuses it if its history is not append-only or was
  // rewritten since the last pull (kRewritten; kIdMismatch or kMalformed for bad vouchers), verifies the new vouchers (signatures too when
  // the cache has anchors), then fast-forwards or merges by union. On refusal the branch
  // is unchanged.
  // `log_keys`: keys of logs (other than this cache's own) whose copies the pull checks and
  // keeps (cache/log.md, "Pulls"); a remote log with no key for its origin is left alone.
  Result<PullReport> Pull(const std::string& remote, const HistoryLimits& limits = {},
                          std::span<const formats::tlog::NoteVerifier> log_keys = {});
  // Fast-forward only: refuses (kRewritten) when the remote has history this cache lacks.
  Status Push(const std::string& remote);

  // The transparency log (cache/log.h; spec page cache/log.md).
  // Turns the cache into a log of origin `origin` signed with the Ed25519 key at `key_path`
  // (created, 0600, when absent) and appends every voucher it holds. Run again, it appends
  // what the branch has and the log not; another origin is kExists (one log, one origin).
  Status LogInit(const std::string& origin, const std::filesystem::path& key_path);
  bool logged() const { return log_.has_value(); }
  Result<LogStatus> LogState() const;
  // Appends to the log, under its lock, the vouchers the branch gained since the log's last
  // write, in path order, and signs a new checkpoint. `known` (path -> leaf hash) saves
  // reading back what an import just hashed; `gained_since`, when the import committed
  // exactly `known` on that commit, saves comparing the trees. No-op without a log.
  Status SyncLog(const std::map<std::string, formats::tlog::Hash>* known,
                 const std::optional<git::ObjectId>* gained_since = nullptr);
  // A c2sp.org/tlog-proof@v1 for a voucher (its id or layout path), checked against its bytes.
  Result<std::string> Prove(std::string_view id_or_path) const;
  // The proofs of those of `paths` that the log holds (path -> proof text).
  Result<std::map<std::string, std::string>> Proofs(const std::vector<std::string>& paths) const;
  // Adds a witness's cosignature line to the current checkpoint, if its text is still
  // `checkpoint_text` (kExists when the log moved on); replaces that witness's older line.
  Status AddCosignature(std::string_view checkpoint_text, const formats::tlog::NoteSignature& line);
  // The log at `ref` (this cache's own by default; a remote's as a pull tracks it).
  Result<std::optional<LogView>> ReadLog(std::string_view ref = kLogRef) const;
  const git::Repository& repository() const { return repo_; }

 private:
  Cache() = default;
  struct LogConfig {
    std::string origin;
    std::string key;   // absolute path of the Ed25519 private key
    std::string vkey;  // its verifier key
  };
  Status LoadLogConfig();
  Status VerifyLog() const;  // part of Verify (cache/log.md, "Verifying")
  // A pull's check of the remote's log (cache/log.md, "Pulls"): signed by the log's key when
  // this cache keeps that log, the root of its own tiles, and consistent with every copy of
  // it the cache holds (kLogFork otherwise, both checkpoints kept under vouch/evidence/).
  struct RemoteLog {
    std::string origin;
    uint64_t size = 0;
    bool checked = false;               // a key for its origin was there: checked, maybe kept
    std::string ref;                    // KeptLogRef: the largest copy seen under that key
    git::ObjectId tree;                 // the remote's log tree
    bool newer = false;                 // larger than the copy kept: keep this one
    std::vector<git::ObjectId> objects; // what the cache lacks of it, when newer
  };
  Result<RemoteLog> CheckRemoteLog(const git::Repository& quarantine, const git::ObjectId& commit,
                                   const git::ObjectId& vouchers, std::span<const formats::tlog::NoteVerifier> keys) const;
  Result<formats::tlog::NoteSigner> LogSigner() const;
  Result<std::vector<std::pair<uint64_t, uint64_t>>> LogLookup(const LogView& view) const;
  // `loaded`, when given, holds the lookup rebuilt in memory by an earlier call whose file
  // could not be searched, and is filled by the first such call: searched instead of
  // rebuilding it for every key.
  Result<std::vector<uint64_t>> LookupLeaves(const LogView& view, uint64_t key,
                                             std::optional<std::vector<std::pair<uint64_t, uint64_t>>>* loaded = nullptr) const;
  // Commits the `entries` (layout path -> blob id) not yet on the branch on top of its tip,
  // with `merge_parent` as a second parent when given; redoes the commit when another
  // writer moved the branch first. Returns the tip afterwards and how many paths were new.
  Result<std::string> CommitOnTip(git::PathSource& entries, const std::optional<git::ObjectId>& merge_parent,
                                  const std::string& message, size_t* added);
  // Verifies the history of `tip` as `repo` holds it (the cache, or a pull's quarantine)
  // down to commits on the branch `known` (none: the whole history), within `limits`.
  // `refusal` (may be null) says why a read failed when the files it came from were refused.
  Status VerifyHistory(const git::Repository& repo, const git::ObjectId& tip, const std::optional<git::ObjectId>& known,
                       const HistoryLimits& limits, const Status* refusal, git::Verified* out) const;
  // The voucher's layout path, after checking it (and that it is `filed_at`, unless empty).
  Result<std::string> CheckVoucher(const std::string& filed_at, ByteView bytes) const;
  // What a history may add (cache/cache.md, "Verify"): a voucher at its layout path
  // (CheckVoucher), or a receipt at its path under receipts/ (CheckFiledReceipt), each within
  // its size cap.
  git::FileRule HistoryRule() const;
  // A receipt found at `path` in a tree: the path parses, the bytes have its id, VerifyReceipt
  // passes and the receipt's device key is the device in the path. Returns the path.
  Result<std::string> CheckFiledReceipt(const std::string& path, ByteView bytes) const;
  // An import's receipts (cache/cache.md, "Receipts"), after its vouchers are staged: each
  // verified, its voucher in the cache under its device (kNotFound) with its device and
  // combined key (kWrongDevice, kCombinedKeyMismatch), its generation above every one held
  // for the device (kRollback); the same receipt again is counted present. The new ones are
  // staged and added to `entries`; refusals go to `report`.
  // `staged` finds this import's vouchers under the directories it is given (one pass over
  // them, however many); the receipts admitted are added to `admitted`.
  using StagedUnder = std::function<Result<std::map<std::string, git::ObjectId>>(const std::set<std::string>& dirs)>;
  Status AddReceipts(const std::vector<Offered>& offered, const std::string& source, const git::Tree& base,
                     git::Staging& staging, const StagedUnder& staged,
                     std::vector<std::pair<std::string, git::ObjectId>>* admitted, AddReport* report);
  // One receipt of AddReceipts: true when new, false when already held or staged; `highest`
  // carries each device's highest generation (read from the cache once per device).
  Result<bool> AdmitReceipt(const formats::VerifiedReceipt& receipt, const std::string& path, const git::Tree& base,
                            git::Staging& staging, const std::map<std::string, git::ObjectId>& entries,
                            std::map<std::string, std::pair<int64_t, std::string>>* highest) const;
  Result<AddReport> AddAll(const OfferedBatches& next, const std::string& source);  // Add, before its gc
  Result<git::Staging*> Staging();  // where new objects go until they are one pack
  git::Repository repo_;
  std::unique_ptr<git::Staging> staging_;  // reads through repo_: declared after it, so dropped first
  std::filesystem::path path_;
  std::vector<Certificate> anchors_;
  std::optional<LogConfig> log_;
};

}  // namespace vouch::cache
