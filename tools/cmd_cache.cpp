// vouch cache ...: the append-only git cache and its mirrors.
#include <iostream>
#include <map>
#include <memory>

#include "cache/cache.h"
#include "cache/sources.h"
#include "cache/static_mirror.h"
#include "cache/status.h"
#include "formats/datetime.h"
#include "formats/bundle.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"
#include "libvoucher/file.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace vouch::tools {
namespace {
namespace fs = std::filesystem;

struct CacheFlags {
  std::string cache;  // empty: Cache::DefaultPath()
  std::vector<std::string> inputs, trust;
  std::string udf, remote, out_dir;
  std::vector<std::string> log_keys;
  std::vector<std::string> devices;  // status
  std::string devices_file, within = "30d", at;
  bool json = false;
};

using vouch::cache::Cache;
using vouch::cache::Offered;

fs::path CachePath(const CacheFlags& f) { return f.cache.empty() ? Cache::DefaultPath() : fs::path(f.cache); }

Status RunInit(const CacheFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> anchors, LoadAnchors(f.trust));
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Init(CachePath(f), anchors));
  std::cout << c.path().string() << "\n";
  return Status::Ok();
}

Status RunImport(const CacheFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Open(CachePath(f)));
  VOUCH_ASSIGN_OR_RETURN(cache::SourceReader sources,
                         cache::SourceReader::Open(f.inputs, cache::SourceReader::kBatch, cache::SourceReader::Bundles::kRead,
                                                   cache::SourceReader::Receipts::kRead));
  std::string source;
  for (const auto& i : f.inputs) source += (source.empty() ? "" : ", ") + i;
  VOUCH_ASSIGN_OR_RETURN(cache::AddReport r, c.Add([&](std::vector<Offered>* b) { return sources.Next(b); }, source));
  std::vector<cache::CandidateReport> refused = sources.refused();
  refused.insert(refused.end(), r.refused.begin(), r.refused.end());
  if (f.json) {
    nlohmann::json j = {{"added", r.added},   {"receipts-added", r.receipts},           {"present", r.present},
                        {"commit", r.commit}, {"refused", nlohmann::json::array()}};
    for (const auto& x : refused) j["refused"].push_back({{"source", x.source}, {"code", CodeName(x.status.code())}, {"message", x.status.message()}});
    PrintJson(j);
  } else {
    for (const auto& x : refused) std::cerr << "vouch: refused " << x.source << ": " << x.status.message() << " (" << CodeName(x.status.code()) << ")\n";
    std::cout << "added " << r.added << ", already present " << r.present << ", refused " << refused.size() << ", receipts added "
              << r.receipts;
    if (!r.commit.empty()) std::cout << " (commit " << r.commit.substr(0, 12) << ")";
    std::cout << "\n";
  }
  if (!refused.empty()) return Error(Code::kMalformed, std::to_string(refused.size()) + " vouchers or receipts refused (see above)");
  return Status::Ok();
}

Status RunGet(const CacheFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Open(CachePath(f)));
  VOUCH_ASSIGN_OR_RETURN(std::vector<formats::PackedVoucher> vs, c.Get(f.udf));
  // A logged cache writes each voucher's proof beside it (formats/layout.md).
  std::map<std::string, std::string> proofs;
  if (!f.out_dir.empty() && c.logged()) {
    std::vector<std::string> paths;
    for (const auto& v : vs) paths.push_back(v.path);
    VOUCH_ASSIGN_OR_RETURN(proofs, c.Proofs(paths));
  }
  nlohmann::json j = nlohmann::json::array();
  for (const auto& v : vs) {
    std::string where = v.path;
    if (!f.out_dir.empty()) {
      fs::path p = fs::path(f.out_dir) / v.path;
      fs::create_directories(p.parent_path());
      VOUCH_RETURN_IF_ERROR(WriteFileAtomic(p, v.bytes));
      if (auto it = proofs.find(v.path); it != proofs.end()) {
        fs::path proof = p;
        proof += formats::kProofSuffix;
        VOUCH_RETURN_IF_ERROR(WriteFileAtomic(proof, AsBytes(it->second)));
      }
      where = p.string();
    }
    if (f.json) {
      j.push_back({{"path", v.path}, {"size", v.bytes.size()}, {"written", f.out_dir.empty() ? "" : where},
                   {"proof", proofs.count(v.path) > 0}});
    } else {
      std::cout << where << "\n";
    }
  }
  if (f.json) PrintJson(j);
  if (vs.empty()) return Error(Code::kNotFound, "no vouchers for " + f.udf + " in " + c.path().string());
  return Status::Ok();
}

