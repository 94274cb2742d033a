// The cache's import path in process: sources read a batch at a time, objects staged in
// memory and stored as one pack, vouchers already present counted and not written again.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "cache/cache.h"
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
    Bytes bytes = *formats::SignEnvelope(formats::EnvelopeKind::kJws, formats::EncodeVoucher(draft->voucher), pki.Manufacturer());
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
  Imported first = Import(*c, {(tmp / "src").string()}, 4);
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
