// The cache's import path in process: sources read a batch at a time, objects staged in
// memory and stored as one pack, vouchers already present counted and not written again.
#include <catch2/catch.hpp>

#include <cctype>
#include <openssl/evp.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>

#include "cache/cache.h"
#include "cache/export.h"
#include "cache/git/staging.h"
#include "cache/sources.h"
#include "formats/bundle.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"
#include "pki.h"
#include "testutil.h"

using namespace vouch;
namespace fs = std::filesystem;

namespace {

struct Issued {
  std::string path;  // layout path
  Bytes bytes;
};

std::vector<Issued> IssueMany(const test::Pki& pki, size_t n) {
  std::vector<Issued> out;
  for (size_t i = 0; i < n; ++i) {
    auto draft = DraftVoucher(pki.Request(PrivateKey::Generate()->Public(), "SN-" + std::to_string(i)));
    REQUIRE(draft.ok());
    Bytes bytes = *formats::SignEnvelope(formats::EnvelopeKind::kJws, *formats::EncodeVoucher(draft->voucher), pki.Manufacturer());
    std::string path = formats::LayoutPath({draft->voucher.enrollment->device_key,
                                            formats::VoucherId(formats::EnvelopeKind::kJws, bytes), formats::EnvelopeKind::kJws});
    out.push_back({path, std::move(bytes)});
  }
  return out;
}

void Put(const fs::path& file, ByteView bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

size_t Packs(const fs::path& cache) {
  size_t n = 0;
  for (auto& e : fs::directory_iterator(cache / "objects" / "pack")) n += e.path().extension() == ".pack";
  return n;
}

// `git fsck --strict` on a cache these tests made: the git CLI is the peer that judges.
bool Fsck(const fs::path& cache) {
  std::string cmd = "git --git-dir '" + cache.string() + "' fsck --strict >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

struct Imported {
  cache::AddReport report;
  size_t batches = 0;
  std::vector<cache::CandidateReport> unreadable;
};

Imported Import(cache::Cache& c, const std::vector<std::string>& inputs, size_t batch) {
  auto reader = cache::SourceReader::Open(inputs, batch);
  REQUIRE(reader.ok());
  Imported out;
  auto r = c.Add(
      [&](std::vector<cache::Offered>* b) -> Result<bool> {
        auto more = reader->Next(b);
        if (more.ok() && *more) {
          if (b->empty() || b->front().path.empty()) CHECK(b->size() <= batch);  // files; bundles come whole
          ++out.batches;
        }
        return more;
      },
      "test");
  REQUIRE(r.ok());
  out.report = *r;
  out.unreadable = reader->refused();
  return out;
}

}  // namespace

TEST_CASE("an import reads its sources a batch at a time and commits them once", "[cache]") {
  test::TempDir tmp;
  test::Pki pki = test::Pki::Make();
  auto vouchers = IssueMany(pki, 23);
  for (const auto& v : vouchers) Put(tmp / "src" / v.path, v.bytes);
  Put(tmp / "src" / "again" / "copy.vjj", vouchers[3].bytes);             // the same voucher twice
  Put(tmp / "src" / "junk.vjj", AsBytes(std::string_view("not a voucher")));  // refused by the check
  Put(tmp / "src" / "notes.txt", AsBytes(std::string_view("ignored")));       // not a voucher name
  fs::create_directory_symlink(tmp / "src" / "vouchers", tmp / "src" / "link");  // never followed

  auto c = cache::Cache::Init(tmp / "cache.git", {pki.mfr_root});
  REQUIRE(c.ok());
  uint64_t parses = formats::EnvelopeParses();
  Imported first = Import(*c, {(tmp / "src").string()}, 4);
  // Each envelope is parsed once, to verify it and to file it (the copy is a file of its
  // own; junk is not an envelope and is never parsed).
  CHECK(formats::EnvelopeParses() - parses == 24);
  CHECK(first.batches == 7);  // 25 voucher files, 4 at a time
  CHECK(first.report.added == 23);
  CHECK(first.report.present == 1);
  REQUIRE(first.report.refused.size() == 1);
  CHECK(first.report.refused[0].status.code() == Code::kMalformed);
  CHECK(first.unreadable.empty());
  CHECK(Packs(tmp / "cache.git") == 1);
  CHECK(c->List()->size() == 23);
  CHECK(c->Verify().ok());
  CHECK(Fsck(tmp / "cache.git"));

  SECTION("a second import finds the first's vouchers through the staging area") {
    auto more = IssueMany(pki, 5);
    for (const auto& v : more) Put(tmp / "src2" / v.path, v.bytes);
    for (size_t i = 0; i < 3; ++i) Put(tmp / "src2" / vouchers[i].path, vouchers[i].bytes);
    auto reopened = cache::Cache::Open(tmp / "cache.git");
    REQUIRE(reopened.ok());
    Imported second = Import(*reopened, {(tmp / "src2").string()}, 3);
    CHECK(second.report.added == 5);
    CHECK(second.report.present == 3);
    CHECK(Packs(tmp / "cache.git") == 2);
    auto got = reopened->Get(formats::ParseLayoutPath(more[0].path)->device_udf);
    REQUIRE(got.ok());
    REQUIRE(got->size() == 1);
    CHECK((*got)[0].bytes == more[0].bytes);
    CHECK(reopened->Verify().ok());
    CHECK(Fsck(tmp / "cache.git"));
  }
}

TEST_CASE("an import larger than a chunk is written as several packs, one commit", "[cache]") {
  test::TempDir tmp;
  test::Pki pki = test::Pki::Make();
  auto vouchers = IssueMany(pki, 23);
  for (const auto& v : vouchers) Put(tmp / "src" / v.path, v.bytes);
  Put(tmp / "src" / "again" / "copy.vjj", vouchers[3].bytes);  // the same voucher twice, in another chunk
  auto c = cache::Cache::Init(tmp / "cache.git", {pki.mfr_root});
  REQUIRE(c.ok());
  // A chunk of 16 KiB: four or so vouchers a pack, trees in packs of their own.
  std::string cmd = "git config --file '" + (tmp / "cache.git" / "vouch" / "import.config").string() + "' vouch.importChunkBytes 16384";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto reopened = cache::Cache::Open(tmp / "cache.git");
  REQUIRE(reopened.ok());
  Imported first = Import(*reopened, {(tmp / "src").string()}, 4);
  CHECK(first.report.added == 23);
  CHECK(first.report.present == 1);
  CHECK(Packs(tmp / "cache.git") >= 4);
  CHECK(reopened->List()->size() == 23);
  CHECK(reopened->Verify().ok());
  CHECK(Fsck(tmp / "cache.git"));
  for (const auto& v : vouchers) {
    auto got = reopened->Get(formats::ParseLayoutPath(v.path)->device_udf);
    REQUIRE(got.ok());
    REQUIRE(got->size() == 1);
    CHECK((*got)[0].bytes == v.bytes);
  }

  // gc of a cache over its bound merges packs in bounded groups: here at most 40 objects a
  // merge, so several packs remain, fewer than before, and nothing is lost.
  size_t before = Packs(tmp / "cache.git");
  auto repo = cache::git::Repository::Open(tmp / "cache.git");
  REQUIRE(repo.ok());
  auto objects = repo->PackedObjects();
  REQUIRE(objects.ok());
  CHECK(*objects >= 23 + 1);
  REQUIRE(repo->ConsolidatePacks(40).ok());
  CHECK(Packs(tmp / "cache.git") < before);
  CHECK(Packs(tmp / "cache.git") > 1);
  auto again = cache::Cache::Open(tmp / "cache.git");
  REQUIRE(again.ok());
  CHECK(again->Verify().ok());
  CHECK(Fsck(tmp / "cache.git"));
  CHECK(again->List()->size() == 23);

  // A cap on the bytes of packs a merge takes: a pack over half of it is left alone (here,
  // with a cap of one byte, every pack), so that what one merge writes, and maps, is bounded.
  size_t kept = Packs(tmp / "cache.git");
  REQUIRE(repo->ConsolidatePacks(1 << 30, 1).ok());
  CHECK(Packs(tmp / "cache.git") == kept);
  auto totals = repo->Packed();
  REQUIRE(totals.ok());
  CHECK(totals->objects == *repo->PackedObjects());
  CHECK(totals->bytes > 0);
  // Caps that do not bind (every pack under half of them): one pack, nothing lost.
  REQUIRE(repo->ConsolidatePacks(1 << 30, 2 * totals->bytes).ok());
  CHECK(Packs(tmp / "cache.git") == 1);
  auto merged = cache::Cache::Open(tmp / "cache.git");
  REQUIRE(merged.ok());
  CHECK(merged->Verify().ok());
  CHECK(merged->List()->size() == 23);

  // A pull's verified objects move in the same way, a pack per chunk (WritePack): no pack of
  // a large pull is built in memory at once.
  REQUIRE(std::system(("git init -q --bare '" + (tmp / "into.git").string() + "'").c_str()) == 0);
  auto into = cache::git::Repository::Open(tmp / "into.git");
  REQUIRE(into.ok());
  // The ids come from a spool on disk; an id noted twice is moved in and stored once or twice,
  // never refused.
  cache::git::IdSpool ids(tmp.path());
  for (const auto& v : vouchers) REQUIRE(ids.Add(cache::git::ObjectId::OfBlob(v.bytes)).ok());
  REQUIRE(ids.Add(cache::git::ObjectId::OfBlob(vouchers[0].bytes)).ok());
  auto written = cache::git::WritePack(*repo, ids, *into, 16384);
  REQUIRE(written.ok());
  CHECK(Packs(tmp / "into.git") >= 4);
  for (const auto& v : vouchers) CHECK(into->Has(cache::git::ObjectId::OfBlob(v.bytes)));
  CHECK(Fsck(tmp / "into.git"));
}

// The files under `dir` this process still has open or mapped though they were deleted.
// (`dir` as libgit2 records it: resolved, so a temporary directory behind a symbolic link
// still matches.) With `deleted` false: the files under `dir` open or mapped at all.
static std::vector<std::string> DeletedStillOpen(const fs::path& given, bool deleted = true) {
  const fs::path dir = fs::canonical(given);
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/self/fd", ec)) {
    std::string target = fs::read_symlink(e.path(), ec).string();
    if (!ec && target.rfind(dir.string(), 0) == 0 && (!deleted || target.find("(deleted)") != std::string::npos)) {
      out.push_back(target);
    }
  }
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    if (line.find(dir.string()) != std::string::npos && (!deleted || line.find("(deleted)") != std::string::npos)) {
      out.push_back(line);
    }
  }
  return out;
}