Status RunList(const CacheFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Open(CachePath(f)));
  VOUCH_ASSIGN_OR_RETURN(std::optional<std::string> tip, c.Tip());
  // Printed as the tree is walked: a cache of millions is never listed into memory. --json
  // counts first (a second walk), as its document names the count before the list.
  size_t count = 0;
  if (f.json) {
    VOUCH_RETURN_IF_ERROR(c.List([&](const std::string&) {
      ++count;
      return Status::Ok();
    }));
    std::cout << "{\n  \"cache\": " << nlohmann::json(c.path().string()).dump() << ",\n  \"count\": " << count
              << ",\n  \"tip\": " << nlohmann::json(tip ? *tip : "").dump() << ",\n  \"vouchers\": [";
    size_t i = 0;
    VOUCH_RETURN_IF_ERROR(c.List([&](const std::string& p) {
      std::cout << (i++ ? ",\n    " : "\n    ") << nlohmann::json(p).dump();
      return Status::Ok();
    }));
    std::cout << (i ? "\n  ]\n}\n" : "]\n}\n");
  } else {
    VOUCH_RETURN_IF_ERROR(c.List([&](const std::string& p) {
      std::cout << p << "\n";
      ++count;
      return Status::Ok();
    }));
    std::cerr << "vouch: " << count << " vouchers in " << c.path().string() << "\n";
  }
  return Status::Ok();
}

Status RunVerify(const CacheFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Open(CachePath(f)));
  Status s = c.Verify();
  if (f.json) PrintJson({{"cache", c.path().string()}, {"ok", s.ok()}, {"code", CodeName(s.code())}, {"message", s.message()}});
  VOUCH_RETURN_IF_ERROR(s);
  if (!f.json) std::cout << "ok: history is append-only and every voucher matches its id\n";
  return Status::Ok();
}

Status RunPush(const CacheFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Open(CachePath(f)));
  VOUCH_RETURN_IF_ERROR(c.Push(f.remote));
  std::cout << "pushed to " << cache::http::Redact(f.remote) << "\n";
  return Status::Ok();
}

// A published tree (cache/publish.md): the shards not pulled before, imported as any bundle.
Status RunStaticPull(Cache& c, const CacheFlags& f, const cache::PublishIndex& index) {
  if (!f.log_keys.empty()) return Error(Code::kUsage, "--log-key checks a git mirror's log; a static mirror's log is not pulled");
  auto pulled = cache::PullStatic(c, f.remote, index, {}, ShardProgress());
  if (!pulled.ok()) return f.json ? PrintRefusalJson(pulled.status()) : pulled.status();
  const cache::StaticPullReport& r = *pulled;
  const char* kind = r.added.added > 0 ? "merged" : "up-to-date";
  if (f.json) {
    nlohmann::json j = {{"result", kind}, {"static", true}, {"shards", r.shards}, {"new-shards", r.new_shards},
                        {"new-vouchers", r.added.added}, {"present", r.added.present}, {"tip", r.added.commit},
                        {"received-bytes", r.bytes}, {"refused-count", r.refused_count}, {"refused", nlohmann::json::array()},
                        {"failed-shards", nlohmann::json::array()}};
    for (const auto& x : r.refused) j["refused"].push_back({{"source", x.source}, {"code", CodeName(x.status.code())}, {"message", x.status.message()}});
    for (const auto& x : r.failed_shards) {
      j["failed-shards"].push_back({{"source", x.source}, {"code", CodeName(x.status.code())}, {"message", x.status.message()}});
    }
    PrintJson(j);
  } else {
    for (const auto& x : r.failed_shards) std::cerr << "vouch: shard left out: " << x.status.message() << " (" << CodeName(x.status.code()) << ")\n";
    for (const auto& x : r.refused) std::cerr << "vouch: refused " << x.source << ": " << x.status.message() << " (" << CodeName(x.status.code()) << ")\n";
    if (r.refused_count > r.refused.size()) std::cerr << "vouch: and " << r.refused_count - r.refused.size() << " more refused\n";
    std::cout << kind << ": " << r.added.added << " new vouchers from " << r.new_shards << " new shards of " << r.shards << ", "
              << r.bytes << " bytes received" << (r.refused_count ? ", " + std::to_string(r.refused_count) + " refused" : "") << "\n";
  }
  // As `cache import`: what was accepted is committed, and the run still says it refused some.
  if (!r.failed_shards.empty()) {
    return Error(r.failed_shards.front().status.code(), std::to_string(r.failed_shards.size()) +
                                                          " shards failed their checks and were left out (see above); the next pull tries them again");
  }
  if (r.refused_count > 0) {
    return Error(r.refused.front().status.code(), std::to_string(r.refused_count) + " vouchers refused (see above); their shards are not read again: " +
                                                      "cache/publish.md, \"Pulling\"");
  }
  return Status::Ok();
}

