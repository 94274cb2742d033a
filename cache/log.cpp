// The cache's transparency log: LogView (reading one commit of a log branch) and the Cache
// members that write and prove (cache/log.md is the spec page).
#include "cache/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "cache/cache.h"
#include "cache/git/lock.h"
#include "cache/git/staging.h"
#include "cache/witness.h"
#include "formats/layout.h"
#include "formats/tlog/note.h"
#include "formats/tlog/proof.h"
#include "formats/voucher_json.h"
#include "libvoucher/ed25519.h"
#include "libvoucher/encoding.h"
#include "libvoucher/file.h"
#include "libvoucher/sha256.h"

namespace vouch::cache {
namespace fs = std::filesystem;
namespace tlog = formats::tlog;

namespace {

constexpr size_t kMaxCoversSize = 64;
constexpr std::string_view kLookupMagic = "vouch-log-lookup/2";  // 18 bytes, padded to 24
constexpr size_t kLookupHeader = 64;  // magic (24), size (8), the log's root at that size (32)
constexpr size_t kLookupRecord = 16;                              // key (8) + leaf (8), big-endian

uint64_t Be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}
void PutBe64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

// The lookup key of a voucher id: the first 8 bytes of SHA-256(id), big-endian.
Result<uint64_t> LookupKey(std::string_view voucher_id) {
  VOUCH_ASSIGN_OR_RETURN(Sha256Digest d, Sha256(AsBytes(voucher_id)));
  return Be64(d.data());
}

// Moves the log branch from `from` to `to`. Under the log's lock nobody else writes it, so a
// kExists from the compare-and-swap means a ref lock file left by a writer killed mid-update:
// Repository::CompareAndSwap removes one once it is two seconds old, so this tries for a few
// seconds while the branch is still where it was.
Status MoveLogRef(const git::Repository& repo, const git::ObjectId& to, const std::optional<git::ObjectId>& from,
                  const std::string& message) {
  for (int attempt = 0;; ++attempt) {
    Status cas = repo.CompareAndSwap(kLogRef, to, from, message);
    if (cas.code() != Code::kExists) return cas;
    VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> now, repo.Resolve(kLogRef));
    if (now != from || attempt == 80) {
      return Error(Code::kExists, "the log branch moved under its lock: another program writes " + std::string(kLogRef));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::vector<std::string> SplitLines(ByteView data) {
  std::vector<std::string> out;
  std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
  while (!s.empty()) {
    size_t nl = s.find('\n');
    if (nl == std::string_view::npos) break;  // refused by the caller: count differs
    out.emplace_back(s.substr(0, nl));
    s.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace

Result<std::string> LogOriginKey(std::string_view origin) {
  VOUCH_ASSIGN_OR_RETURN(Sha256Digest d, Sha256(AsBytes(origin)));
  return HexEncode(ByteView(d.data(), 16));
}

std::string IndexTilePath(uint64_t index, unsigned width) {
  std::string p = "index/" + tlog::TileIndexPath(index);
  if (width < tlog::kTileWidth) p += ".p/" + std::to_string(width);
  return p;
}

Result<std::string> KeptLogRef(const tlog::NoteVerifier& log_key) {
  VOUCH_ASSIGN_OR_RETURN(std::string key, LogOriginKey(log_key.name));
  char id[9];
  std::snprintf(id, sizeof id, "%08x", log_key.key_id);
  return std::string(kRemoteLogsPrefix) + key + "-" + id;
}

// ---- LogView ----

Result<std::optional<LogView>> LogView::Read(const git::Repository& repo, std::string_view ref) {
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> commit, repo.Resolve(ref));
  if (!commit) return std::optional<LogView>();
  // A log branch names commits; a remote's log kept by a pull (refs/vouch/logs/*) a tree.
  auto v = repo.TreeIdOf(*commit).ok() ? At(repo, *commit) : AtTree(repo, *commit);
  if (!v.ok()) return v.status().Context(std::string(ref));
  return std::optional<LogView>(std::move(*v));
}

Result<LogView> LogView::At(const git::Repository& repo, const git::ObjectId& commit) {
  VOUCH_ASSIGN_OR_RETURN(git::ObjectId tree, repo.TreeIdOf(commit));
  auto v = AtTree(repo, tree);
  if (!v.ok()) return v.status().Context("log commit " + commit.Hex().substr(0, 12));
  v->commit_ = commit;
  return v;
}

Result<LogView> LogView::AtTree(const git::Repository& repo, const git::ObjectId& tree_id) {
  const std::string ref = "log tree " + tree_id.Hex().substr(0, 12);
  LogView v;
  v.repo_ = &repo;
  VOUCH_ASSIGN_OR_RETURN(git::Tree tree, repo.TreeAt(tree_id));
  v.tree_ = std::make_shared<git::Tree>(std::move(tree));
  v.tree_id_ = tree_id;
  VOUCH_ASSIGN_OR_RETURN(Bytes note, v.ReadFile(std::string(kCheckpointFile), tlog::kMaxNoteSize));
  v.note_.assign(note.begin(), note.end());
  VOUCH_ASSIGN_OR_RETURN(tlog::Note parsed, tlog::ParseNote(v.note_));
  auto checkpoint = tlog::ParseCheckpoint(parsed.text);
  if (!checkpoint.ok()) return checkpoint.status().Context(ref + ": checkpoint");
  v.checkpoint_ = std::move(*checkpoint);
  if (v.checkpoint_.size > kMaxLogSize) {
    return Error(Code::kTooLarge, ref + ": a checkpoint of " + std::to_string(v.checkpoint_.size) + " leaves (at most 2^40)");
  }
  auto covers = v.ReadFile(std::string(kCoversFile), kMaxCoversSize);
  if (covers.ok()) {
    std::string hex(covers->begin(), covers->end());
    if (!hex.empty() && hex.back() == '\n') hex.pop_back();
    auto id = git::ObjectId::FromHex(hex);
    if (!id.ok()) return Error(Code::kMalformed, ref + ": covers is not a commit id");
    v.covers_ = *id;
  } else if (covers.status().code() != Code::kNotFound) {
    return covers.status();
  }
  return v;
}

Result<Bytes> LogView::ReadFile(const std::string& path, uint64_t cap) const {
  std::optional<git::ObjectId> blob = tree_->EntryAt(path);
  if (!blob) return Error(Code::kNotFound, "log file " + path + " is missing");
  auto bytes = repo_->ReadBlob(*blob, cap);
  if (!bytes.ok()) return bytes.status().Context("log file " + path);
  return bytes;
}

tlog::TileHashes LogView::Hashes() const {
  return tlog::TileHashes(size(), [this](const std::string& path) { return ReadFile(path, tlog::kFullTileSize); });
}

Result<std::vector<std::string>> LogView::Paths(uint64_t from, uint64_t to) const {
  std::vector<std::string> out;
  if (from >= to) return out;
  if (to > size()) return Error(Code::kUsage, "leaves past the log's size");
  for (uint64_t tile = from / tlog::kTileWidth; tile * tlog::kTileWidth < to; ++tile) {
    const unsigned width = tlog::TileWidthAt(size(), 0, tile);
    const std::string path = IndexTilePath(tile, width);
    VOUCH_ASSIGN_OR_RETURN(Bytes data, ReadFile(path, kMaxIndexTileSize));
    std::vector<std::string> lines = SplitLines(data);
    std::string joined;
    for (const auto& l : lines) joined += l + "\n";
    if (lines.size() != width || joined.size() != data.size()) {
      return Error(Code::kMalformed, "log file " + path + " does not hold " + std::to_string(width) + " lines");
    }
    const uint64_t first = tile * tlog::kTileWidth;
    for (unsigned i = 0; i < width; ++i) {
      if (first + i >= from && first + i < to) out.push_back(std::move(lines[i]));
    }
  }
  return out;
}

Status CheckLeaves(const LogView& view, const git::Repository& repo, const git::Tree& covered, uint64_t from,
                   uint64_t to, const std::function<Status(uint64_t leaf, const std::string& path)>& each) {
  tlog::TileHashes hashes = view.Hashes();
  // A tile of the index at a time: memory follows 256 paths, not the range.
  for (uint64_t at = from; at < to;) {
    const uint64_t end = std::min<uint64_t>(to, (at / tlog::kTileWidth + 1) * tlog::kTileWidth);
    VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> paths, view.Paths(at, end));
    for (uint64_t i = 0; i < paths.size(); ++i) {
      const uint64_t leaf = at + i;
      // The index is not signed: an entry naming anything but a voucher (a receipt beside
      // the vouchers, say) is refused before its blob is read.
      if (!formats::ParseLayoutPath(paths[i]).ok()) {
        return Error(Code::kMalformed, "log leaf " + std::to_string(leaf) + " names " + paths[i] + ", which is not a voucher's layout path");
      }
      std::optional<git::ObjectId> blob = covered.EntryAt(paths[i]);
      if (!blob) {
        return Error(Code::kMalformed, "log leaf " + std::to_string(leaf) + " names " + paths[i] +
                                           ", which is not among the vouchers the log covers");
      }
      VOUCH_ASSIGN_OR_RETURN(Bytes bytes, repo.ReadBlob(*blob, formats::kMaxVoucherSize));
      VOUCH_ASSIGN_OR_RETURN(tlog::Hash want, tlog::LeafHash(bytes));
      VOUCH_ASSIGN_OR_RETURN(tlog::Hash have, hashes.Subtree(leaf, 0));
      if (want != have) return Error(Code::kIdMismatch, "log leaf " + std::to_string(leaf) + " is not the voucher at " + paths[i]);
      VOUCH_RETURN_IF_ERROR(each(leaf, paths[i]));
    }
    at = end;
  }
  return Status::Ok();
}

// ---- Cache: configuration ----

namespace {

fs::path LogConfigPath(const fs::path& cache) { return cache / "vouch" / "log.conf"; }
fs::path LookupPath(const fs::path& cache) { return cache / "vouch" / "log-lookup"; }

}  // namespace

Status Cache::LoadLogConfig() {
  const fs::path p = LogConfigPath(path_);
  if (!fs::exists(p)) return Status::Ok();
  VOUCH_ASSIGN_OR_RETURN(Bytes data, ReadFile(p, 8192));
  LogConfig c;
  for (const std::string& line : SplitLines(data)) {
    if (line.starts_with("origin ")) c.origin = line.substr(7);
    else if (line.starts_with("key ")) c.key = line.substr(4);
    else if (line.starts_with("vkey ")) c.vkey = line.substr(5);
  }
  if (c.origin.empty() || c.key.empty() || c.vkey.empty()) {
    return Error(Code::kMalformed, p.string() + ": needs origin, key and vkey lines");
  }
  auto v = tlog::NoteVerifier::Parse(c.vkey);
  if (!v.ok() || v->name != c.origin) return Error(Code::kMalformed, p.string() + ": vkey is not a key of " + c.origin);
  log_ = std::move(c);
  return Status::Ok();
}

Result<tlog::NoteSigner> Cache::LogSigner() const {
  if (!log_) return Error(Code::kNotFound, path_.string() + ": the cache has no log (run vouch log init)");
  auto key = ed25519::LoadPrivateKey(log_->key);
  if (!key.ok()) return key.status().Context("the log's key");
  return tlog::NoteSigner::Make(log_->origin, std::move(*key));
}

Status Cache::LogInit(const std::string& origin, const fs::path& key_path) {
  if (!tlog::IsValidKeyName(origin) || origin.size() > tlog::kMaxOriginSize) {
    return Error(Code::kUsage, "log origin '" + origin + "' is not a valid key name (no spaces, no '+', at most 256 bytes)");
  }
  if (log_ && log_->origin != origin) {
    return Error(Code::kExists, "the cache already keeps the log " + log_->origin + " (one log, one origin)");
  }
  std::error_code ec;
  fs::path key = fs::absolute(key_path, ec);
  if (!fs::exists(key)) {
    VOUCH_ASSIGN_OR_RETURN(ed25519::PrivateKey k, ed25519::PrivateKey::Generate());
    VOUCH_RETURN_IF_ERROR(ed25519::SavePrivateKey(key, k, Overwrite::kNo));
  } else if ((fs::status(key, ec).permissions() & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
    return Error(Code::kUsage, key.string() + ": the log's key is readable by others (chmod 600 it)");
  }
  log_ = LogConfig{origin, key.string(), ""};
  VOUCH_ASSIGN_OR_RETURN(tlog::NoteSigner signer, LogSigner());  // the key must load before anything is written
  log_->vkey = signer.Verifier().Text();
  const std::string text = "origin " + log_->origin + "\nkey " + log_->key + "\nvkey " + log_->vkey + "\n";
  VOUCH_RETURN_IF_ERROR(WriteFileAtomic(LogConfigPath(path_), AsBytes(text)));
  // Existing vouchers are appended now, once; so is a first checkpoint of an empty cache.
  return SyncLog(nullptr, nullptr);
}

Result<std::optional<LogView>> Cache::ReadLog(std::string_view ref) const { return LogView::Read(repo_, ref); }

Result<LogStatus> Cache::LogState() const {
  if (!log_) return Error(Code::kNotFound, path_.string() + ": the cache has no log (run vouch log init)");
  VOUCH_ASSIGN_OR_RETURN(std::optional<LogView> view, ReadLog());
  if (!view) return Error(Code::kNotFound, "the log has no checkpoint yet (run vouch log init again)");
  LogStatus s;
  s.origin = log_->origin;
  s.vkey = log_->vkey;
  s.note = view->note();
  s.size = view->size();
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, repo_.Resolve(kBranch));
  if (tip && (!view->covers() || *view->covers() != *tip)) {
    git::Tree from;
    if (view->covers()) {
      VOUCH_ASSIGN_OR_RETURN(from, repo_.TreeOf(*view->covers()));
    }
    VOUCH_ASSIGN_OR_RETURN(git::Tree to, repo_.TreeOf(*tip));
    VOUCH_ASSIGN_OR_RETURN(auto added, repo_.Added(from, to, formats::kLayoutRoot));
    s.behind = added.size();
  }
  return s;
}

// ---- Cache: appending ----

Status Cache::SyncLog(const std::map<std::string, tlog::Hash>* known, const std::optional<git::ObjectId>* gained_since) {
  if (!log_) return Status::Ok();
  VOUCH_ASSIGN_OR_RETURN(tlog::NoteSigner signer, LogSigner());
  // One writer at a time appends: the branch may take many writers (compare-and-swap), the
  // log's leaf order is decided here, under this lock.
  VOUCH_ASSIGN_OR_RETURN(git::CacheLock lock, git::CacheLock::Take(path_.string(), git::CacheLock::Mode::kExclusive, true, "log-lock"));
  VOUCH_ASSIGN_OR_RETURN(std::optional<LogView> old, ReadLog());
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, repo_.Resolve(kBranch));
  std::optional<git::ObjectId> covers = old ? old->covers() : std::nullopt;
  if (old && covers == tip) return Status::Ok();
  if (old && old->checkpoint().origin != log_->origin) {
    return Error(Code::kExists, "the log branch holds the log " + old->checkpoint().origin + ", not " + log_->origin);
  }
  if (covers && tip) {
    VOUCH_ASSIGN_OR_RETURN(bool contained, repo_.IsAncestor(*covers, *tip));
    if (!contained) return Error(Code::kRewritten, "the vouchers branch no longer contains the commit the log covers");
  }
  // What the branch gained since the log's last write, in path order: the leaf order.
  git::Tree from, to;
  if (covers) {
    VOUCH_ASSIGN_OR_RETURN(from, repo_.TreeOf(*covers));
  }
  if (tip) {
    VOUCH_ASSIGN_OR_RETURN(to, repo_.TreeOf(*tip));
  }
  std::vector<std::pair<std::string, git::ObjectId>> added;
  // An import that just committed exactly `known` on top of the commit the log covers says
  // so (`gained_since`): the gain is then known without comparing two trees of every voucher.
  bool exact = false;
  if (known && gained_since && tip && *gained_since == covers) {
    VOUCH_ASSIGN_OR_RETURN(std::vector<git::ObjectId> parents, repo_.Parents(*tip));
    exact = covers ? parents == std::vector<git::ObjectId>{*covers} : parents.empty();
  }
  if (exact) {
    added.reserve(known->size());
    for (const auto& [path, leaf] : *known) added.emplace_back(path, git::ObjectId());  // map order: path order
  } else if (tip) {
    VOUCH_ASSIGN_OR_RETURN(added, repo_.Added(from, to, formats::kLayoutRoot));
  }
  std::vector<tlog::Hash> leaves;
  leaves.reserve(added.size());
  for (const auto& [path, blob] : added) {
    if (known) {
      if (auto it = known->find(path); it != known->end()) {
        leaves.push_back(it->second);
        continue;
      }
    }
    VOUCH_ASSIGN_OR_RETURN(Bytes bytes, repo_.ReadBlob(blob, formats::kMaxVoucherSize));
    VOUCH_ASSIGN_OR_RETURN(tlog::Hash h, tlog::LeafHash(bytes));
    leaves.push_back(h);
  }
  // Only receipts came (they are not leaves): the log and its checkpoint stay as they are,
  // still covering an ancestor of the tip.
  if (old && leaves.empty()) return Status::Ok();
  const uint64_t old_size = old ? old->size() : 0;
  const uint64_t new_size = old_size + leaves.size();

  // The hash tiles.
  tlog::TileHashes old_hashes = old ? old->Hashes() : tlog::TileHashes(0, [](const std::string& p) -> Result<Bytes> {
    return Error(Code::kInternal, "an empty log has no tile " + p);
  });
  VOUCH_ASSIGN_OR_RETURN(std::vector<tlog::Tile> tiles, tlog::AppendTiles(old_hashes, leaves));
  std::map<std::string, Bytes> written;  // path -> bytes, the files this write puts
  std::vector<git::PathChange> changes;
  for (const tlog::Tile& t : tiles) {
    // A partial tile that grew is replaced: the old width's path goes.
    const unsigned old_width = tlog::TileWidthAt(old_size, t.level, t.index);
    if (old_width != 0 && old_width != t.width) changes.push_back({tlog::TilePath(t.level, t.index, old_width), std::nullopt});
    written[t.Path()] = t.data;
  }
  // The entry index, tile by tile like level 0.
  {
    std::vector<std::string> run;
    uint64_t tile = old_size / tlog::kTileWidth;
    const unsigned old_width = static_cast<unsigned>(old_size % tlog::kTileWidth);
    if (old_width != 0) {
      VOUCH_ASSIGN_OR_RETURN(run, old->Paths(tile * tlog::kTileWidth, old_size));
      changes.push_back({IndexTilePath(tile, old_width), std::nullopt});
    }
    for (const auto& a : added) run.push_back(a.first);
    for (size_t at = 0; at < run.size(); at += tlog::kTileWidth, ++tile) {
      const size_t width = std::min<size_t>(tlog::kTileWidth, run.size() - at);
      std::string text;
      for (size_t i = 0; i < width; ++i) text += run[at + i] + "\n";
      written[IndexTilePath(tile, static_cast<unsigned>(width))] = Bytes(text.begin(), text.end());
    }
  }
  // The new root, from the new tiles over the old ones.
  tlog::TileHashes new_hashes(new_size, [&](const std::string& path) -> Result<Bytes> {
    if (auto it = written.find(path); it != written.end()) return it->second;
    if (!old) return Error(Code::kInternal, "tile " + path + " missing");
    return old->ReadFile(path, tlog::kFullTileSize);
  });
  VOUCH_ASSIGN_OR_RETURN(tlog::Hash root, tlog::TreeRoot(new_hashes, new_size));
  VOUCH_ASSIGN_OR_RETURN(std::string text, tlog::FormatCheckpoint(tlog::Checkpoint{log_->origin, new_size, root, {}}));
  std::vector<tlog::NoteSigner> signers{signer};
  VOUCH_ASSIGN_OR_RETURN(std::string note, tlog::SignNote(text, signers));
  written[std::string(kCheckpointFile)] = Bytes(note.begin(), note.end());
  if (tip) {
    const std::string hex = tip->Hex() + "\n";
    written[std::string(kCoversFile)] = Bytes(hex.begin(), hex.end());
  }

  VOUCH_ASSIGN_OR_RETURN(git::Staging* staging, Staging());
  for (const auto& [path, bytes] : written) {
    git::ObjectId id = git::ObjectId::OfBlob(bytes);
    VOUCH_RETURN_IF_ERROR(staging->WriteBlob(id, bytes));
    changes.push_back({path, id});
  }
  std::vector<git::ObjectId> parents;
  if (old) parents.push_back(old->commit());
  const std::string message = "vouch: log " + std::to_string(leaves.size()) + " vouchers (size " + std::to_string(new_size) + ")";
  const git::Tree none;
  VOUCH_ASSIGN_OR_RETURN(git::ObjectId commit, staging->CommitChanges(old ? old->tree() : none, changes, parents, message));
  std::optional<git::ObjectId> from_commit;
  if (old) from_commit = old->commit();
  return MoveLogRef(repo_, commit, from_commit, message);
}

Status Cache::AddCosignature(std::string_view checkpoint_text, const tlog::NoteSignature& line) {
  VOUCH_ASSIGN_OR_RETURN(git::CacheLock lock, git::CacheLock::Take(path_.string(), git::CacheLock::Mode::kExclusive, true, "log-lock"));
  VOUCH_ASSIGN_OR_RETURN(std::optional<LogView> view, ReadLog());
  if (!view) return Error(Code::kNotFound, "the cache has no log");
  VOUCH_ASSIGN_OR_RETURN(tlog::Note note, tlog::ParseNote(view->note()));
  if (note.text != checkpoint_text) {
    return Error(Code::kExists, "the log has moved on since that checkpoint (size " + std::to_string(view->size()) +
                                    " now): cosign the new one");
  }
  // One line per witness key: a newer cosignature replaces the witness's older one.
  std::erase_if(note.signatures, [&](const tlog::NoteSignature& s) { return s.name == line.name && s.key_id == line.key_id; });
  if (note.signatures.size() >= tlog::kMaxNoteSignatures) return Error(Code::kTooLarge, "the checkpoint has no room for another cosignature");
  note.signatures.push_back(line);
  const std::string text = tlog::FormatNote(note);
  VOUCH_ASSIGN_OR_RETURN(git::Staging* staging, Staging());
  Bytes bytes(text.begin(), text.end());
  git::ObjectId id = git::ObjectId::OfBlob(bytes);
  VOUCH_RETURN_IF_ERROR(staging->WriteBlob(id, bytes));
  std::vector<git::PathChange> changes{{std::string(kCheckpointFile), id}};
  const std::string message = "vouch: cosignature of " + line.name;
  VOUCH_ASSIGN_OR_RETURN(git::ObjectId commit, staging->CommitChanges(view->tree(), changes, {view->commit()}, message));
  return MoveLogRef(repo_, commit, view->commit(), message);
}

// ---- Cache: verifying ----

Status Cache::VerifyLog() const {
  VOUCH_ASSIGN_OR_RETURN(std::optional<LogView> view, ReadLog());
  if (!view) {
    if (log_) return Error(Code::kNotFound, "the cache is configured as a log but " + std::string(kLogRef) + " is missing");
    return Status::Ok();
  }
  // The checkpoint: signed by the configured key, the root of the tiles.
  std::optional<tlog::NoteVerifier> key;
  if (log_) {
    VOUCH_ASSIGN_OR_RETURN(key, tlog::NoteVerifier::Parse(log_->vkey));
  }
  auto checked = CheckLogExtends(*view, key, std::nullopt);
  if (!checked.ok()) return checked.status().Context(std::string(kLogRef));
  // Every older checkpoint of the log branch is a prefix of this tree: the log only grew.
  tlog::TileHashes hashes = view->Hashes();
  uint64_t newer = view->size();
  for (std::vector<git::ObjectId> parents = {view->commit()};;) {
    VOUCH_ASSIGN_OR_RETURN(parents, repo_.Parents(parents.front()));
    if (parents.empty()) break;
    if (parents.size() != 1) return Error(Code::kRewritten, std::string(kLogRef) + " has a merge: a log is one line of commits");
    VOUCH_ASSIGN_OR_RETURN(LogView older, LogView::At(repo_, parents.front()));
    if (older.size() > newer) return Error(Code::kRewritten, std::string(kLogRef) + " shrank from " + std::to_string(older.size()));
    VOUCH_ASSIGN_OR_RETURN(tlog::Hash root, tlog::TreeRoot(hashes, older.size()));
    if (root != older.checkpoint().root) {
      return Error(Code::kLogFork, std::string(kLogRef) + ": the checkpoint at size " + std::to_string(older.size()) +
                                       " is not a prefix of the log as it is now");
    }
    newer = older.size();
  }
  // Every leaf is the voucher its index entry names, on the branch as the log covers it.
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> tip, repo_.Resolve(kBranch));
  if (view->size() == 0) return Status::Ok();
  if (!view->covers()) return Error(Code::kMalformed, std::string(kLogRef) + " has leaves but covers no vouchers commit");
  if (!tip) return Error(Code::kRewritten, std::string(kLogRef) + " covers vouchers the cache has no branch for");
  VOUCH_ASSIGN_OR_RETURN(bool contained, repo_.IsAncestor(*view->covers(), *tip));
  if (!contained) return Error(Code::kRewritten, std::string(kBranch) + " no longer contains the commit the log covers");
  VOUCH_ASSIGN_OR_RETURN(git::Tree covered, repo_.TreeOf(*view->covers()));
  // Leaves are vouchers only: receipts beside them on the branch are not logged.
  VOUCH_ASSIGN_OR_RETURN(auto all, covered.Files(formats::kLayoutRoot));
  if (all.size() != view->size()) {
    return Error(Code::kMalformed, std::string(kLogRef) + " covers " + std::to_string(all.size()) + " vouchers but holds " +
                                       std::to_string(view->size()) + " leaves");
  }
  VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> paths, view->Paths(0, view->size()));
  std::set<std::string> seen;
  for (uint64_t i = 0; i < paths.size(); ++i) {
    if (!seen.insert(paths[i]).second) return Error(Code::kMalformed, "log leaf " + std::to_string(i) + ": " + paths[i] + " is logged twice");
    std::optional<git::ObjectId> blob = covered.EntryAt(paths[i]);
    if (!blob) return Error(Code::kMalformed, "log leaf " + std::to_string(i) + ": " + paths[i] + " is not on the branch");
    VOUCH_ASSIGN_OR_RETURN(Bytes bytes, repo_.ReadBlob(*blob, formats::kMaxVoucherSize));
    VOUCH_ASSIGN_OR_RETURN(tlog::Hash want, tlog::LeafHash(bytes));
    VOUCH_ASSIGN_OR_RETURN(tlog::Hash have, hashes.Subtree(i, 0));
    if (want != have) return Error(Code::kIdMismatch, "log leaf " + std::to_string(i) + " is not the voucher at " + paths[i]);
  }
  return Status::Ok();
}