TEST_CASE("merges and repacks let go of the packs they replaced though the repository had read them", "[cache]") {
  test::TempDir tmp;
  fs::path git = tmp / "r.git";
  // Four packs of five blobs each, made by git itself.
  std::string make = "git init -q --bare '" + git.string() + "' && cd '" + git.string() + "' && for p in 1 2 3 4; do " +
                     "for b in 1 2 3 4 5; do echo \"blob $p $b\" | git hash-object -w --stdin; done > ../ids$p && " +
                     "git pack-objects -q objects/pack/pack < ../ids$p > /dev/null && git prune-packed; done";
  REQUIRE(std::system(make.c_str()) == 0);
  REQUIRE(Packs(git) == 4);
  auto repo = cache::git::Repository::Open(git);
  REQUIRE(repo.ok());
  // Read every blob through the repository's own database: every pack is open in it.
  for (int p = 1; p <= 4; ++p) {
    std::ifstream ids(tmp / ("ids" + std::to_string(p)));
    for (std::string hex; std::getline(ids, hex);) {
      auto id = cache::git::ObjectId::FromHex(hex);
      REQUIRE(id.ok());
      REQUIRE(repo->ReadBlob(*id, 1024).ok());
    }
  }
  // The detector sees them (else the check below would pass whatever the merge did).
  REQUIRE(!DeletedStillOpen(git / "objects" / "pack", /*deleted=*/false).empty());
  REQUIRE(repo->ConsolidatePacks(1 << 20).ok());
  CHECK(Packs(git) == 1);
  // The merged packs are gone from the disk and from the process: the merge read them
  // through a database of their own, and the repository's let them go (before the fix, its
  // database kept all four open and mapped, and their caches in memory, until it was freed).
  CHECK(DeletedStillOpen(git / "objects" / "pack").empty());
  // ... and it reads on, from the merged pack.
  std::ifstream ids(tmp / "ids3");
  std::string hex;
  REQUIRE(std::getline(ids, hex));
  auto blob = repo->ReadBlob(*cache::git::ObjectId::FromHex(hex), 1024);
  REQUIRE(blob.ok());
  CHECK(std::string(blob->begin(), blob->end()) == "blob 3 1\n");

  // A repack (a small cache's gc) lets go of the pack it replaced in the same way.
  std::string commit = "cd '" + git.string() + "' && for b in $(cat ../ids1 ../ids2 ../ids3 ../ids4); do " +
                       "printf '100644 blob %s\\t%s\\n' $b $b; done | git mktree > ../tree && " +
                       "git update-ref refs/heads/vouchers $(git -c user.name=t -c user.email=t@t commit-tree -m x $(cat ../tree) < /dev/null)";
  REQUIRE(std::system(commit.c_str()) == 0);
  auto tip = repo->Resolve("refs/heads/vouchers");
  REQUIRE(tip.ok());
  REQUIRE(tip->has_value());
  REQUIRE(repo->ReadBlob(*cache::git::ObjectId::FromHex(hex), 1024).ok());
  REQUIRE(!DeletedStillOpen(git / "objects" / "pack", /*deleted=*/false).empty());
  REQUIRE(repo->Repack(**tip, "refs/vouch/").ok());
  CHECK(Packs(git) == 1);
  CHECK(DeletedStillOpen(git / "objects" / "pack").empty());
  CHECK(repo->ReadBlob(*cache::git::ObjectId::FromHex(hex), 1024).ok());
}

