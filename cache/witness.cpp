#include "cache/witness.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include <cstdlib>
#include <ctime>

#include "libvoucher/ed25519.h"
#include "libvoucher/encoding.h"
#include "libvoucher/file.h"
#include "libvoucher/sha256.h"

namespace vouch::cache {
namespace fs = std::filesystem;
namespace tlog = formats::tlog;

Result<tlog::Checkpoint> CheckLogExtends(const LogView& view, const std::optional<tlog::NoteVerifier>& log_key,
                                         const std::optional<std::string>& held) {
  tlog::Checkpoint c;
  if (log_key) {
    VOUCH_ASSIGN_OR_RETURN(tlog::SignedCheckpoint opened, tlog::OpenCheckpoint(view.note(), *log_key));
    c = opened.checkpoint;
  } else {
    c = view.checkpoint();
  }
  // The checkpoint must be the root of the tiles it comes with: proofs are computed from them.
  tlog::TileHashes hashes = view.Hashes();
  VOUCH_ASSIGN_OR_RETURN(tlog::Hash root, tlog::TreeRoot(hashes, c.size));
  if (root != c.root) return Error(Code::kBadSignature, "log " + c.origin + ": its tiles do not give its checkpoint's root");
  if (!held) return c;
  VOUCH_ASSIGN_OR_RETURN(tlog::Note held_note, tlog::ParseNote(*held));
  VOUCH_ASSIGN_OR_RETURN(tlog::Checkpoint before, tlog::ParseCheckpoint(held_note.text));
  if (before.origin != c.origin) return Error(Code::kUsage, "checkpoint of " + c.origin + " against one of " + before.origin);
  if (c.size < before.size) {
    return Error(Code::kRollback, "log " + c.origin + " shows size " + std::to_string(c.size) + " after " +
                                      std::to_string(before.size) + " was seen");
  }
  VOUCH_ASSIGN_OR_RETURN(std::vector<tlog::Hash> proof, tlog::ConsistencyProof(hashes, before.size, c.size));
  Status consistent = tlog::VerifyConsistency(before.size, c.size, before.root, c.root, proof);
  if (!consistent.ok()) {
    return Error(Code::kLogFork, "log " + c.origin + " at size " + std::to_string(c.size) +
                                     " does not extend the checkpoint at size " + std::to_string(before.size) +
                                     " seen before (" + consistent.message() + ")");
  }
  return c;
}

Result<fs::path> KeepForkEvidence(const fs::path& dir, std::string_view held, std::string_view offered) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(Code::kIo, dir.string() + ": " + ec.message());
  // Named by the time and the offered note, never overwritten: every fork seen is kept.
  VOUCH_ASSIGN_OR_RETURN(Sha256Digest d, Sha256(AsBytes(offered)));
  const std::string stamp = std::to_string(std::time(nullptr)) + "-" + HexEncode(ByteView(d.data(), 8));
  Status s = WriteFileAtomic(dir / (stamp + "-held"), AsBytes(held), 0644, Overwrite::kNo);
  if (s.ok()) s = WriteFileAtomic(dir / (stamp + "-offered"), AsBytes(offered), 0644, Overwrite::kNo);
  if (!s.ok() && s.code() != Code::kExists) return s;  // the same fork seen twice in a second: kept already
  return dir / stamp;
}

fs::path Witness::DefaultPath() {
  if (const char* c = std::getenv("VOUCH_WITNESS"); c && *c) return c;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return fs::path(x) / "vouch" / "witness";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".local" / "share" / "vouch" / "witness";
}

