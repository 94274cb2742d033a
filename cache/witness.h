// A witness (c2sp.org/tlog-witness, offline): it keeps, per log origin, the last checkpoint
// it cosigned, and cosigns a new one only when a consistency proof, computed from the log's
// own tiles, joins the two. Two checkpoints of one origin that no proof joins are a fork
// (kLogFork): both are kept as evidence and nothing is cosigned. Spec page: cache/log.md,
// "Witnesses".
//
//   <state>/witness.conf                 name <NAME>, key <path of the Ed25519 key>
//   <state>/logs/<origin hash>           the last checkpoint cosigned (the signed note)
//   <state>/evidence/<origin hash>/<t>-<h>-held, -offered: two notes that fork
//   <state>/lock                         one cosign at a time
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "cache/log.h"
#include "formats/tlog/cosignature.h"
#include "formats/tlog/note.h"
#include "libvoucher/status.h"

namespace vouch::cache {

// The checks a witness and a monitor share: `view`'s checkpoint (signature checked with
// `log_key` when given) is the root of its own tiles, and it extends `held` (a checkpoint
// note seen before, none: anything does). kLogFork when it does not; kRollback when it is
// smaller than `held`. Returns the opened checkpoint.
Result<formats::tlog::Checkpoint> CheckLogExtends(const LogView& view, const std::optional<formats::tlog::NoteVerifier>& log_key,
                                                  const std::optional<std::string>& held);

// Keeps two notes that fork in `dir`/<time>-<hash of the offered note>-held and -offered
// (created as needed, never overwritten), and returns where (without the suffix).
Result<std::filesystem::path> KeepForkEvidence(const std::filesystem::path& dir, std::string_view held, std::string_view offered);

class Witness {
 public:
  // VOUCH_WITNESS, else $XDG_DATA_HOME/vouch/witness, else ~/.local/share/vouch/witness.
  static std::filesystem::path DefaultPath();
  // Creates the state (and the key at `key_path`, 0600, when absent). kExists when `dir`
  // already holds a witness of another name.
  static Result<Witness> Init(const std::filesystem::path& dir, const std::string& name, const std::filesystem::path& key_path);
  static Result<Witness> Open(const std::filesystem::path& dir);

  const std::string& name() const { return name_; }
  formats::tlog::NoteVerifier Verifier() const { return cosigner_.Verifier(); }

  // Checks `view` against the last checkpoint cosigned for its origin (CheckLogExtends;
  // on kLogFork both are kept under evidence/) and cosigns its checkpoint at `now`,
  // remembering it. Returns the cosignature line.
  Result<formats::tlog::NoteSignature> Cosign(const LogView& view, const formats::tlog::NoteVerifier& log_key, uint64_t now);

 private:
  std::filesystem::path dir_;
  std::string name_;
  formats::tlog::Cosigner cosigner_;
};

}  // namespace vouch::cache