TEST_CASE("a pull's object ids spill to disk past a block and read back in order", "[cache]") {
  test::TempDir tmp;
  cache::git::IdSpool spool(tmp.path());
  auto id = [](uint32_t i) {
    uint8_t raw[cache::git::ObjectId::kSize] = {};
    std::memcpy(raw, &i, sizeof i);
    return cache::git::ObjectId(raw);
  };
  const uint32_t n = 2 * cache::git::IdSpool::kBlock + 17;  // two blocks on disk, a part in memory
  for (uint32_t i = 0; i < n; ++i) REQUIRE(spool.Add(id(i)).ok());
  CHECK(spool.size() == n);
  auto read_all = [&] {
    std::vector<cache::git::ObjectId> got;
    size_t largest = 0;
    REQUIRE(spool.ForEach([&](std::span<const cache::git::ObjectId> block) {
      largest = std::max(largest, block.size());
      got.insert(got.end(), block.begin(), block.end());
      return Status::Ok();
    }).ok());
    CHECK(largest <= cache::git::IdSpool::kBlock);
    return got;
  };
  auto got = read_all();
  REQUIRE(got.size() == n);
  for (uint32_t i = 0; i < n; ++i) CHECK(got[i] == id(i));
  // Added to after a read: appended, and read again from the start.
  for (uint32_t i = n; i < n + cache::git::IdSpool::kBlock; ++i) REQUIRE(spool.Add(id(i)).ok());
  got = read_all();
  REQUIRE(got.size() == n + cache::git::IdSpool::kBlock);
  CHECK(got.back() == id(n + cache::git::IdSpool::kBlock - 1));
  CHECK(got[n] == id(n));
  // The first error of the callback ends the walk and is returned.
  size_t calls = 0;
  Status s = spool.ForEach([&](std::span<const cache::git::ObjectId>) {
    ++calls;
    return Error(Code::kIo, "stop");
  });
  CHECK(s.code() == Code::kIo);
  CHECK(calls == 1);
  // Nothing is left in the folder: the spill file has no name.
  CHECK(std::distance(std::filesystem::directory_iterator(tmp.path()), std::filesystem::directory_iterator()) == 0);
}