Status RunPull(const CacheFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Open(CachePath(f)));
  // http(s): a published tree when <URL>/vouch.index answers, git's smart HTTP when it is 404.
  if (cache::http::IsHttpUrl(f.remote)) {
    auto index = cache::ProbeStaticMirror(f.remote);
    if (!index.ok()) return f.json ? PrintRefusalJson(index.status()) : index.status();
    if (*index) return RunStaticPull(c, f, **index);
  }
  std::vector<formats::tlog::NoteVerifier> keys;
  for (const auto& k : f.log_keys) {
    VOUCH_ASSIGN_OR_RETURN(formats::tlog::NoteVerifier v, ReadVerifierKey(k));
    keys.push_back(std::move(v));
  }
  auto pulled = c.Pull(f.remote, {}, keys);
  if (!pulled.ok()) {
    // Scripts read the refusal from the one JSON document as well as from stderr.
    return f.json ? PrintRefusalJson(pulled.status()) : pulled.status();
  }
  const Cache::PullReport& r = *pulled;
  const char* kinds[] = {"up-to-date", "fast-forward", "merged", "remote-behind"};
  const char* kind = kinds[static_cast<int>(r.kind)];
  if (f.json) {
    nlohmann::json j = {{"result", kind}, {"new-commits", r.new_commits}, {"new-vouchers", r.new_vouchers},
                        {"new-receipts", r.new_receipts}, {"tip", r.tip},
                        {"received-bytes", r.received_bytes}};
    if (!r.log_origin.empty()) {
      j["log-origin"] = r.log_origin;
      j["log-size"] = r.log_size;
      j["log-checked"] = r.log_checked;
    }
    PrintJson(j);
  } else {
    std::cout << kind << ": " << r.new_vouchers << " new vouchers, " << r.new_receipts << " new receipts in " << r.new_commits
              << " commits, " << r.received_bytes
              << " bytes received\n";
    if (!r.log_origin.empty()) {
      std::cout << "log " << r.log_origin << " at size " << r.log_size
                << (r.log_checked ? ": consistent with every copy held\n" : ": not checked (no --log-key for it)\n");
    }
  }
  return Status::Ok();
}

// One device's line: vouchers, the newest, enrollment, renewal.
std::string StatusLine(const cache::DeviceStatus& d) {
  std::string line = d.device + "  vouchers " + std::to_string(d.vouchers);
  if (d.newest) line += "  newest " + d.newest->id + " " + formats::FormatDateTime(d.newest->created_on);
  line += "  enrolled ";
  line += d.enrolled ? "generation " + std::to_string(d.enrolled->generation) + " at " + formats::FormatDateTime(d.enrolled->time) + " (voucher " +
                           Printable(d.enrolled->voucher_id) + ")"
                     : std::string("no");
  if (!d.newest) return line;
  if (!d.newest->certificate_not_after) return line + "  renewal: no certificate";
  return line + "  renewal " + (d.renewal_due ? "due" : "not due") + " (certificate until " +
         formats::FormatDateTime(*d.newest->certificate_not_after) + ")";
}

nlohmann::json StatusJson(const cache::DeviceStatus& d) {
  nlohmann::json j = {{"device", d.device}, {"vouchers", d.vouchers}, {"newest", nullptr}, {"enrolled", nullptr},
                      {"renewal-due", d.renewal_due}};
  if (d.newest) {
    j["newest"] = {{"id", d.newest->id},
                   {"created-on", formats::FormatDateTime(d.newest->created_on)},
                   {"certificate-not-after", d.newest->certificate_not_after ? nlohmann::json(formats::FormatDateTime(*d.newest->certificate_not_after))
                                                                             : nlohmann::json(nullptr)}};
  }
  if (d.enrolled) {
    j["enrolled"] = {{"generation", d.enrolled->generation}, {"time", formats::FormatDateTime(d.enrolled->time)},
                     {"voucher-id", d.enrolled->voucher_id}, {"receipt-id", d.enrolled->receipt_id}};
  }
  // Why renewal is not due when there is nothing to renew: said, not left to be inferred.
  j["renewal"] = !d.newest ? "no-voucher" : !d.newest->certificate_not_after ? "no-certificate" : d.renewal_due ? "due" : "not-due";
  return j;
}

