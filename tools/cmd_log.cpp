// vouch log init | status | prove | monitor, and vouch witness init | cosign: the cache's
// transparency log, the witnesses that cosign it and the owners who watch it (cache/log.md).
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>

#include "cache/cache.h"
#include "cache/monitor.h"
#include "cache/witness.h"
#include "formats/layout.h"
#include "libvoucher/file.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace vouch::tools {
namespace {
namespace fs = std::filesystem;
namespace tlog = formats::tlog;
using vouch::cache::Cache;

struct LogFlags {
  std::string cache, origin, key, voucher, log_key, devices_file, state, name, out, remote;
  std::vector<std::string> devices, witnesses, notes, expect;
  bool json = false;
};

fs::path CachePath(const LogFlags& f) { return f.cache.empty() ? Cache::DefaultPath() : fs::path(f.cache); }

fs::path DefaultMonitorState() {
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return fs::path(x) / "vouch" / "monitor.checkpoint";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".local" / "state" / "vouch" / "monitor.checkpoint";
}

// A remote's log is read from a private mirror of it: the pull checks the remote (its history,
// its log against every copy held: log-fork) and keeps its log under refs/vouch/logs/.
Result<Cache> PulledMirror(const fs::path& dir, const std::string& remote, const tlog::NoteVerifier& log_key) {
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Init(dir, {}));
  std::vector<tlog::NoteVerifier> keys{log_key};
  VOUCH_RETURN_IF_ERROR(c.Pull(remote, {}, keys).status());
  return c;
}

Status RunLogInit(const LogFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Open(CachePath(f)));
  VOUCH_RETURN_IF_ERROR(c.LogInit(f.origin, f.key));
  VOUCH_ASSIGN_OR_RETURN(cache::LogStatus s, c.LogState());
  if (f.json) {
    PrintJson({{"origin", s.origin}, {"vkey", s.vkey}, {"size", s.size}, {"checkpoint", s.note}});
  } else {
    std::cout << s.vkey << "\n";
    std::cerr << "vouch: log " << s.origin << " holds " << s.size << " vouchers; give devices and witnesses the key above\n";
  }
  return Status::Ok();
}

Status RunLogStatus(const LogFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Open(CachePath(f)));
  VOUCH_ASSIGN_OR_RETURN(cache::LogStatus s, c.LogState());
  if (f.json) {
    PrintJson({{"origin", s.origin}, {"vkey", s.vkey}, {"size", s.size}, {"behind", s.behind}, {"checkpoint", s.note}});
  } else {
    std::cout << "origin:  " << s.origin << "\nvkey:    " << s.vkey << "\nsize:    " << s.size << "\n";
    if (s.behind) std::cout << "behind:  " << s.behind << " vouchers on the branch not yet logged (the next write appends them)\n";
    std::cout << "\n" << s.note;
  }
  return Status::Ok();
}

Status RunLogProve(const LogFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Open(CachePath(f)));
  VOUCH_ASSIGN_OR_RETURN(std::string proof, c.Prove(f.voucher));
  if (!f.out.empty()) return WriteFileAtomic(f.out, AsBytes(proof));
  std::cout << proof;
  return Status::Ok();
}

Result<std::set<std::string>> WatchedDevices(const LogFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(std::set<std::string> out, DevicesFromFlags(f.devices, f.devices_file));
  if (out.empty()) return Error(Code::kUsage, "no devices to watch (--device UDF... or --devices FILE)");
  return out;
}

