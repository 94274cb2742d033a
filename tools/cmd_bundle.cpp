// vouch bundle create | list | verify: packing vouchers for sticks, and checking packs.

#include <unistd.h>

#include <iostream>
#include <memory>
#include <set>

#include "cache/export.h"
#include "formats/bundle.h"
#include "formats/envelope.h"
#include "libvoucher/udf.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace vouch::tools {
namespace {
namespace fs = std::filesystem;

struct CreateFlags {
  std::string from, out, cache, since;
  CLI::Option* cache_option = nullptr;  // given with or without a PATH
  std::vector<std::string> devices;
  size_t shard_threshold = formats::kShardThreshold;
  bool json = false;
};

struct ListFlags {
  std::string bundle;
  bool json = false;
};

struct VerifyFlags {
  std::string bundle, at;
  std::vector<std::string> trust;
  bool no_time = false, json = false;
};

Status RunCreate(const CreateFlags& f) {
  std::set<std::string> devices;
  for (const auto& d : f.devices) {
    auto u = udf::Udf::Parse(d);
    if (!u.ok() || u->bits() != udf::kKeyBits) return Error(Code::kUsage, "--device '" + d + "' is not a 140-bit device UDF");
    devices.insert(u->ToString());
  }
  bool use_cache = f.cache_option && f.cache_option->count() > 0;
  if (use_cache == !f.from.empty()) return Error(Code::kUsage, "give the vouchers with --from DIR or --cache [PATH]");
  cache::ExportRequest request;
  request.devices = devices;
  request.out = f.out;
  request.shard_threshold = f.shard_threshold;
  // A sharded export of a large cache takes minutes: its progress, on a terminal only.
  size_t shards = 0, vouchers = 0;
  if (::isatty(STDERR_FILENO)) {
    request.on_shard = [&](const formats::WrittenBundle& b) {
      std::cerr << "\rvouch: " << ++shards << " shards, " << (vouchers += b.count) << " vouchers written" << std::flush;
    };
  }
  std::vector<formats::WrittenBundle> written;
  if (use_cache) {
    VOUCH_ASSIGN_OR_RETURN(cache::Cache c, cache::Cache::Open(f.cache.empty() ? cache::Cache::DefaultPath() : fs::path(f.cache)));
    auto exported = cache::ExportCache(c, f.since, request);
    if (shards > 0) std::cerr << "\n";
    VOUCH_ASSIGN_OR_RETURN(written, std::move(exported));
  } else {
    if (!f.since.empty()) return Error(Code::kUsage, "--since goes with --cache");
    VOUCH_ASSIGN_OR_RETURN(written, cache::ExportDirectory(f.from, request));
  }
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& b : written) {
    if (f.json) doc.push_back({{"path", b.path.string()}, {"id", b.id}, {"count", b.count}});
    else std::cout << b.path.string() << "\n";
  }
  if (f.json) PrintJson(doc);
  return Status::Ok();
}

Status RunList(const ListFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(formats::Bundle b, formats::Bundle::Open(f.bundle));
  const auto& m = b.manifest();
  if (f.json) {
    nlohmann::ordered_json j;
    j["id"] = b.id();
    j["created-on"] = m.created_on;
    j["count"] = m.entries.size();
    j["entries"] = nlohmann::ordered_json::array();
    for (const auto& e : m.entries) j["entries"].push_back({{"path", e.path}, {"size", e.size}, {"id", e.id}});
    std::cout << JsonText(j) << "\n";
    return Status::Ok();
  }
  std::cout << "bundle:     " << b.id() << "\ncreated-on: " << m.created_on << "\nvouchers:   " << m.entries.size() << "\n";
  for (const auto& e : m.entries) std::cout << "  " << e.path << "  " << e.size << "\n";
  return Status::Ok();
}