// ---- Cache: a remote's log, as a pull finds it ----

Result<Cache::RemoteLog> Cache::CheckRemoteLog(const git::Repository& quarantine, const git::ObjectId& commit,
                                               const git::ObjectId& vouchers,
                                               std::span<const tlog::NoteVerifier> keys) const {
  VOUCH_ASSIGN_OR_RETURN(LogView remote, LogView::At(quarantine, commit));
  RemoteLog out;
  out.origin = remote.checkpoint().origin;
  out.size = remote.size();
  out.tree = remote.tree_id();
  // A log is compared and kept only under a key this cache was given for its origin: its
  // own, or one passed to the pull. Anyone can publish a "log" of any origin under a key of
  // their own; without a key it is not evidence of anything, so it is left alone.
  std::optional<tlog::NoteVerifier> log_key;
  if (log_ && log_->origin == out.origin) {
    VOUCH_ASSIGN_OR_RETURN(log_key, tlog::NoteVerifier::Parse(log_->vkey));
  }
  for (const auto& k : keys) {
    if (!log_key && k.name == out.origin && k.type == tlog::kSignatureTypeEd25519) log_key = k;
  }
  if (!log_key) return out;
  out.checked = true;
  VOUCH_ASSIGN_OR_RETURN(out.ref, KeptLogRef(*log_key));
  // Signed by that key for its origin and the root of its own tiles, before anything else
  // of the remote's log is walked.
  VOUCH_RETURN_IF_ERROR(CheckLogExtends(remote, log_key, std::nullopt).status());
  // Its shape: checkpoint, covers, tile/, index/ and nothing else, no submodule, each
  // object once, about three objects per 256 leaves.
  const uint64_t cap = out.size / 256 * 3 + 1024;
  VOUCH_ASSIGN_OR_RETURN(std::vector<git::ObjectId> objects,
                         quarantine.TreeObjects(out.tree, cap, {"checkpoint", "covers", "tile", "index"}));
  // Against every copy of this log the cache holds: the last one a pull kept, and its own.
  std::vector<LogView> held;
  uint64_t checked_to = 0;  // leaves [0, checked_to) were checked against vouchers before
  VOUCH_ASSIGN_OR_RETURN(std::optional<git::ObjectId> kept, repo_.Resolve(out.ref));
  if (kept) {
    VOUCH_ASSIGN_OR_RETURN(LogView k, LogView::AtTree(repo_, *kept));
    out.newer = remote.size() > k.size();
    checked_to = k.size();
    held.push_back(std::move(k));
  } else {
    out.newer = true;
  }
  if (log_ && log_->origin == out.origin) {
    VOUCH_ASSIGN_OR_RETURN(std::optional<LogView> own, ReadLog());
    if (own) held.push_back(std::move(*own));
  }
  VOUCH_ASSIGN_OR_RETURN(const std::string key, LogOriginKey(out.origin));
  for (const LogView& h : held) {
    Status s = Status::Ok();
    if (remote.size() >= h.size()) {
      s = CheckLogExtends(remote, log_key, h.note()).status();
    } else {
      // A remote behind: its root must be the root of that prefix of the larger copy.
      tlog::TileHashes hashes = h.Hashes();
      VOUCH_ASSIGN_OR_RETURN(tlog::Hash root, tlog::TreeRoot(hashes, remote.size()));
      if (root != remote.checkpoint().root) {
        s = Error(Code::kLogFork, "log " + out.origin + " at size " + std::to_string(remote.size()) +
                                      " is not a prefix of the copy at size " + std::to_string(h.size()) + " held here");
      }
    }
    if (s.code() == Code::kLogFork) {
      // Both notes are signed by the one key: evidence a third party can check.
      VOUCH_ASSIGN_OR_RETURN(fs::path where, KeepForkEvidence(path_ / "vouch" / "evidence" / key, h.note(), remote.note()));
      return Error(Code::kLogFork, s.message() + "; both checkpoints kept in " + where.string() + "-*");
    }
    VOUCH_RETURN_IF_ERROR(s);
  }
  if (!out.newer) return out;
  // The new leaves name the vouchers they are: `covers` is on the remote's verified branch,
  // and each new leaf's index entry is a voucher there with the leaf's bytes (a mirror that
  // rewrote the index to hide a voucher from monitors is refused here).
  if (remote.size() > 0) {
    if (!remote.covers()) return Error(Code::kMalformed, "log " + out.origin + " has leaves but covers no vouchers commit");
    VOUCH_ASSIGN_OR_RETURN(bool on_branch, quarantine.IsAncestor(*remote.covers(), vouchers));
    if (!on_branch) return Error(Code::kMalformed, "log " + out.origin + " covers a commit that is not on the remote's vouchers branch");
    VOUCH_ASSIGN_OR_RETURN(git::Tree covered, quarantine.TreeOf(*remote.covers()));
    VOUCH_RETURN_IF_ERROR(CheckLeaves(remote, quarantine, covered, checked_to, remote.size(),
                                      [](uint64_t, const std::string&) { return Status::Ok(); }));
  }
  for (const git::ObjectId& id : objects) {
    if (!repo_.Has(id)) out.objects.push_back(id);
  }
  return out;
}