Status RunLogMonitor(const LogFlags& f) {
  cache::MonitorRequest r;
  r.state = f.state.empty() ? DefaultMonitorState() : fs::path(f.state);
  if (!f.log_key.empty()) {
    VOUCH_ASSIGN_OR_RETURN(r.log_key, ReadVerifierKey(f.log_key));
  }
  std::optional<Cache> opened;
  if (!f.remote.empty()) {
    if (!r.log_key) return Error(Code::kUsage, "monitoring a REMOTE needs --log-key (it names the log to watch there)");
    fs::path mirror = r.state;
    mirror += ".mirror.git";
    VOUCH_ASSIGN_OR_RETURN(opened, PulledMirror(mirror, f.remote, *r.log_key));
    VOUCH_ASSIGN_OR_RETURN(r.ref, cache::KeptLogRef(*r.log_key));
  } else {
    VOUCH_ASSIGN_OR_RETURN(opened, Cache::Open(CachePath(f)));
    // A cache that keeps its own log checks its checkpoint with its own key by default.
    if (!r.log_key && opened->logged()) {
      VOUCH_ASSIGN_OR_RETURN(cache::LogStatus st, opened->LogState());
      VOUCH_ASSIGN_OR_RETURN(r.log_key, tlog::NoteVerifier::Parse(st.vkey));
    }
  }
  const Cache& c = *opened;
  VOUCH_ASSIGN_OR_RETURN(r.devices, WatchedDevices(f));
  for (const auto& dir : f.expect) {
    VOUCH_ASSIGN_OR_RETURN(std::set<std::string> ids, cache::VoucherIdsIn(dir));
    r.expected.insert(ids.begin(), ids.end());
  }
  auto report = cache::Monitor(c, r);
  if (!report.ok()) {
    return f.json ? PrintRefusalJson(report.status()) : report.status();
  }
  if (f.json) {
    nlohmann::json j = {{"origin", report->origin}, {"from", report->from}, {"to", report->to},
                        {"unexpected", report->unexpected}, {"vouchers", nlohmann::json::array()}};
    for (const auto& s : report->vouchers) {
      j["vouchers"].push_back({{"leaf", s.leaf}, {"path", s.path}, {"device", s.device}, {"id", s.id}, {"expected", s.expected}});
    }
    PrintJson(j);
  } else {
    for (const auto& s : report->vouchers) {
      std::cout << (s.expected ? "ok          " : "UNEXPECTED  ") << s.leaf << "  " << s.device << "  " << s.id << "\n";
    }
    std::cerr << "vouch: log " << report->origin << " leaves " << report->from << ".." << report->to << ": "
              << report->vouchers.size() << " for the watched devices, " << report->unexpected << " unexpected\n";
  }
  if (report->unexpected) {
    return Error(Code::kUnexpectedVoucher, std::to_string(report->unexpected) +
                                               " logged vouchers for watched devices are not among the expected ones "
                                               "(the state stays put: this alarm repeats until they are accounted for)");
  }
  return Status::Ok();
}

Status RunLogAddCosignature(const LogFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Open(CachePath(f)));
  std::vector<tlog::NoteVerifier> witnesses;
  for (const auto& w : f.witnesses) {
    VOUCH_ASSIGN_OR_RETURN(tlog::NoteVerifier v, ReadVerifierKey(w));
    if (v.type != tlog::kSignatureTypeCosignature) return Error(Code::kUsage, "--witness " + v.name + " is not a cosigner key (type 0x04)");
    witnesses.push_back(std::move(v));
  }
  size_t added = 0;
  for (const auto& file : f.notes) {
    VOUCH_ASSIGN_OR_RETURN(Bytes b, ReadInput(file, tlog::kMaxNoteSize));
    const std::string text(b.begin(), b.end());
    VOUCH_ASSIGN_OR_RETURN(tlog::Note note, tlog::ParseNote(text));
    // Only lines that verify under a given witness key are added: a line a verifier knows
    // but cannot verify would make it refuse the whole checkpoint.
    VOUCH_ASSIGN_OR_RETURN(auto verified, tlog::VerifyCosignatures(note, witnesses));
    for (const auto& v : verified) {
      for (const auto& line : note.signatures) {
        if (line.name != v.name || line.key_id != v.key_id) continue;
        Status s = c.AddCosignature(note.text, line);
        if (!s.ok()) return s.Context(file);
        ++added;
        break;
      }
    }
  }
  if (f.json) PrintJson({{"added", added}});
  else std::cout << "added " << added << " cosignatures\n";
  if (added == 0) return Error(Code::kTooFewWitnesses, "no cosignature of the given witnesses in those notes");
  return Status::Ok();
}

Status RunWitnessInit(const LogFlags& f) {
  fs::path dir = f.state.empty() ? cache::Witness::DefaultPath() : fs::path(f.state);
  VOUCH_ASSIGN_OR_RETURN(cache::Witness w, cache::Witness::Init(dir, f.name, f.key));
  if (f.json) PrintJson({{"name", w.name()}, {"vkey", w.Verifier().Text()}, {"state", dir.string()}});
  else std::cout << w.Verifier().Text() << "\n";
  return Status::Ok();
}

