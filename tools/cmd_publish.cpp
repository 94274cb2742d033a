// vouch publish | fetch: a cache as a static tree any web server or CDN serves, and a carrier
// filling a stick from one (cache/publish.md). `vouch cache pull http(s)://...` reads the same
// trees (tools/cmd_cache.cpp).
#include <iostream>
#include <memory>

#include "cache/publish.h"
#include "cache/static_mirror.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace vouch::tools {
namespace {
namespace fs = std::filesystem;

struct PublishFlags {
  std::string cache, out;
  bool prune = false, json = false;
};

struct FetchFlags {
  std::string url, out, devices_file;
  std::vector<std::string> devices;
  bool json = false;
};

nlohmann::json EntryJson(const cache::IndexEntry& e) {
  return {{"prefix", e.prefix}, {"path", cache::PublishIndex::ShardPath(e)}, {"id", e.id}, {"vouchers", e.vouchers}, {"size", e.size}};
}

Status RunPublish(const PublishFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(cache::Cache c, cache::Cache::Open(f.cache.empty() ? cache::Cache::DefaultPath() : fs::path(f.cache)));
  VOUCH_ASSIGN_OR_RETURN(cache::PublishReport r, cache::Publish(c, f.out, {f.prune}));
  if (f.json) {
    nlohmann::json j = {{"out", f.out}, {"vouchers", r.vouchers}, {"shards", r.index.entries.size()}, {"kept", r.kept},
                        {"written", nlohmann::json::array()}, {"pruned", r.pruned}, {"log-size", r.log_size},
                        {"log-files-written", r.log_files}};
    for (const auto& e : r.written) j["written"].push_back(EntryJson(e));
    PrintJson(j);
    return Status::Ok();
  }
  for (const auto& e : r.written) std::cout << (fs::path(f.out) / cache::PublishIndex::ShardPath(e)).string() << "\n";
  std::cerr << "vouch: " << r.vouchers << " vouchers in " << r.index.entries.size() << " shards: " << r.written.size()
            << " written, " << r.kept << " unchanged" << (f.prune ? ", " + std::to_string(r.pruned.size()) + " pruned" : "");
  if (r.log_size > 0) std::cerr << "; log of " << r.log_size << " (" << r.log_files << " files written)";
  std::cerr << "\n";
  return Status::Ok();
}

Status RunFetch(const FetchFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(std::set<std::string> devices, DevicesFromFlags(f.devices, f.devices_file));
  if (devices.empty()) return Error(Code::kUsage, "name the devices with --device UDF or --devices FILE");
  if (!cache::http::IsHttpUrl(f.url)) return Error(Code::kUsage, "URL must be http:// or https://");
  auto r = cache::FetchStaticShards(f.url, devices, f.out, {}, ShardProgress());
  if (!r.ok()) return f.json ? PrintRefusalJson(r.status()) : r.status();
  if (f.json) {
    nlohmann::json j = {{"result", "ok"}, {"out", f.out}, {"bytes", r->bytes}, {"downloaded", nlohmann::json::array()},
                        {"present", nlohmann::json::array()}, {"missing", r->missing}};
    for (const auto& e : r->downloaded) j["downloaded"].push_back(EntryJson(e));
    for (const auto& e : r->present) j["present"].push_back(EntryJson(e));
    PrintJson(j);
    return Status::Ok();
  }
  for (const auto& e : r->downloaded) std::cout << (fs::path(f.out) / cache::PublishIndex::ShardPath(e)).string() << "\n";
  for (const auto& d : r->missing) std::cerr << "vouch: no shard for " << d << " in " << cache::http::Redact(f.url) << "\n";
  std::cerr << "vouch: " << r->downloaded.size() << " shards downloaded (" << r->bytes << " bytes), " << r->present.size()
            << " already there\n";
  return Status::Ok();
}

}  // namespace

void AddPublishCommands(CLI::App& app, Action& action) {
  auto pf = std::make_shared<PublishFlags>();
  auto* p = app.add_subcommand("publish", "Write (or update in place) a static tree of a cache's shards any web server or CDN can serve");
  p->add_option("--cache", pf->cache, "Cache repository (default: see 'vouch cache --help')");
  p->add_option("--out", pf->out, "The tree's folder (created; updated in place when it holds an earlier publish)")->required();
  p->add_flag("--prune", pf->prune, "Remove the shards the new index no longer names (default: keep them for readers of the old index)");
  p->add_flag("--json", pf->json, "Print one JSON document");
  p->footer("Writes vouch.index (last, atomically), vouch.vshards/<c1c2>/[<c3c4>/]<BUNDLE-ID>.vbundle (one shard\n"
            "per layout prefix, cut by c3c4 where a c1c2 holds over 4,096 vouchers) and, for a logged cache,\n"
            "log/checkpoint and log/tile/... (c2sp.org/tlog-tiles). Run again, it writes only the shards of\n"
            "prefixes that gained vouchers, the tiles that are new, the checkpoint and the index\n"
            "(cache/publish.md). Serve the folder as it is; give vouch.index a short cache lifetime.\n"
            "Examples:\n  vouch publish --out /srv/www/vouchers\n  vouch publish --cache mirror.git --out site/ --prune --json");
  p->callback([&action, pf] { action = [pf] { return RunPublish(*pf); }; });

  auto ff = std::make_shared<FetchFlags>();
  auto* g = app.add_subcommand("fetch", "Fill a stick with the shards of some devices from a published tree over HTTP(S)");
  g->add_option("URL", ff->url, "The published tree (http:// or https://), the folder holding vouch.index")->required();
  g->add_option("--device", ff->devices, "A device UDF (repeat)");
  g->add_option("--devices", ff->devices_file, "A file of device UDFs, one per line (or devices.csv), as cache status takes");
  g->add_option("--out", ff->out, "The stick's root: shards go to vouch.vshards/... there, as a device reads them")->required();
  g->add_flag("--json", ff->json, "Print one JSON document (a refusal too: result, code, message)");
  g->footer("Reads the index, downloads only the shards of those devices' prefixes, checks each as any bundle\n"
            "(formats/bundle.md: reader rules, its id, its prefix, every voucher's id) and renames them into\n"
            "place only when all passed: a tampered or truncated download writes nothing. A logged cache's\n"
            "shards carry their vouchers' proofs, so the stick needs nothing else. Caps: the index 16 MiB,\n"
            "each shard its declared size (1 GiB at most), 2 GiB a run; timeouts on connecting and on stalls.\n"
            "Examples:\n  vouch fetch https://vouchers.example.com/ --device MB5S-R4AJ-... --out /media/stick\n"
            "  vouch fetch http://mirror.lan/v/ --devices fleet.txt --out /media/stick --json");
  g->callback([&action, ff] { action = [ff] { return RunFetch(*ff); }; });
}

}  // namespace vouch::tools