Status RunVerifyBundle(const VerifyFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(TimePolicy time, TimePolicyFromFlags(f.at, f.no_time));
  VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> anchors, LoadAnchors(f.trust));
  VOUCH_ASSIGN_OR_RETURN(formats::Bundle b, formats::Bundle::Open(f.bundle));
  VOUCH_ASSIGN_OR_RETURN(std::vector<formats::PackedVoucher> vs, b.ReadAll());
  size_t bad = 0;
  nlohmann::json results = nlohmann::json::array();
  for (const auto& v : vs) {
    Status s;
    if (!anchors.empty()) s = formats::VerifyVoucher(v.bytes, anchors, time).status();
    if (!s.ok()) {
      ++bad;
      if (!f.json) std::cerr << "vouch: " << v.path << ": " << s.message() << " (" << CodeName(s.code()) << ")\n";
    }
    results.push_back({{"path", v.path}, {"ok", s.ok()}, {"code", CodeName(s.code())}});
  }
  if (f.json) {
    PrintJson({{"bundle", b.id()}, {"count", vs.size()}, {"signatures-checked", !anchors.empty()}, {"failed", bad},
               {"vouchers", results}});
  } else {
    std::cout << "bundle " << b.id() << ": " << vs.size() << " vouchers, structure and ids ok";
    if (!anchors.empty()) std::cout << ", " << vs.size() - bad << " signatures verify";
    std::cout << "\n";
  }
  if (bad) return Error(Code::kBadSignature, std::to_string(bad) + " of " + std::to_string(vs.size()) + " vouchers do not verify");
  return Status::Ok();
}

}  // namespace

void AddBundleCommands(CLI::App& app, Action& action) {
  auto* bundle = app.add_subcommand("bundle", "Pack vouchers into content-addressed bundles for sticks; list and check them");
  bundle->require_subcommand(1);

  auto fc = std::make_shared<CreateFlags>();
  auto* c = bundle->add_subcommand("create", "Pack the vouchers found under a directory; print the bundle path(s)");
  c->add_option("--from", fc->from, "Directory holding voucher files (.vjj, .vcj, .vch), e.g. an --out-dir tree");
  fc->cache_option = c->add_option("--cache", fc->cache, "Pack from the cache (PATH optional: default as in 'vouch cache --help')")
                        ->expected(0, 1);
  c->add_option("--since", fc->since, "With --cache: only vouchers added after this commit or bundle id");
  c->add_option("--device", fc->devices, "Only vouchers for these device UDFs");
  c->add_option("--out", fc->out, "Directory to write <BUNDLE-ID>.vbundle into")->required();
  c->add_option("--shard-threshold", fc->shard_threshold,
                "Over this many vouchers, write one shard per UDF prefix under vouch.vshards/")->capture_default_str();
  c->add_flag("--json", fc->json, "Print one JSON document");
  c->footer("Examples:\n  vouch bundle create --from issued/ --out /media/stick\n"
            "  vouch bundle create --cache --since MDLI-EH6S-... --out /media/stick   # what is new since that bundle");
  c->callback([&action, fc] { action = [fc] { return RunCreate(*fc); }; });

  auto fl = std::make_shared<ListFlags>();
  c = bundle->add_subcommand("list", "Show a bundle's id and manifest (after checking its structure)");
  c->add_option("BUNDLE", fl->bundle, ".vbundle file")->required();
  c->add_flag("--json", fl->json, "Print one JSON document");
  c->callback([&action, fl] { action = [fl] { return RunList(*fl); }; });

  auto fv = std::make_shared<VerifyFlags>();
  c = bundle->add_subcommand("verify", "Check a bundle's structure and every voucher's id; with --trust, every signature");
  c->add_option("BUNDLE", fv->bundle, ".vbundle file")->required();
  c->add_option("--trust", fv->trust, "Trust anchors (PEM) to verify each voucher against");
  c->add_option("--at", fv->at, "Check validity at this instant (RFC 3339)");
  c->add_flag("--no-time", fv->no_time, "Skip validity periods");
  c->add_flag("--json", fv->json, "Print one JSON document");
  c->callback([&action, fv] { action = [fv] { return RunVerifyBundle(*fv); }; });
}

}  // namespace vouch::tools