TEST_CASE("a voucher whose device key is spelled otherwise is filed at, and verified at, its canonical path", "[cache]") {
  test::TempDir tmp;
  test::Pki pki = test::Pki::Make();
  auto draft = DraftVoucher(pki.Request(PrivateKey::Generate()->Public(), "SN-1"));
  REQUIRE(draft.ok());
  std::string& key = draft->voucher.enrollment->device_key;
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto env = formats::SignVoucher(draft->voucher, formats::EnvelopeKind::kJws, pki.Manufacturer());
  REQUIRE(env.ok());
  Put(tmp / "loose" / "v.vjj", env->bytes);
  auto c = cache::Cache::Init(tmp / "cache.git", {pki.mfr_root});
  REQUIRE(c.ok());
  Imported loose = Import(*c, {(tmp / "loose").string()}, 4);
  CHECK(loose.report.added == 1);
  CHECK(loose.report.refused.empty());
  // Its history names the canonical path; verifying it checks the voucher filed there.
  CHECK(c->Verify().ok());
  auto paths = c->List();
  REQUIRE(paths.ok());
  REQUIRE(paths->size() == 1);
  CHECK(formats::ParseLayoutPath((*paths)[0]).ok());
}

TEST_CASE("an import refuses directories nested deeper than any layout", "[cache]") {
  test::TempDir tmp;
  test::Pki pki = test::Pki::Make();
  auto v = IssueMany(pki, 1);
  fs::path deep = tmp / "src";
  for (int i = 0; i < 70; ++i) deep /= "d";
  Put(deep / "x.vjj", v[0].bytes);
  Put(tmp / "src" / v[0].path, v[0].bytes);
  auto reader = cache::SourceReader::Open({(tmp / "src").string()});
  REQUIRE(reader.ok());
  std::vector<cache::Offered> batch;
  REQUIRE(*reader->Next(&batch));
  CHECK(batch.size() == 1);
  CHECK_FALSE(*reader->Next(&batch));
  REQUIRE(reader->refused().size() == 1);
  CHECK(reader->refused()[0].status.code() == Code::kTooLarge);
}

TEST_CASE("a missing source is an error before anything is read", "[cache]") {
  test::TempDir tmp;
  auto reader = cache::SourceReader::Open({(tmp / "nothing-here").string()});
  REQUIRE_FALSE(reader.ok());
  CHECK(reader.status().code() == Code::kNotFound);
}