Status RunWitnessCosign(const LogFlags& f) {
  fs::path dir = f.state.empty() ? cache::Witness::DefaultPath() : fs::path(f.state);
  VOUCH_ASSIGN_OR_RETURN(cache::Witness w, cache::Witness::Open(dir));
  VOUCH_ASSIGN_OR_RETURN(tlog::NoteVerifier log_key, ReadVerifierKey(f.log_key));
  auto refused = [&](const Status& s) { return f.json ? PrintRefusalJson(s) : s; };
  std::optional<Cache> opened;
  std::string ref(cache::kLogRef);
  if (!f.remote.empty()) {
    auto pulled = PulledMirror(dir / "mirrors" / (*cache::LogOriginKey(log_key.name) + ".git"), f.remote, log_key);
    if (!pulled.ok()) return refused(pulled.status());
    opened = std::move(*pulled);
    VOUCH_ASSIGN_OR_RETURN(ref, cache::KeptLogRef(log_key));
  } else {
    VOUCH_ASSIGN_OR_RETURN(opened, Cache::Open(CachePath(f)));
  }
  Cache& c = *opened;
  VOUCH_ASSIGN_OR_RETURN(std::optional<cache::LogView> view, c.ReadLog(ref));
  if (!view) return refused(Error(Code::kNotFound, (f.remote.empty() ? c.path().string() : f.remote) + " has no log of " + log_key.name));
  auto line = w.Cosign(*view, log_key, static_cast<uint64_t>(std::time(nullptr)));
  if (!line.ok()) return refused(line.status());
  VOUCH_ASSIGN_OR_RETURN(tlog::Note note, tlog::ParseNote(view->note()));
  if (!f.remote.empty()) {
    // A witness cannot write to the log's remote: it hands the cosigned checkpoint back
    // (stdout or --out) for the log to add (vouch log add-cosignature).
    note.signatures.push_back(*line);
    const std::string text = tlog::FormatNote(note);
    if (!f.out.empty()) VOUCH_RETURN_IF_ERROR(WriteFileAtomic(f.out, AsBytes(text)));
    else if (!f.json) std::cout << text;
    if (f.json) {
      PrintJson({{"result", "cosigned"}, {"origin", view->checkpoint().origin}, {"size", view->size()}, {"witness", w.name()},
                 {"checkpoint", text}});
    }
    return Status::Ok();
  }
  VOUCH_RETURN_IF_ERROR(c.AddCosignature(note.text, *line));
  if (f.json) {
    PrintJson({{"result", "cosigned"}, {"origin", view->checkpoint().origin}, {"size", view->size()}, {"witness", w.name()}});
  } else {
    std::cout << "cosigned " << view->checkpoint().origin << " at size " << view->size() << " as " << w.name() << "\n";
  }
  return Status::Ok();
}

}  // namespace