// ---- Cache: proving ----

namespace {

// The lookup (cache/log.md, "Lookup"): voucher id -> leaf, a sorted array of (key, leaf)
// records kept in <cache>/vouch/log-lookup, derived from the entry index and brought up to
// the log's size when it is behind. Not part of the log: a mirror rebuilds its own.
struct Lookup {
  uint64_t size = 0;
  tlog::Hash root{};
  std::vector<std::pair<uint64_t, uint64_t>> records;
};

// The lookup file as it is, if it is one (anything else reads as empty: rebuilt). Read up to
// the size a lookup of `max_size` leaves has, no more.
Lookup LoadLookup(const fs::path& path, uint64_t max_size) {
  Lookup l;
  auto data = ReadFile(path, kLookupHeader + max_size * kLookupRecord, /*follow_links=*/false);
  if (!data.ok()) return l;
  if (data->size() < kLookupHeader || (data->size() - kLookupHeader) % kLookupRecord != 0 ||
      std::memcmp(data->data(), kLookupMagic.data(), kLookupMagic.size()) != 0) {
    return l;
  }
  const uint64_t size = Be64(data->data() + 24);
  const size_t n = (data->size() - kLookupHeader) / kLookupRecord;
  if (n != size) return l;
  l.size = size;
  std::memcpy(l.root.data(), data->data() + 32, 32);
  l.records.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* r = data->data() + kLookupHeader + i * kLookupRecord;
    l.records[i] = {Be64(r), Be64(r + 8)};
  }
  return l;
}

}  // namespace