TEST_CASE("a shard set is imported a group of bundles at a time", "[cache]") {
  test::TempDir tmp;
  test::Pki pki = test::Pki::Make();
  auto vouchers = IssueMany(pki, 30);
  std::vector<formats::PackedVoucher> packed;
  for (const auto& v : vouchers) packed.push_back({v.path, v.bytes});
  auto shards = formats::WriteBundles(tmp / "stick", packed, /*shard_threshold=*/4);
  REQUIRE(shards.ok());
  REQUIRE(shards->size() > 4);
  Put(tmp / "stick" / "bad.vbundle", AsBytes(std::string_view("PK not really")));
  auto c = cache::Cache::Init(tmp / "cache.git", {pki.mfr_root});
  REQUIRE(c.ok());
  Imported in = Import(*c, {(tmp / "stick").string()}, 10);
  CHECK(in.report.added == 30);
  CHECK(in.report.refused.empty());
  REQUIRE(in.unreadable.size() == 1);  // the broken bundle, refused whole
  CHECK(in.batches < shards->size());  // several bundles to a batch
  CHECK(Packs(tmp / "cache.git") == 1);
  CHECK(Fsck(tmp / "cache.git"));

  // `bundle create --from` reads voucher files only: bundles found below are left alone.
  auto files_only = cache::SourceReader::Open({(tmp / "stick").string()}, 10, cache::SourceReader::Bundles::kSkip);
  REQUIRE(files_only.ok());
  std::vector<cache::Offered> batch;
  CHECK_FALSE(*files_only->Next(&batch));
  CHECK(files_only->refused().empty());
}

namespace {

// Everything a refused pull must leave as it was: refs, packs, loose objects, vouch/.
std::string Snapshot(const fs::path& cache) {
  std::vector<std::string> names;
  for (auto& e : fs::recursive_directory_iterator(cache)) {
    if (e.path().filename() == "FETCH_HEAD") continue;
    names.push_back(fs::relative(e.path(), cache).string());
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += n + "\n";
  auto c = cache::Cache::Open(cache);
  if (c.ok() && c->Tip().ok() && *c->Tip()) out += **c->Tip();
  return out;
}

}  // namespace

TEST_CASE("a pull is bounded: commits, commit and tree sizes, and nothing of a refused pull stays", "[cache]") {
  test::TempDir tmp;
  test::Pki pki = test::Pki::Make();
  auto vouchers = IssueMany(pki, 6);
  auto a = cache::Cache::Init(tmp / "a.git", {pki.mfr_root});
  REQUIRE(a.ok());
  for (size_t i = 0; i < vouchers.size(); ++i) {  // six commits
    Put(tmp / ("src" + std::to_string(i)) / vouchers[i].path, vouchers[i].bytes);
    Import(*a, {(tmp / ("src" + std::to_string(i))).string()}, 8);
  }
  auto b = cache::Cache::Init(tmp / "b.git", {pki.mfr_root});
  REQUIRE(b.ok());
  std::string before = Snapshot(tmp / "b.git");
  std::string remote = (tmp / "a.git").string();

  cache::HistoryLimits limits;
  limits.max_commits = 5;
  auto r = b->Pull(remote, limits);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kTooLarge);
  CHECK_THAT(r.status().message(), Catch::Contains("pull from " + remote) && Catch::Contains("over 5 new commits"));
  CHECK(Snapshot(tmp / "b.git") == before);

  limits = {};
  limits.max_commit = 100;  // each commit is some 200 bytes
  r = b->Pull(remote, limits);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kTooLarge);
  CHECK_THAT(r.status().message(), Catch::Contains("over the cap of 100"));
  CHECK(Snapshot(tmp / "b.git") == before);

  limits = {};
  limits.max_tree = 20;  // the root tree alone is 36 bytes
  r = b->Pull(remote, limits);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kTooLarge);
  CHECK_THAT(r.status().message(), Catch::Contains("tree") && Catch::Contains("over the cap of 20"));
  CHECK(Snapshot(tmp / "b.git") == before);

  limits = {};
  limits.max_commits = 6;
  r = b->Pull(remote, limits);
  REQUIRE(r.ok());
  CHECK(r->new_commits == 6);
  CHECK(r->new_vouchers == 6);
  CHECK(r->received_bytes > 0);
  CHECK(Packs(tmp / "b.git") == 1);  // the verified objects, as one pack
  CHECK(*b->Tip() == *a->Tip());
  CHECK(b->Verify().ok());
  CHECK(Fsck(tmp / "b.git"));
  for (auto& e : fs::directory_iterator(tmp / "b.git" / "vouch")) CHECK(e.path().filename().string().rfind("pull-", 0) != 0);

  // Pulled again: nothing new is verified or written; a quarantine a killed pull left (its
  // lock free, older than a minute) is removed.
  fs::path stale = tmp / "b.git" / "vouch" / "pull-killed";
  Put(stale / "git" / "objects" / "pack" / "pack-1.pack", AsBytes(std::string_view("half a pack")));
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::minutes(5));
  r = b->Pull(remote, limits);
  CHECK_FALSE(fs::exists(stale));
  REQUIRE(r.ok());
  CHECK(r->kind == cache::Cache::PullReport::Kind::kUpToDate);
  CHECK(r->new_commits == 0);
  CHECK(Packs(tmp / "b.git") == 1);
}