void AddLogCommands(CLI::App& app, Action& action) {
  auto f = std::make_shared<LogFlags>();
  auto* log = app.add_subcommand("log", "The cache's transparency log: every voucher logged, proofs that travel, owners who watch");
  log->require_subcommand(1);
  log->footer("The log lives in the cache's git repository on refs/heads/log (c2sp.org tlog-tiles,\n"
              "checkpoints and signed notes), so every mirror carries it. Spec: cache/log.md.");
  auto sub = [&](CLI::App* parent, const char* name, const char* help, Status (*run)(const LogFlags&)) {
    auto* c = parent->add_subcommand(name, help);
    c->callback([&action, f, run] { action = [f, run] { return run(*f); }; });
    return c;
  };
  auto cache_flag = [&](CLI::App* c) { c->add_option("--cache", f->cache, "Cache repository (default: see 'vouch cache --help')"); };

  auto* c = sub(log, "init", "Make the cache a log: log every voucher it holds and every one it accepts from now on", RunLogInit);
  cache_flag(c);
  c->add_option("--origin", f->origin, "The log's name, on every checkpoint (e.g. mfr.example/vouchers)")->required();
  c->add_option("--key", f->key, "The log's Ed25519 key (PKCS#8 PEM); created (0600) when absent")->required();
  c->add_flag("--json", f->json, "Print one JSON document");
  c->footer("Prints the log's verifier key (vkey): give it to devices (vouch-device init --log-key),\n"
            "witnesses and monitors. Run again, it appends what the log lacks (after a crash).\n"
            "Example:\n  vouch log init --origin mfr.example/vouchers --key log.key");

  c = sub(log, "status", "Show the log's origin, verifier key, size and checkpoint", RunLogStatus);
  cache_flag(c);
  c->add_flag("--json", f->json, "Print one JSON document");

  c = sub(log, "prove", "Print a c2sp.org/tlog-proof@v1 for a voucher (by id or layout path)", RunLogProve);
  cache_flag(c);
  c->add_option("VOUCHER", f->voucher, "Voucher id (MDDK-...) or layout path (vouchers/.../ID.vjj)")->required();
  c->add_option("--out", f->out, "Write the proof here instead of stdout");
  c->footer("The proof holds the leaf index, the inclusion proof and the current checkpoint with its\n"
            "cosignatures. Bundles and `cache get --out-dir` put proofs beside vouchers themselves.\n"
            "Example:\n  vouch log prove MDDK-... > MDDK-....vjj.tlog-proof");

  c = sub(log, "monitor", "List vouchers logged for your devices since the last run; alarm on unexpected ones", RunLogMonitor);
  cache_flag(c);
  c->add_option("--device", f->devices, "A device UDF to watch (repeat)");
  c->add_option("--devices", f->devices_file, "A file of device UDFs, one per line (or devices.csv)");
  c->add_option("--expect", f->expect, "Your own vouchers (a directory, e.g. issue --out-dir; repeat): anything else alarms");
  c->add_option("--state", f->state, "Where the last checkpoint seen is kept (default $XDG_STATE_HOME/vouch/monitor.checkpoint)");
  c->add_option("--log-key", f->log_key, "The log's verifier key (vkey text or a file holding it): check its signature");
  c->add_option("REMOTE", f->remote, "Watch a remote's log instead (needs --log-key; pulled into <state>.mirror.git)");
  c->add_flag("--json", f->json, "Print one JSON document");
  c->footer("Exits with unexpected-voucher when a logged voucher for a watched device is not among\n"
            "--expect, and keeps its state so the alarm repeats; log-fork when the log does not extend\n"
            "the checkpoint seen last (both kept beside the state file).\n"
            "Example:\n  vouch log monitor --cache mirror.git --devices fleet.txt --expect issued/");

  c = sub(log, "add-cosignature", "Add witnesses' cosignatures (from notes they returned) to the current checkpoint", RunLogAddCosignature);
  cache_flag(c);
  c->add_option("NOTE", f->notes, "Cosigned checkpoints, as vouch witness cosign REMOTE writes them")->required();
  c->add_option("--witness", f->witnesses, "A witness's verifier key (vkey text or file); only its verified lines are added")->required();
  c->add_flag("--json", f->json, "Print one JSON document");
  c->footer("Each note must be the log's current checkpoint (exists otherwise: the log moved on; ask\n"
            "the witness again). Example:\n  vouch log add-cosignature --witness w1.vkey w1-cosigned.note");

  auto* witness = app.add_subcommand("witness", "Cosign a log's checkpoints after checking it never forked");
  witness->require_subcommand(1);
  c = sub(witness, "init", "Create a witness: its key and its state (the last checkpoint cosigned, per log)", RunWitnessInit);
  c->add_option("--name", f->name, "The witness's name (e.g. witness.example/w1)")->required();
  c->add_option("--key", f->key, "Its Ed25519 key (PKCS#8 PEM); created (0600) when absent")->required();
  c->add_option("--state", f->state, "State directory (default $VOUCH_WITNESS, $XDG_DATA_HOME/vouch/witness)");
  c->add_flag("--json", f->json, "Print one JSON document");
  c->footer("Prints the witness's verifier key (a cosignature vkey, type 0x04) for devices' --witness.");
  c = sub(witness, "cosign", "Check a log's new checkpoint against the last one cosigned, and cosign it", RunWitnessCosign);
  cache_flag(c);
  c->add_option("--log-key", f->log_key, "The log's verifier key (vkey text or a file holding it)")->required();
  c->add_option("REMOTE", f->remote, "A git remote of the log (pulled into <state>/mirrors/; the cosigned checkpoint is printed)");
  c->add_option("--out", f->out, "With REMOTE: write the cosigned checkpoint here");
  c->add_option("--state", f->state, "State directory (default: see 'vouch witness init --help')");
  c->add_flag("--json", f->json, "Print one JSON document");
  c->footer("Refuses (log-fork) a checkpoint that no consistency proof joins to the last one cosigned for\n"
            "that origin, keeping both under <state>/evidence/; rollback for a smaller tree.\n"
            "Example:\n  vouch witness cosign --log-key mfr.vkey --cache /srv/vouch/cache.git");
}

}  // namespace vouch::tools