Result<std::vector<std::pair<uint64_t, uint64_t>>> Cache::LogLookup(const LogView& view) const {
  const fs::path path = LookupPath(path_);
  Lookup l = LoadLookup(path, view.size());
  // A lookup of this log: its root at its size is this log's root at that size (another
  // log's, after a new init, or a damaged file is rebuilt from the index).
  if (l.size > view.size()) l = Lookup{};
  if (l.size > 0) {
    tlog::TileHashes hashes = view.Hashes();
    VOUCH_ASSIGN_OR_RETURN(tlog::Hash root, tlog::TreeRoot(hashes, l.size));
    if (root != l.root) l = Lookup{};
  }
  if (l.size == view.size()) return std::move(l.records);
  VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> paths, view.Paths(l.size, view.size()));
  std::vector<std::pair<uint64_t, uint64_t>> fresh;
  fresh.reserve(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    auto entry = formats::ParseLayoutPath(paths[i]);
    if (!entry.ok()) return entry.status().Context("log entry index, leaf " + std::to_string(l.size + i));
    VOUCH_ASSIGN_OR_RETURN(uint64_t key, LookupKey(entry->voucher_id));
    fresh.emplace_back(key, l.size + i);
  }
  std::sort(fresh.begin(), fresh.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  merged.reserve(l.records.size() + fresh.size());
  std::merge(l.records.begin(), l.records.end(), fresh.begin(), fresh.end(), std::back_inserter(merged));
  Bytes out(kLookupHeader + merged.size() * kLookupRecord, 0);
  std::memcpy(out.data(), kLookupMagic.data(), kLookupMagic.size());
  PutBe64(out.data() + 24, view.size());
  std::memcpy(out.data() + 32, view.checkpoint().root.data(), 32);
  for (size_t i = 0; i < merged.size(); ++i) {
    PutBe64(out.data() + kLookupHeader + i * kLookupRecord, merged[i].first);
    PutBe64(out.data() + kLookupHeader + i * kLookupRecord + 8, merged[i].second);
  }
  // Best effort: a reader that cannot write it (a read-only cache) just rebuilds it next time.
  (void)WriteFileAtomic(path, out);
  return merged;
}