namespace {

// Entry types in git's pack format.
constexpr int kPackBlob = 3;
constexpr int kPackOfsDelta = 6;

// A pack written by hand: what git never makes, but a hostile remote can.
struct PackWriter {
  Bytes data;
  std::vector<std::pair<std::array<uint8_t, 20>, std::pair<uint64_t, uint32_t>>> entries;  // id, offset, crc

  PackWriter() {
    Append(AsBytes(std::string_view("PACK")));
    Be32(2);
    Be32(0);  // the count, set by Finish
  }
  void Append(ByteView b) { data.insert(data.end(), b.begin(), b.end()); }
  void Be32(uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) data.push_back(static_cast<uint8_t>(v >> s));
  }
  // The object header, then `size` bytes from `fill` (called for pieces), deflated.
  void Entry(const std::array<uint8_t, 20>& id, int type, uint64_t size, const Bytes& prefix,
             const std::function<void(std::vector<uint8_t>*)>& more, uint64_t raw_size) {
    uint64_t start = data.size();
    uint8_t b = static_cast<uint8_t>((type << 4) | (size & 15));
    size >>= 4;
    while (size) {
      data.push_back(b | 0x80);
      b = size & 0x7f;
      size >>= 7;
    }
    data.push_back(b);
    Append(prefix);
    z_stream z{};
    REQUIRE(deflateInit(&z, Z_BEST_SPEED) == Z_OK);
    std::vector<uint8_t> in, out(1 << 16);
    uint64_t fed = 0;
    for (;;) {
      in.clear();
      if (fed < raw_size) more(&in);
      fed += in.size();
      z.next_in = in.data();
      z.avail_in = static_cast<uInt>(in.size());
      int flush = fed >= raw_size ? Z_FINISH : Z_NO_FLUSH;
      int rc;
      do {
        z.next_out = out.data();
        z.avail_out = static_cast<uInt>(out.size());
        rc = deflate(&z, flush);
        data.insert(data.end(), out.begin(), out.end() - z.avail_out);
      } while (z.avail_out == 0);
      if (rc == Z_STREAM_END) break;
    }
    deflateEnd(&z);
    uint32_t crc = static_cast<uint32_t>(crc32(0, data.data() + start, static_cast<uInt>(data.size() - start)));
    entries.push_back({id, {start, crc}});
  }
  static std::array<uint8_t, 20> Sha1(ByteView b) {
    std::array<uint8_t, 20> out{};
    unsigned n = 0;
    EVP_Digest(b.data(), b.size(), out.data(), &n, EVP_sha1(), nullptr);
    return out;
  }
  // Writes NAME.pack and NAME.idx (version 2) into `dir`.
  void Finish(const fs::path& dir) {
    uint32_t n = static_cast<uint32_t>(entries.size());
    for (int i = 0; i < 4; ++i) data[8 + i] = static_cast<uint8_t>(n >> (24 - 8 * i));
    auto pack_sum = Sha1(data);
    Append(ByteView(pack_sum.data(), pack_sum.size()));
    std::sort(entries.begin(), entries.end());
    Bytes idx;
    auto be32 = [&](uint32_t v) {
      for (int s = 24; s >= 0; s -= 8) idx.push_back(static_cast<uint8_t>(v >> s));
    };
    idx.insert(idx.end(), {0xff, 't', 'O', 'c'});
    be32(2);
    for (int b = 0; b < 256; ++b) {
      uint32_t count = 0;
      for (const auto& e : entries) count += e.first[0] <= b;
      be32(count);
    }
    for (const auto& e : entries) idx.insert(idx.end(), e.first.begin(), e.first.end());
    for (const auto& e : entries) be32(e.second.second);
    for (const auto& e : entries) be32(static_cast<uint32_t>(e.second.first));
    idx.insert(idx.end(), pack_sum.begin(), pack_sum.end());
    auto idx_sum = Sha1(idx);
    idx.insert(idx.end(), idx_sum.begin(), idx_sum.end());
    char hex[41];
    for (int i = 0; i < 20; ++i) std::snprintf(hex + 2 * i, 3, "%02x", pack_sum[i]);
    Put(dir / ("pack-" + std::string(hex) + ".pack"), data);
    Put(dir / ("pack-" + std::string(hex) + ".idx"), idx);
  }
};

long PeakKib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace

TEST_CASE("a local remote's voucher stored as a delta on a 256 MiB blob is refused from headers", "[cache]") {
  test::TempDir tmp;
  test::Pki pki = test::Pki::Make();
  auto vouchers = IssueMany(pki, 2);
  auto a = cache::Cache::Init(tmp / "a.git", {pki.mfr_root});
  REQUIRE(a.ok());
  Put(tmp / "src0" / vouchers[0].path, vouchers[0].bytes);
  Import(*a, {(tmp / "src0").string()}, 8);
  // A second commit adds the other voucher, whose blob is only in a pack of two: a 256 MiB
  // blob of zeros, and the voucher as a delta on it (nothing but inserts: the base is never
  // needed, but libgit2 inflates it first).
  const Bytes& v = vouchers[1].bytes;
  const cache::git::ObjectId vid = cache::git::ObjectId::OfBlob(v);
  const std::string branch(cache::kBranch);
  std::string cmd = "cd '" + (tmp / "a.git").string() + "' && export GIT_INDEX_FILE=idx && git read-tree " + branch + " && " +
                    "printf '100644 " + vid.Hex() + "\\t" + vouchers[1].path + "\\n' | git update-index --index-info && " +
                    "t=$(git write-tree --missing-ok) && git update-ref " + branch + " " +
                    "$(git commit-tree $t -p " + branch + " -m crafted) && rm idx";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::array<uint8_t, 20> vraw = vid.bytes(), zeros_id{};
  zeros_id.fill(0xee);  // nothing asks for the base by id
  const uint64_t big = 256ull << 20;
  PackWriter pw;
  pw.Entry(zeros_id, kPackBlob, big, {}, [](std::vector<uint8_t>* in) { in->assign(1 << 16, 0); }, big);
  uint64_t base_at = pw.entries.back().second.first, at = pw.data.size();
  Bytes delta;
  for (uint64_t x : {big, uint64_t{v.size()}}) {
    do {
      delta.push_back(static_cast<uint8_t>((x & 0x7f) | (x > 0x7f ? 0x80 : 0)));
      x >>= 7;
    } while (x);
  }
  for (size_t i = 0; i < v.size(); i += 127) {
    size_t k = std::min<size_t>(127, v.size() - i);
    delta.push_back(static_cast<uint8_t>(k));
    delta.insert(delta.end(), v.begin() + static_cast<std::ptrdiff_t>(i), v.begin() + static_cast<std::ptrdiff_t>(i + k));
  }
  uint64_t ofs = at - base_at;  // git's offset encoding
  Bytes ofs_bytes{static_cast<uint8_t>(ofs & 0x7f)};
  while (ofs >>= 7) ofs_bytes.insert(ofs_bytes.begin(), static_cast<uint8_t>(0x80 | (--ofs & 0x7f)));
  pw.Entry(vraw, kPackOfsDelta, delta.size(), ofs_bytes, [&](std::vector<uint8_t>* in) { *in = delta; }, delta.size());
  pw.Finish(tmp / "a.git" / "objects" / "pack");
  std::string check = "git --git-dir '" + (tmp / "a.git").string() + "' cat-file -e " + vid.Hex();
  REQUIRE(std::system(check.c_str()) == 0);  // git reads the crafted pack

  auto b = cache::Cache::Init(tmp / "b.git", {pki.mfr_root});
  REQUIRE(b.ok());
  std::string before = Snapshot(tmp / "b.git");
  long peak = PeakKib();
  auto r = b->Pull((tmp / "a.git").string());
  long grew = PeakKib() - peak;
  INFO("grew " << grew << " KiB; " << (r.ok() ? "pulled " + std::to_string(r->new_vouchers) + " " + r->tip : r.status().message()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kTooLarge);
  CHECK_THAT(r.status().message(), Catch::Contains("rests on a delta base of 268435456 bytes"));
  CHECK(grew < 64 * 1024);  // KiB: nothing of the 256 MiB was inflated
  CHECK(Snapshot(tmp / "b.git") == before);
}

TEST_CASE("a network remote that stops sending ends the pull after the idle timeout", "[cache]") {
  test::TempDir tmp;
  // A server on 127.0.0.1 that takes the connection and never answers.
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(server >= 0);
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(server, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(server, reinterpret_cast<struct sockaddr*>(&addr), &len) == 0);
  REQUIRE(::listen(server, 4) == 0);
  auto c = cache::Cache::Init(tmp / "c.git", {});
  REQUIRE(c.ok());
  std::string before = Snapshot(tmp / "c.git");
  cache::HistoryLimits limits;
  limits.idle_seconds = 1;
  std::string url = "git://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/silent.git";
  auto start = std::chrono::steady_clock::now();
  auto r = c->Pull(url, limits);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(server);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kIo);
  CHECK_THAT(r.status().message(), Catch::Contains("pull from " + url) && Catch::Contains("sent nothing for 1 s"));
  CHECK(seconds < 10);
  CHECK(Snapshot(tmp / "c.git") == before);
}