Result<Witness> Witness::Init(const fs::path& dir, const std::string& name, const fs::path& key_path) {
  if (!tlog::IsValidKeyName(name)) return Error(Code::kUsage, "witness name '" + name + "' is not a valid key name (no spaces, no '+')");
  if (fs::exists(dir / "witness.conf")) {
    VOUCH_ASSIGN_OR_RETURN(Witness w, Open(dir));
    if (w.name() != name) return Error(Code::kExists, dir.string() + " holds the witness " + w.name());
    return w;
  }
  std::error_code ec;
  fs::create_directories(dir / "logs", ec);
  if (ec) return Error(Code::kIo, dir.string() + ": " + ec.message());
  fs::path key = fs::absolute(key_path, ec);
  if (!fs::exists(key)) {
    VOUCH_ASSIGN_OR_RETURN(ed25519::PrivateKey k, ed25519::PrivateKey::Generate());
    VOUCH_RETURN_IF_ERROR(ed25519::SavePrivateKey(key, k, Overwrite::kNo));
  }
  const std::string conf = "name " + name + "\nkey " + key.string() + "\n";
  VOUCH_RETURN_IF_ERROR(WriteFileAtomic(dir / "witness.conf", AsBytes(conf)));
  return Open(dir);
}

Result<Witness> Witness::Open(const fs::path& dir) {
  auto conf = ReadFile(dir / "witness.conf", 8192);
  if (!conf.ok()) return Error(Code::kNotFound, dir.string() + ": not a witness (run vouch witness init)");
  std::string name, key;
  std::string_view s(reinterpret_cast<const char*>(conf->data()), conf->size());
  while (!s.empty()) {
    size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    if (line.starts_with("name ")) name = line.substr(5);
    if (line.starts_with("key ")) key = line.substr(4);
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  if (name.empty() || key.empty()) return Error(Code::kMalformed, (dir / "witness.conf").string() + ": needs name and key lines");
  auto k = ed25519::LoadPrivateKey(key);
  if (!k.ok()) return k.status().Context("the witness's key");
  VOUCH_ASSIGN_OR_RETURN(tlog::Cosigner cosigner, tlog::Cosigner::Make(name, std::move(*k)));
  Witness w;
  w.dir_ = dir;
  w.name_ = name;
  w.cosigner_ = std::move(cosigner);
  return w;
}

Result<tlog::NoteSignature> Witness::Cosign(const LogView& view, const tlog::NoteVerifier& log_key, uint64_t now) {
  // One cosign at a time per witness: reading the checkpoint held, checking, remembering the
  // new one and signing are one step, or two runs could each cosign one side of a fork.
  const fs::path lock_path = dir_ / "lock";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (lock.get() < 0) return Error(Code::kIo, lock_path.string() + ": cannot open lock");
  while (::flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Error(Code::kIo, lock_path.string() + ": cannot lock");
  }
  VOUCH_ASSIGN_OR_RETURN(std::string key, LogOriginKey(view.checkpoint().origin));
  const fs::path held_path = dir_ / "logs" / key;
  std::optional<std::string> held;
  if (fs::exists(held_path)) {
    VOUCH_ASSIGN_OR_RETURN(Bytes b, ReadFile(held_path, tlog::kMaxNoteSize));
    held = std::string(b.begin(), b.end());
  }
  auto checked = CheckLogExtends(view, log_key, held);
  if (!checked.ok()) {
    if (checked.status().code() == Code::kLogFork) {
      VOUCH_ASSIGN_OR_RETURN(fs::path kept, KeepForkEvidence(dir_ / "evidence" / key, *held, view.note()));
      return Error(Code::kLogFork, checked.status().message() + "; both checkpoints kept in " + kept.string() + "-*");
    }
    return checked.status();
  }
  VOUCH_ASSIGN_OR_RETURN(tlog::Note note, tlog::ParseNote(view.note()));
  VOUCH_ASSIGN_OR_RETURN(tlog::NoteSignature line, cosigner_.Cosign(note.text, now));
  // Remembered before it is handed out: a witness never cosigns and then forgets.
  VOUCH_RETURN_IF_ERROR(WriteFileAtomic(held_path, AsBytes(view.note())));
  return line;
}

}  // namespace vouch::cache