Result<std::map<std::string, std::string>> Cache::Proofs(const std::vector<std::string>& paths) const {
  std::map<std::string, std::string> out;
  if (paths.empty()) return out;
  VOUCH_ASSIGN_OR_RETURN(std::optional<LogView> view, ReadLog());
  if (!view) return out;
  tlog::TileHashes hashes = view->Hashes();
  // Each path by a binary search of the lookup file, not the whole lookup read per call: a
  // sharded export asks for a shard's few paths at a time, up to 131,072 times (cache.md,
  // "Memory"). A file that cannot be searched (stale and not writable) is rebuilt in memory
  // once for the call, not once a path.
  std::optional<std::vector<std::pair<uint64_t, uint64_t>>> loaded;
  for (const std::string& path : paths) {
    auto entry = formats::ParseLayoutPath(path);
    if (!entry.ok()) return entry.status();
    VOUCH_ASSIGN_OR_RETURN(uint64_t key, LookupKey(entry->voucher_id));
    VOUCH_ASSIGN_OR_RETURN(std::vector<uint64_t> leaves, LookupLeaves(*view, key, &loaded));
    for (uint64_t leaf : leaves) {
      if (leaf >= view->size()) continue;  // a damaged lookup: the index entry decides
      VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> at, view->Paths(leaf, leaf + 1));
      if (at.size() != 1 || at[0] != path) continue;  // another voucher's key (8 bytes collide)
      tlog::Proof proof;
      proof.index = leaf;
      VOUCH_ASSIGN_OR_RETURN(proof.hashes, tlog::InclusionProof(hashes, leaf, view->size()));
      proof.checkpoint = view->note();
      out[path] = tlog::FormatProof(proof);
      break;
    }
  }
  return out;
}