// A sharded export reads its shards one after another; an import between two of them must
// not reach the later ones (they were counted before it, and the bundles are recorded
// against the commit the export began at).
TEST_CASE("an export reads every shard from one commit while imports move the branch", "[cache]") {
  test::TempDir tmp;
  test::Pki pki = test::Pki::Make();
  // Two vouchers for each of 8 devices: the second ones land in the directories of the first.
  for (int i = 0; i < 8; ++i) {
    auto device = PrivateKey::Generate()->Public();
    for (const char* set : {"first", "again"}) {
      auto draft = DraftVoucher(pki.Request(device, "SN-" + std::to_string(i)));
      REQUIRE(draft.ok());
      Bytes bytes = *formats::SignEnvelope(formats::EnvelopeKind::kJws, *formats::EncodeVoucher(draft->voucher), pki.Manufacturer());
      Put(tmp / set / formats::LayoutPath({draft->voucher.enrollment->device_key,
                                           formats::VoucherId(formats::EnvelopeKind::kJws, bytes), formats::EnvelopeKind::kJws}),
          bytes);
    }
  }
  auto c = cache::Cache::Init(tmp / "cache.git", {pki.mfr_root});
  REQUIRE(c.ok());
  REQUIRE(Import(*c, {(tmp / "first").string()}, 8).report.added == 8);
  auto began = c->Tip();
  REQUIRE((began.ok() && *began));

  cache::ExportRequest request;
  request.out = tmp / "stick";
  request.shard_threshold = 1;  // sharded: a shard per c1c2
  size_t shards = 0;
  request.on_shard = [&](const formats::WrittenBundle&) {
    if (shards++ == 0) REQUIRE(Import(*c, {(tmp / "again").string()}, 8).report.added == 8);
  };
  auto written = cache::ExportCache(*c, "", request);
  REQUIRE(written.ok());
  REQUIRE(written->size() > 1);
  size_t count = 0;
  for (const auto& b : *written) count += b.count;
  CHECK(count == 8);  // the first eight: none of those the import added meanwhile
  // Recorded against the commit it read: an export since any of its bundles is the eight added.
  auto next = c->Export(written->back().id);
  REQUIRE(next.ok());
  CHECK(next->size() == 8);
  CHECK(*c->Tip() != *began);

  // The same, through the API: a commit named, whatever the tip holds now.
  auto c1c2s = c->Prefixes("", **began);
  REQUIRE(c1c2s.ok());
  size_t counted = 0;
  for (const auto& p : *c1c2s) {
    auto n = c->ExportCount("", p, **began);
    auto vs = c->Export("", p, **began);
    REQUIRE((n.ok() && vs.ok()));
    CHECK(*n == vs->size());
    counted += *n;
  }
  CHECK(counted == 8);
  CHECK_FALSE(c->Export("", "", "0123").ok());  // not a commit id
}

// `bundle create --cache` writes a sharded export a shard at a time (it never holds more
// than one shard's vouchers), and must cut exactly as formats::WriteBundles cuts the same
// vouchers held at once: the same shards, byte for byte, so the same bundle ids.
TEST_CASE("a cache's sharded export is the shards WriteBundles cuts", "[cache]") {
  test::TempDir tmp;
  test::Pki pki = test::Pki::Make();
  auto vouchers = IssueMany(pki, 24);
  std::vector<formats::PackedVoucher> packed;
  for (const auto& v : vouchers) {
    packed.push_back({v.path, v.bytes});
    Put(tmp / "src" / v.path, v.bytes);
  }
  auto c = cache::Cache::Init(tmp / "cache.git", {pki.mfr_root});
  REQUIRE(c.ok());
  REQUIRE(Import(*c, {(tmp / "src").string()}, 8).report.added == 24);
  // deep 0: every c1c2 cut by its c3c4s; 1: those holding two or more; the default: none.
  for (size_t deep : {size_t{0}, size_t{1}, formats::kShardThreshold}) {
    INFO("deep shard threshold " << deep);
    fs::path ours = tmp / ("ours-" + std::to_string(deep)), theirs = tmp / ("theirs-" + std::to_string(deep));
    cache::ExportRequest request;
    request.out = ours;
    request.shard_threshold = 4;
    request.deep_shard_threshold = deep;
    auto written = cache::ExportCache(*c, "", request);
    REQUIRE(written.ok());
    auto expected = formats::WriteBundles(theirs, packed, 4, deep);
    REQUIRE(expected.ok());
    std::set<std::string> got, want;
    for (const auto& b : *written) got.insert(fs::relative(b.path, ours).string());
    for (const auto& b : *expected) want.insert(fs::relative(b.path, theirs).string());
    CHECK(got == want);
    size_t count = 0;
    for (const auto& b : *written) count += b.count;
    CHECK(count == 24);
  }
}