// `text` (one JSON value as JsonText dumps it) as it stands `by` spaces deeper in a document.
// JSON strings hold no raw newline, so every newline is one of the layout's.
std::string Indented(const std::string& text, size_t by) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char ch : text) {
    out += ch;
    if (ch == '\n') out.append(by, ' ');
  }
  return out;
}

Status RunStatus(const CacheFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Open(CachePath(f)));
  cache::FleetStatusRequest r;
  VOUCH_ASSIGN_OR_RETURN(r.devices, DevicesFromFlags(f.devices, f.devices_file));
  auto within = formats::ParseDuration(f.within);
  if (!within.ok()) return within.status().Context("--within");
  r.within_seconds = *within;
  VOUCH_ASSIGN_OR_RETURN(TimePolicy when, TimePolicyFromFlags(f.at, false));
  r.now = *when.Effective();
  // Each device is printed as it is answered: a fleet's report is never held whole. The JSON is
  // written an element at a time, byte for byte what one document would dump as.
  bool first = true;
  auto each = [&](const cache::DeviceStatus& d) {
    if (f.json) std::cout << (first ? "{\n  \"devices\": [\n    " : ",\n    ") << Indented(JsonText(StatusJson(d)), 4);
    else std::cout << StatusLine(d) << "\n";
    first = false;
    return Status::Ok();
  };
  auto s = cache::ForEachDeviceStatus(c, r, each);
  if (!s.ok()) {
    if (f.json && !first) std::cout << "\n" << std::flush;  // what was printed stays, cut short: the exit code says so
    return s.status();
  }
  if (f.json) {
    nlohmann::json summary = {{"devices", s->devices}, {"enrolled", s->enrolled}, {"renewal-due", s->renewal_due},
                              {"at", formats::FormatDateTime(r.now)}, {"within-seconds", r.within_seconds}};
    std::cout << (first ? "{\n  \"devices\": [],\n" : "\n  ],\n") << "  \"summary\": " << Indented(JsonText(summary), 2) << "\n}\n";
    return Status::Ok();
  }
  std::cout << s->devices << " devices, " << s->enrolled << " enrolled, " << s->renewal_due << " renewal due\n";
  return Status::Ok();
}

Status RunGc(const CacheFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(Cache c, Cache::Open(CachePath(f)));
  VOUCH_RETURN_IF_ERROR(c.Gc());
  std::cout << "packed\n";
  return Status::Ok();
}

}  // namespace