Result<std::vector<uint64_t>> Cache::LookupLeaves(const LogView& view, uint64_t key,
                                                  std::optional<std::vector<std::pair<uint64_t, uint64_t>>>* loaded) const {
  // The common case, a lookup file as large as the log: a binary search of its records, a
  // few reads however large the log (cache/log.md, "Proofs").
  const fs::path path = LookupPath(path_);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  uint8_t header[kLookupHeader];
  struct stat st {};
  if (fd.get() >= 0 && ::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) &&
      ::pread(fd.get(), header, sizeof header, 0) == static_cast<ssize_t>(sizeof header) &&
      std::memcmp(header, kLookupMagic.data(), kLookupMagic.size()) == 0 && Be64(header + 24) == view.size() &&
      std::memcmp(header + 32, view.checkpoint().root.data(), 32) == 0 &&
      static_cast<uint64_t>(st.st_size) == kLookupHeader + view.size() * kLookupRecord) {
    auto record = [&](uint64_t i, uint64_t* k, uint64_t* leaf) {
      uint8_t r[kLookupRecord];
      if (::pread(fd.get(), r, sizeof r, static_cast<off_t>(kLookupHeader + i * kLookupRecord)) != static_cast<ssize_t>(sizeof r)) return false;
      *k = Be64(r);
      *leaf = Be64(r + 8);
      return true;
    };
    uint64_t lo = 0, hi = view.size();
    bool ok = true;
    while (lo < hi && ok) {
      uint64_t mid = lo + (hi - lo) / 2, k = 0, leaf = 0;
      ok = record(mid, &k, &leaf);
      if (k < key) lo = mid + 1;
      else hi = mid;
    }
    std::vector<uint64_t> out;
    for (uint64_t i = lo, k = 0, leaf = 0; ok && i < view.size() && (ok = record(i, &k, &leaf)) && k == key; ++i) {
      out.push_back(leaf);
    }
    if (ok) return out;
  }
  std::vector<std::pair<uint64_t, uint64_t>> own;
  if (loaded && !*loaded) {
    VOUCH_ASSIGN_OR_RETURN(*loaded, LogLookup(view));
  } else if (!loaded) {
    VOUCH_ASSIGN_OR_RETURN(own, LogLookup(view));
  }
  const auto& records = loaded ? **loaded : own;
  std::vector<uint64_t> out;
  for (auto it = std::lower_bound(records.begin(), records.end(), std::make_pair(key, uint64_t{0}));
       it != records.end() && it->first == key; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Result<std::string> Cache::Prove(std::string_view id_or_path) const {
  if (!log_) return Error(Code::kNotFound, path_.string() + ": the cache has no log (run vouch log init)");
  VOUCH_ASSIGN_OR_RETURN(std::optional<LogView> view, ReadLog());
  if (!view) return Error(Code::kNotFound, "the log has no checkpoint yet");
  const bool by_path = id_or_path.find('/') != std::string_view::npos;
  std::string id(id_or_path);
  if (by_path) {
    VOUCH_ASSIGN_OR_RETURN(formats::LayoutEntry entry, formats::ParseLayoutPath(id_or_path));
    id = entry.voucher_id;
  }
  // The lookup names candidate leaves; the entry index decides (keys are 8 bytes of a hash).
  VOUCH_ASSIGN_OR_RETURN(uint64_t key, LookupKey(id));
  VOUCH_ASSIGN_OR_RETURN(std::vector<uint64_t> candidates, LookupLeaves(*view, key));
  std::optional<uint64_t> index;
  std::string path;
  for (uint64_t leaf : candidates) {
    if (leaf >= view->size()) continue;
    VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> at, view->Paths(leaf, leaf + 1));
    auto entry = formats::ParseLayoutPath(at.at(0));
    if (!entry.ok() || entry->voucher_id != id || (by_path && at[0] != id_or_path)) continue;
    index = leaf;
    path = at[0];
    break;
  }
  if (!index) {
    // Not where the lookup says: make sure the lookup is not what is wrong (rebuilt once
    // from the index) before saying the voucher is not logged.
    std::error_code ec;
    fs::remove(LookupPath(path_), ec);
    VOUCH_ASSIGN_OR_RETURN(auto records, LogLookup(*view));
    for (auto it = std::lower_bound(records.begin(), records.end(), std::make_pair(key, uint64_t{0}));
         !index && it != records.end() && it->first == key; ++it) {
      VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> at, view->Paths(it->second, it->second + 1));
      auto entry = formats::ParseLayoutPath(at.at(0));
      if (!entry.ok() || entry->voucher_id != id || (by_path && at[0] != id_or_path)) continue;
      index = it->second;
      path = at[0];
    }
  }
  if (!index) return Error(Code::kNotFound, std::string(id_or_path) + " is not in the log");
  tlog::Proof proof;
  proof.index = *index;
  tlog::TileHashes hashes = view->Hashes();
  VOUCH_ASSIGN_OR_RETURN(proof.hashes, tlog::InclusionProof(hashes, *index, view->size()));
  proof.checkpoint = view->note();
  const std::string text = tlog::FormatProof(proof);
  // The proof is checked against the voucher's bytes and the log's key before it is handed out.
  if (!view->covers()) return Error(Code::kInternal, "a log with leaves that covers no vouchers commit");
  VOUCH_ASSIGN_OR_RETURN(git::Tree tree, repo_.TreeOf(*view->covers()));
  std::optional<git::ObjectId> blob = tree.EntryAt(path);
  if (!blob) return Error(Code::kInternal, path + " is logged but not in the commit the log covers");
  VOUCH_ASSIGN_OR_RETURN(Bytes bytes, repo_.ReadBlob(*blob, formats::kMaxVoucherSize));
  VOUCH_ASSIGN_OR_RETURN(tlog::NoteVerifier log_key, tlog::NoteVerifier::Parse(log_->vkey));
  tlog::LogPolicy self{log_key, {}, 0, std::nullopt};
  VOUCH_RETURN_IF_ERROR(tlog::VerifyProof(bytes, text, self).status().Context("the log's own proof"));
  return text;
}

}  // namespace vouch::cache
