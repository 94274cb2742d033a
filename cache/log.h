// The cache's transparency log (spec page cache/log.md): every voucher the vouchers branch
// gains is appended as a leaf (leaf input: the envelope's exact bytes), and a checkpoint
// signed by the log's key is written at the end of each write. The log lives in the same
// git repository on its own branch (kLogRef), so every mirror carries it byte for byte:
//
//   checkpoint              the signed checkpoint note, with witnesses' cosignatures
//   covers                  the vouchers commit the log holds every voucher of
//   tile/<L>/<N>[.p/<W>]    c2sp.org/tlog-tiles hash tiles
//   index/<N>[.p/<W>]       the entry index: one voucher layout path per leaf, per line
//
// LogView reads one commit of such a branch (this cache's, or a remote's as a pull or a
// witness holds it); what it reads is capped and checked, since a remote's log is hostile.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/git/object_id.h"
#include "cache/git/repository.h"
#include "formats/tlog/checkpoint.h"
#include "formats/tlog/tiles.h"
#include "libvoucher/status.h"

namespace vouch::cache {

using git::kLogRef;
inline constexpr std::string_view kCheckpointFile = "checkpoint";
inline constexpr std::string_view kCoversFile = "covers";
inline constexpr size_t kMaxIndexTileSize = 64 * 1024;  // 256 layout paths of ~110 bytes
// A log read from anywhere holds at most 2^40 leaves (a trillion vouchers); a checkpoint
// claiming more is refused before any tile is computed (kTooLarge).
inline constexpr uint64_t kMaxLogSize = uint64_t{1} << 40;

// A name for a log origin (any UTF-8 up to 256 bytes) in paths and refs: the first 16 bytes
// of its SHA-256 in hex.
Result<std::string> LogOriginKey(std::string_view origin);
// Where a pull keeps the largest copy of a log it checked under `log_key`:
// refs/vouch/logs/<origin key>-<key ID, 8 hex>.
inline constexpr std::string_view kRemoteLogsPrefix = "refs/vouch/logs/";
Result<std::string> KeptLogRef(const formats::tlog::NoteVerifier& log_key);

// "index/<N>[.p/<W>]": the entry index tile holding leaves N*256 .. N*256+W-1.
std::string IndexTilePath(uint64_t index, unsigned width);

class LogView {
 public:
  // The log at `ref` in `repo` (none when there is no such ref). Reads and parses the
  // checkpoint (its signature is not checked here: that needs the log's key) and `covers`.
  static Result<std::optional<LogView>> Read(const git::Repository& repo, std::string_view ref);
  static Result<LogView> At(const git::Repository& repo, const git::ObjectId& commit);
  // A log tree with no commit (a remote's log as a pull keeps it: refs/vouch/logs/*).
  static Result<LogView> AtTree(const git::Repository& repo, const git::ObjectId& tree);

  const git::ObjectId& commit() const { return commit_; }  // none for AtTree
  const git::ObjectId& tree_id() const { return tree_id_; }
  const std::string& note() const { return note_; }  // the signed checkpoint as stored
  const formats::tlog::Checkpoint& checkpoint() const { return checkpoint_; }
  uint64_t size() const { return checkpoint_.size; }
  const std::optional<git::ObjectId>& covers() const { return covers_; }
  const git::Tree& tree() const { return *tree_; }

  // A file of this log's tree, capped (kTooLarge), kNotFound when absent.
  Result<Bytes> ReadFile(const std::string& path, uint64_t cap) const;
  // The Merkle hashes of this log, read from its tiles.
  formats::tlog::TileHashes Hashes() const;
  // The voucher paths of leaves [from, to), from the entry index.
  Result<std::vector<std::string>> Paths(uint64_t from, uint64_t to) const;

 private:
  const git::Repository* repo_ = nullptr;
  git::ObjectId commit_;
  git::ObjectId tree_id_;
  std::shared_ptr<git::Tree> tree_;
  std::string note_;
  formats::tlog::Checkpoint checkpoint_;
  std::optional<git::ObjectId> covers_;
};

// Checks leaves [from, to) of `view` against the vouchers they name in `covered` (the tree
// of the vouchers commit the log covers, on a verified vouchers branch, so every path there
// is the canonical layout path of its bytes): the index names a path that is there, and
// its bytes hash to the leaf the tiles hold. Then the index cannot misfile a leaf. Calls
// `each` for every leaf. kMalformed (a path not in `covered`) or kIdMismatch (another
// voucher's bytes), naming the leaf.
Status CheckLeaves(const LogView& view, const git::Repository& repo, const git::Tree& covered, uint64_t from,
                   uint64_t to, const std::function<Status(uint64_t leaf, const std::string& path)>& each);

// What `vouch log status` shows.
struct LogStatus {
  std::string origin;
  std::string vkey;      // the log's verifier key (note vkey text)
  std::string note;      // the current signed checkpoint
  uint64_t size = 0;
  uint64_t behind = 0;   // vouchers on the branch not yet logged (after a crash; the next write appends them)
};

}  // namespace vouch::cache