void AddCacheCommands(CLI::App& app, Action& action) {
  auto* cache = app.add_subcommand("cache", "The append-only git cache of vouchers, and its mirrors");
  cache->require_subcommand(1);
  cache->footer("The cache is a bare git repository: --cache PATH, else $VOUCH_CACHE, else\n"
                "$XDG_DATA_HOME/vouch/cache.git (~/.local/share/vouch/cache.git).");
  auto f = std::make_shared<CacheFlags>();
  auto sub = [&](const char* name, const char* help, Status (*run)(const CacheFlags&)) {
    auto* c = cache->add_subcommand(name, help);
    c->add_option("--cache", f->cache, "Cache repository (default: see 'vouch cache --help')");
    c->callback([&action, f, run] { action = [f, run] { return run(*f); }; });
    return c;
  };
  auto* c = sub("init", "Create a cache (a bare git repository); with --trust it accepts only vouchers those anchors sign", RunInit);
  c->add_option("--trust", f->trust, "Manufacturer anchors (PEM) this cache accepts");
  // `add` and `import` were one command under two names: one command, `add` its alias.
  c = sub("import", "Import voucher files, receipts, bundles and directories of them; one commit, duplicates are no-ops", RunImport);
  c->alias("add");
  c->add_option("SOURCE", f->inputs, "Voucher files (.vjj, .vcj, .vch), receipts (.vrj), .vbundle files or directories")->required();
  c->add_flag("--json", f->json, "Print one JSON document");
  c->footer("Directories are walked without following links, for .vjj/.vcj/.vch files, .vrj receipts and\n"
            ".vbundle files (a stick's shard set and its vouch-receipts/ folder included). Every voucher\n"
            "is checked (and its signature, when the cache has anchors); every receipt is verified and\n"
            "must name a voucher of its device in the cache, with its combined key, at a generation\n"
            "above every receipt held for the device (cache/cache.md, \"Receipts\"). The new ones land\n"
            "in one commit and one pack, read a batch at a time. Refusals are listed one by one and\n"
            "nothing refused is committed. `vouch cache add` is the same command.\n"
            "Example:\n  vouch cache import /media/stick issued/");
  c = sub("get", "Show (or write out) the vouchers filed under a device", RunGet);
  c->add_option("UDF", f->udf, "Device UDF")->required();
  c->add_option("--out-dir", f->out_dir, "Write them under DIR at their layout paths");
  c->add_flag("--json", f->json, "Print one JSON document");
  c = sub("list", "List every voucher in the cache", RunList);
  c->add_flag("--json", f->json, "Print one JSON document");
  c = sub("status", "Per device: vouchers issued, the newest, enrolled (receipt back), renewal due", RunStatus);
  c->add_option("--device", f->devices, "A device UDF (repeat); default: every device in the cache");
  c->add_option("--devices", f->devices_file, "A file of device UDFs, one per line (or devices.csv), as log monitor takes");
  c->add_option("--within", f->within, "Renewal is due when the newest voucher's certificate for Z ends this soon (default 30d)");
  c->add_option("--at", f->at, "Judge renewal at this RFC 3339 time instead of now");
  c->add_flag("--json", f->json, "Print one JSON document: {\"devices\":[...],\"summary\":{...}}");
  c->footer("A device is enrolled once a receipt of it came back (vouch cache import STICK); the receipt of\n"
            "highest generation is shown. A newest voucher without a certificate for Z is never due.\n"
            "Examples:\n  vouch cache status\n  vouch cache status --devices fleet.txt --within 14d --json");
  c = sub("verify", "Prove the whole history append-only and every voucher and receipt right", RunVerify);
  c->footer("Also: the branch still holds every tip pulled from a remote and every commit a bundle was\n"
            "exported from (rewritten), and the cache has no refs/replace/*, info/grafts or shallow, which\n"
            "git honours and vouch does not (unsupported).");
  c->add_flag("--json", f->json, "Print one JSON document");
  c = sub("push", "Fast-forward a mirror (path, file://, git://, https:// or a configured remote)", RunPush);
  c->add_option("REMOTE", f->remote, "Where to push")->required();
  c = sub("pull", "Fetch a mirror, verify its history is append-only, merge by union", RunPull);
  c->add_option("REMOTE", f->remote, "Where to pull from")->required();
  c->add_option("--log-key", f->log_keys, "A log's verifier key (vkey text or file): the remote's copy of that log is checked\n"
                                           "against every copy held (log-fork) and kept; repeat for several logs");
  c->add_flag("--json", f->json, "Print one JSON document (a refusal too: result, code, message)");
  c->footer("Only the remote's refs/heads/vouchers is read, into a quarantine beside the cache; nothing\n"
            "reaches the cache before the new history is verified, within bounds read from object headers:\n"
            "commits 64 KiB, trees 1 MiB, vouchers 64 KiB, receipts 16 KiB, 16 parents, 200,000 commits a pull\n"
            "(cache/cache.md). Receipts come along and are verified like vouchers.\n"
            "A local remote is never opened as a repository: FIFOs, links and alternates are refused.\n"
            "An http(s) REMOTE whose REMOTE/vouch.index answers is a published tree (vouch publish): the\n"
            "shards not pulled before are downloaded, checked and imported as bundles (cache/publish.md);\n"
            "one that answers 404 is read as git over HTTP.\n"
            "Examples:\n  vouch cache pull git://mirror.example/vouchers.git\n  vouch cache pull /media/stick/vouchers.git --json\n"
            "  vouch cache pull https://vouchers.example.com/");
  c = sub("gc", "Consolidate the cache's packs (imports run it once they leave more than 64)", RunGc);
  c->footer("A cache of at most 262,144 objects and 48 MiB of packs is packed anew: one pack of what the\n"
            "branch and refs/vouch/* reach, objects of failed imports dropped. A larger one is merged in\n"
            "bounded steps, smallest packs first, into packs of at most that much, each as an import packs\n"
            "(cache/cache.md, \"Packs\"); its memory does not grow with the cache.");
  cache->footer("Examples:\n  vouch cache init --trust mfr-root.pem\n  vouch cache import /media/stick\n"
                "  vouch cache pull git://mirror.example/vouchers.git\n  vouch cache push /media/stick/vouchers.git");
}

}  // namespace vouch::tools
