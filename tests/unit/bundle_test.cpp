#include <catch2/catch.hpp>

#include <map>
#include <sys/stat.h>
#include <zip.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "formats/bundle.h"
#include "formats/layout.h"
#include "libvoucher/encoding.h"
#include "libvoucher/file.h"
#include "testutil.h"

using namespace vouch;
using namespace vouch::formats;
namespace fs = std::filesystem;

namespace {

// Vouchers for bundle tests: any bytes will do, filed under real device UDFs and their ids.
std::vector<PackedVoucher> Vouchers(int n) {
  std::vector<PackedVoucher> out;
  for (int i = 0; i < n; ++i) {
    std::string dev = PrivateKey::Generate()->Public().Fingerprint();
    Bytes bytes = ToBytes("{\"voucher\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'x') + "\"}");
    out.push_back({LayoutPath({dev, VoucherId(EnvelopeKind::kJws, bytes), EnvelopeKind::kJws}), bytes});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.path < b.path; });
  return out;
}

Bytes ManifestOf(const std::vector<PackedVoucher>& vs) {
  formats::Manifest m;
  m.created_on = "2026-11-27T10:00:00Z";
  for (const auto& v : vs) m.entries.push_back({v.path, v.bytes.size(), ParseLayoutPath(v.path)->voucher_id});
  return EncodeManifest(m);
}

struct RawEntry {
  std::string name;
  Bytes data;
  bool deflate = false, encrypt = false, symlink = false, directory = false;
};

// Builds a ZIP with libzip directly, with none of the bundle writer's care.
void MakeZip(const fs::path& path, const std::vector<RawEntry>& entries) {
  int err = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  REQUIRE(za);
  for (const auto& e : entries) {
    zip_int64_t i;
    if (e.directory) {
      i = zip_dir_add(za, e.name.c_str(), 0);
    } else {
      zip_source_t* s = zip_source_buffer(za, e.data.data(), e.data.size(), 0);
      i = zip_file_add(za, e.name.c_str(), s, ZIP_FL_OVERWRITE);
    }
    REQUIRE(i >= 0);
    auto idx = static_cast<zip_uint64_t>(i);
    zip_set_file_compression(za, idx, e.deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
    if (e.encrypt) REQUIRE(zip_file_set_encryption(za, idx, ZIP_EM_AES_128, "secret") == 0);
    if (e.symlink) zip_file_set_external_attributes(za, idx, 0, ZIP_OPSYS_UNIX, (S_IFLNK | 0777u) << 16);
  }
  REQUIRE(zip_close(za) == 0);
}

Bytes Read(const fs::path& p) { return *ReadFile(p, 1u << 30); }
void Write(const fs::path& p, const Bytes& b) { REQUIRE(WriteFileAtomic(p, b).ok()); }

// Replaces every occurrence of `from` with `to` (same length) in a file's bytes.
void Patch(const fs::path& p, const std::string& from, const std::string& to) {
  REQUIRE(from.size() == to.size());
  Bytes b = Read(p);
  size_t n = 0;
  for (auto it = b.begin(); (it = std::search(it, b.end(), from.begin(), from.end())) != b.end(); ++n) {
    std::copy(to.begin(), to.end(), it);
  }
  REQUIRE(n > 0);
  Write(p, b);
}

void PutLe32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// Offsets of the local (PK\3\4) and central (PK\1\2) headers naming `name`; the manifest,
// which is stored, also contains the names, so occurrences are checked for a header before them.
std::pair<size_t, size_t> Headers(const Bytes& b, const std::string& name) {
  size_t local = 0, central = 0;
  for (auto it = b.begin(); (it = std::search(it, b.end(), name.begin(), name.end())) != b.end(); ++it) {
    size_t at = static_cast<size_t>(it - b.begin());
    if (at >= 30 && b[at - 30] == 'P' && b[at - 29] == 'K' && b[at - 28] == 3 && b[at - 27] == 4) local = at - 30;
    if (at >= 46 && b[at - 46] == 'P' && b[at - 45] == 'K' && b[at - 44] == 1 && b[at - 43] == 2) central = at - 46;
  }
  REQUIRE(local > 0);
  REQUIRE(central > 0);
  return {local, central};
}

// With VOUCH_DUMP_HOSTILE=DIR set, every archive a test opens is also copied there: that is
// how fuzz/corpus/bundle got its hostile seeds.
void Dump(const fs::path& p) {
  const char* dir = std::getenv("VOUCH_DUMP_HOSTILE");
  if (!dir) return;
  static int n = 0;
  std::error_code ec;
  fs::copy_file(p, fs::path(dir) / ("hostile-" + std::to_string(++n)), fs::copy_options::overwrite_existing, ec);
}

Code OpenCode(const fs::path& p, const BundleLimits& limits = {}) {
  Dump(p);
  auto b = Bundle::Open(p, limits);
  if (!b.ok()) return b.status().code();
  return b->ReadAll().status().code();
}

fs::path GoodBundle(const fs::path& dir, int n = 3) {
  auto written = WriteBundles(dir, Vouchers(n));
  REQUIRE(written.ok());
  REQUIRE(written->size() == 1);
  return written->at(0).path;
}

}  // namespace

TEST_CASE("a bundle is named by its id, holds the manifest first, and reads back", "[bundle]") {
  test::TempDir tmp;
  auto vs = Vouchers(5);
  auto written = WriteBundles(tmp.path(), vs);
  REQUIRE(written.ok());
  const auto& w = written->at(0);
  CHECK(w.path.filename().string() == w.id + ".vbundle");
  auto b = Bundle::Open(w.path);
  REQUIRE(b.ok());
  CHECK(b->id() == w.id);
  CHECK(b->manifest().entries.size() == 5);
  auto all = b->ReadAll();
  REQUIRE(all.ok());
  for (size_t i = 0; i < vs.size(); ++i) CHECK((*all)[i].bytes == vs[i].bytes);
  // Reading one device's vouchers reads only those.
  std::string dev = ParseLayoutPath(vs[2].path)->device_udf;
  auto mine = b->ReadDevice(dev);
  REQUIRE(mine.ok());
  REQUIRE(mine->size() == 1);
  CHECK((*mine)[0].path == vs[2].path);
  CHECK(b->ReadDevice(PrivateKey::Generate()->Public().Fingerprint())->empty());
}

TEST_CASE("writing is deterministic: same vouchers, same bytes, same id", "[bundle]") {
  test::TempDir a, b;
  auto vs = Vouchers(4);
  auto reversed = vs;
  std::reverse(reversed.begin(), reversed.end());
  auto wa = WriteBundles(a.path(), vs);
  auto wb = WriteBundles(b.path(), reversed);
  REQUIRE((wa.ok() && wb.ok()));
  CHECK(wa->at(0).id == wb->at(0).id);
  CHECK(Read(wa->at(0).path) == Read(wb->at(0).path));
}

TEST_CASE("large exports are cut into shards by UDF prefix", "[bundle]") {
  test::TempDir tmp;
  auto vs = Vouchers(40);
  for (size_t deep : {size_t{1000}, size_t{0}}) {  // no shard cut deeper; every one
    test::TempDir out;
    auto written = WriteBundles(out.path(), vs, /*shard_threshold=*/10, deep);
    REQUIRE(written.ok());
    CHECK(written->size() > 1);
    size_t total = 0;
    for (const auto& w : *written) {
      // vouch.vshards/B5/X.vbundle or vouch.vshards/B5/SR/X.vbundle: the shard's prefix.
      std::string rel = fs::relative(w.path.parent_path(), out.path() / std::string(kShardDirectory)).string();
      CHECK(rel.size() == (deep == 0 ? 5u : 2u));
      auto b = Bundle::Open(w.path);
      REQUIRE(b.ok());
      for (const auto& e : b->manifest().entries) CHECK(e.path.substr(9, rel.size()) == rel);
      total += b->manifest().entries.size();
    }
    CHECK(total == 40);
  }
}

TEST_CASE("only the shards that would be too big are cut deeper", "[bundle]") {
  auto vs = Vouchers(300);  // about 2.3 per c1c2 prefix, some far more
  std::map<std::string, size_t> per_c1c2;
  for (const auto& v : vs) ++per_c1c2[v.path.substr(9, 2)];
  test::TempDir out;
  auto written = WriteBundles(out.path(), vs, /*shard_threshold=*/10, /*deep_shard_threshold=*/3);
  REQUIRE(written.ok());
  size_t deep = 0, shallow = 0, total = 0;
  for (const auto& w : *written) {
    std::string rel = fs::relative(w.path.parent_path(), out.path() / std::string(kShardDirectory)).string();
    // A c1c2 group is cut exactly when it holds more than the deep threshold.
    CHECK((rel.size() == 5) == (per_c1c2.at(rel.substr(0, 2)) > 3));
    (rel.size() == 5 ? deep : shallow) += 1;
    total += w.count;
  }
  CHECK(deep > 0);
  CHECK(shallow > 0);
  CHECK(total == 300);
}

TEST_CASE("hostile bundles are refused, each with its own code", "[bundle][hostile]") {
  test::TempDir tmp;
  auto vs = Vouchers(2);
  Bytes manifest = ManifestOf(vs);
  fs::path p = tmp / "hostile.zip";
  auto entries = [&](std::vector<RawEntry> extra) {
    std::vector<RawEntry> e{{std::string(kManifestName), manifest}};
    for (const auto& v : vs) e.push_back({v.path, v.bytes});
    e.insert(e.end(), extra.begin(), extra.end());
    return e;
  };

  SECTION("a well-formed archive of the same entries opens") {
    MakeZip(p, entries({}));
    CHECK(OpenCode(p) == Code::kOk);
  }
  SECTION("'../' names") {
    MakeZip(p, entries({{"../../etc/evil", ToBytes("x")}}));
    CHECK(OpenCode(p) == Code::kUnsafePath);
  }
  SECTION("absolute names") {
    MakeZip(p, entries({{"/etc/evil", ToBytes("x")}}));
    CHECK(OpenCode(p) == Code::kUnsafePath);
  }
  SECTION("names outside the layout") {
    MakeZip(p, entries({{"vouchers/readme.txt", ToBytes("x")}}));
    CHECK(OpenCode(p) == Code::kUnsafePath);
  }
  SECTION("duplicate names") {
    // Two entries whose names differ in one character, then made equal in every header.
    std::string a = vs[0].path, b = a;
    b[b.size() - 5] = b[b.size() - 5] == 'A' ? 'B' : 'A';
    MakeZip(p, {{std::string(kManifestName), manifest}, {a, vs[0].bytes}, {b, vs[0].bytes}});
    Patch(p, b, a);
    CHECK(OpenCode(p) == Code::kDuplicateEntry);
  }
  SECTION("a directory entry") {
    MakeZip(p, entries({{"vouchers/", {}, false, false, false, true}}));
    CHECK(OpenCode(p) == Code::kDirectoryEntry);
  }
  SECTION("a symlink entry") {
    MakeZip(p, entries({{vs[0].path + ".lnk", ToBytes("/etc/passwd"), false, false, true}}));
    CHECK(OpenCode(p) == Code::kSymlinkEntry);
  }
  SECTION("an encrypted entry") {
    auto e = entries({});
    e[1].encrypt = true;
    MakeZip(p, e);
    CHECK(OpenCode(p) == Code::kEncrypted);
  }
  SECTION("overlapping entries (the 'better zip bomb' construction)") {
    // Stored entry 1's sizes are stretched over entry 2's local header and data, so entry 2
    // lies inside entry 1: the central directory points into another entry's data.
    MakeZip(p, entries({}));
    Bytes b = Read(p);
    uint32_t stretched = static_cast<uint32_t>(vs[0].bytes.size() + 30 + vs[1].path.size() + vs[1].bytes.size());
    auto [local1, central1] = Headers(b, vs[0].path);
    PutLe32(b, local1 + 18, stretched);  // compressed size
    PutLe32(b, local1 + 22, stretched);  // uncompressed size
    PutLe32(b, central1 + 20, stretched);
    PutLe32(b, central1 + 24, stretched);
    Write(p, b);
    CHECK(OpenCode(p) == Code::kOverlap);
  }
  SECTION("a deflate bomb") {
    // 64 MiB of zeros deflates to about 64 KiB; its honest size is over the per-voucher cap.
    auto e = entries({});
    e[1].data = Bytes(64u << 20, 0);
    e[1].deflate = true;
    MakeZip(p, e);
    CHECK(fs::file_size(p) < (1u << 20));
    CHECK(OpenCode(p) == Code::kTooLarge);
  }
  SECTION("a declared size smaller than the real data") {
    // The entry inflates to 4,000 bytes; its headers (and the manifest) claim 200.
    std::string big(4000, 'y');
    auto e = entries({});
    e[1].data = ToBytes(big);
    e[1].deflate = true;
    MakeZip(p, e);
    Bytes b = Read(p);
    auto [local, central] = Headers(b, vs[0].path);
    PutLe32(b, local + 22, static_cast<uint32_t>(vs[0].bytes.size()));
    PutLe32(b, central + 24, static_cast<uint32_t>(vs[0].bytes.size()));
    Write(p, b);
    CHECK(OpenCode(p) == Code::kSizeMismatch);
  }
  SECTION("a truncated archive") {
    fs::path good = GoodBundle(tmp.path());
    Bytes b = Read(good);
    Write(p, Bytes(b.begin(), b.begin() + static_cast<long>(b.size() / 2)));
    CHECK(OpenCode(p) == Code::kTruncated);
  }
  SECTION("trailing garbage") {
    fs::path good = GoodBundle(tmp.path());
    Bytes b = Read(good);
    b.insert(b.end(), {'g', 'a', 'r', 'b', 'a', 'g', 'e'});
    Write(p, b);
    CHECK(OpenCode(p) == Code::kTrailingData);
  }
  SECTION("not a ZIP at all") {
    Write(p, ToBytes("hello, this is not a zip archive at all"));
    CHECK(OpenCode(p) == Code::kNotZip);
    Write(p, Bytes{});
    CHECK(OpenCode(p) == Code::kNotZip);
  }
  SECTION("no manifest") {
    MakeZip(p, {{vs[0].path, vs[0].bytes}, {vs[1].path, vs[1].bytes}});
    CHECK(OpenCode(p) == Code::kManifestMissing);
  }
  SECTION("a manifest that is not first") {
    MakeZip(p, {{vs[0].path, vs[0].bytes}, {std::string(kManifestName), manifest}, {vs[1].path, vs[1].bytes}});
    CHECK(OpenCode(p) == Code::kManifestMissing);
  }
  SECTION("an unsorted manifest") {
    auto rev = vs;
    std::reverse(rev.begin(), rev.end());
    formats::Manifest m;
    m.created_on = "2026-11-27T10:00:00Z";
    for (const auto& v : rev) m.entries.push_back({v.path, v.bytes.size(), ParseLayoutPath(v.path)->voucher_id});
    MakeZip(p, {{std::string(kManifestName), EncodeManifest(m)}, {rev[0].path, rev[0].bytes}, {rev[1].path, rev[1].bytes}});
    CHECK(OpenCode(p) == Code::kManifestUnsorted);
  }
  SECTION("a manifest that disagrees with the entries") {
    auto e = entries({});
    e.pop_back();  // the manifest lists two vouchers, the archive holds one
    MakeZip(p, e);
    CHECK(OpenCode(p) == Code::kManifestMismatch);
    auto wrong = vs;
    wrong[0].bytes.push_back('!');  // the archive's size differs from the manifest's
    MakeZip(p, {{std::string(kManifestName), manifest}, {wrong[0].path, wrong[0].bytes}, {vs[1].path, vs[1].bytes}});
    CHECK(OpenCode(p) == Code::kManifestMismatch);
  }
  SECTION("a voucher whose stored bytes were changed after writing (CRC)") {
    fs::path good = GoodBundle(tmp.path());
    Bytes b = Read(good);
    auto opened = Bundle::Open(good);
    REQUIRE(opened.ok());
    Bytes first = opened->ReadAll()->at(0).bytes;
    auto at = std::search(b.begin(), b.end(), first.begin(), first.end());
    REQUIRE(at != b.end());
    at[static_cast<long>(first.size() / 2)] ^= 0x01;
    Write(p, b);
    CHECK(OpenCode(p) == Code::kCorruptEntry);
  }
  SECTION("a voucher whose bytes do not match its id") {
    auto e = entries({});
    e[1].data[10] ^= 0x01;  // same size, valid CRC for the new bytes, wrong id
    MakeZip(p, e);
    CHECK(OpenCode(p) == Code::kIdMismatch);
  }
  SECTION("too many entries") {
    MakeZip(p, entries({}));
    BundleLimits small;
    small.max_entries = 1;
    CHECK(OpenCode(p, small) == Code::kTooManyEntries);
  }
  SECTION("a file named as a bundle id that it is not") {
    fs::path good = GoodBundle(tmp.path());
    auto other = WriteBundles(tmp / "other", Vouchers(1));
    fs::path liar = tmp / (other->at(0).id + ".vbundle");
    fs::copy_file(good, liar);
    CHECK(OpenCode(liar) == Code::kNameMismatch);
  }
}

TEST_CASE("a manifest whose members have the wrong types is refused, not thrown on", "[bundle]") {
  // The first input the fuzzer kept (fuzz/regressions/manifest): "format" as an object made
  // nlohmann's value() throw inside the reader.
  for (const char* text : {R"({"format":{"fowmat":"x"}})", R"({"format":"vouch-bundle/1","created-on":1,"count":0,"entries":[]})",
                           R"({"format":"vouch-bundle/1","created-on":"x","count":"1","entries":[]})",
                           R"({"format":"vouch-bundle/1","created-on":"x","count":1,"entries":[{"path":1,"size":1,"id":"x"}]})",
                           R"([1,2,3])", R"("vouch-bundle/1")"}) {
    INFO(text);
    CHECK(DecodeManifest(AsBytes(text), 16, 65536).status().code() == Code::kMalformed);
  }
}

namespace {

// Bytes that stand for a proof: the bundle carries them, the judge checks them.
Bytes ProofBytes(const std::string& tag) { return ToBytes("c2sp.org/tlog-proof@v1\nindex 0\n\n" + tag + "\n"); }

Bytes ManifestWith(const std::vector<ManifestEntry>& entries) {
  formats::Manifest m;
  m.created_on = "2026-11-27T10:00:00Z";
  m.entries = entries;
  return EncodeManifest(m);
}

}  // namespace

TEST_CASE("a voucher's proof is written right after it and read back with it", "[bundle][proof]") {
  test::TempDir tmp;
  auto vs = Vouchers(3);
  vs[1].proof = ProofBytes("one");
  auto written = WriteBundles(tmp.path(), vs);
  REQUIRE(written.ok());
  CHECK(written->at(0).count == 3);
  auto b = Bundle::Open(written->at(0).path);
  REQUIRE(b.ok());
  const auto& es = b->manifest().entries;
  REQUIRE(es.size() == 4);
  CHECK(es[1].path == vs[1].path);
  CHECK(es[2].path == vs[1].path + ".tlog-proof");
  CHECK(es[2].proof);
  CHECK(es[2].id == ParseLayoutPath(vs[1].path)->voucher_id);  // the id of the voucher it is for
  CHECK(es[2].size == vs[1].proof->size());
  auto all = b->ReadAll();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK_FALSE((*all)[0].proof);
  REQUIRE((*all)[1].proof);
  CHECK(*(*all)[1].proof == *vs[1].proof);
  CHECK_FALSE((*all)[2].proof);
  auto mine = b->ReadDevice(ParseLayoutPath(vs[1].path)->device_udf);
  REQUIRE(mine.ok());
  REQUIRE(mine->size() == 1);
  REQUIRE((*mine)[0].proof);
  CHECK(*(*mine)[0].proof == *vs[1].proof);
  // A proof does not count against the voucher cap.
  BundleLimits one;
  one.max_entries = 3;
  CHECK(OpenCode(written->at(0).path, one) == Code::kOk);
  // A proof changes the bundle (its manifest lists it); without proofs nothing is added.
  auto plain = Vouchers(2);
  auto with = plain;
  with[0].proof = ProofBytes("x");
  auto wp = WriteBundles(tmp / "plain", plain);
  auto ww = WriteBundles(tmp / "with", with);
  REQUIRE((wp.ok() && ww.ok()));
  CHECK(wp->at(0).id != ww->at(0).id);
  CHECK(Bundle::Open(wp->at(0).path)->manifest().entries.size() == 2);
  CHECK(Bundle::Open(ww->at(0).path)->manifest().entries.size() == 3);
}

TEST_CASE("the writer refuses a proof over its cap", "[bundle][proof]") {
  test::TempDir tmp;
  auto vs = Vouchers(1);
  vs[0].proof = Bytes(64 * 1024 + 1, 'x');
  CHECK(WriteBundles(tmp.path(), vs).status().code() == Code::kTooLarge);
  vs[0].proof = Bytes(64 * 1024, 'x');
  CHECK(WriteBundles(tmp.path(), vs).ok());
}

TEST_CASE("hostile proof entries are refused with the bundle, each with its code", "[bundle][proof][hostile]") {
  test::TempDir tmp;
  auto vs = Vouchers(2);
  fs::path p = tmp / "hostile.zip";
  const std::string id0 = ParseLayoutPath(vs[0].path)->voucher_id, id1 = ParseLayoutPath(vs[1].path)->voucher_id;
  const std::string proof0 = vs[0].path + ".tlog-proof", proof1 = vs[1].path + ".tlog-proof";
  Bytes proof = ProofBytes("p");
  auto zip = [&](const std::vector<ManifestEntry>& listed, const std::vector<RawEntry>& held) {
    std::vector<RawEntry> e{{std::string(kManifestName), ManifestWith(listed)}};
    e.insert(e.end(), held.begin(), held.end());
    MakeZip(p, e);
  };

  SECTION("a voucher and its proof open") {
    zip({{vs[0].path, vs[0].bytes.size(), id0}, {proof0, proof.size(), id0}},
        {{vs[0].path, vs[0].bytes}, {proof0, proof}});
    CHECK(OpenCode(p) == Code::kOk);
  }
  SECTION("a proof without its voucher (an orphan) refuses the bundle") {
    zip({{vs[0].path, vs[0].bytes.size(), id0}, {proof1, proof.size(), id1}},
        {{vs[0].path, vs[0].bytes}, {proof1, proof}});
    CHECK(OpenCode(p) == Code::kManifestMismatch);
    zip({{proof0, proof.size(), id0}}, {{proof0, proof}});
    CHECK(OpenCode(p) == Code::kManifestMismatch);
  }
  SECTION("a proof listed before its voucher") {
    zip({{proof0, proof.size(), id0}, {vs[0].path, vs[0].bytes.size(), id0}},
        {{proof0, proof}, {vs[0].path, vs[0].bytes}});
    CHECK(OpenCode(p) == Code::kManifestMismatch);  // no voucher right before it
  }
  SECTION("a proof entry carrying another voucher's id") {
    zip({{vs[0].path, vs[0].bytes.size(), id0}, {proof0, proof.size(), id1}},
        {{vs[0].path, vs[0].bytes}, {proof0, proof}});
    CHECK(OpenCode(p) == Code::kManifestMismatch);
  }
  SECTION("a proof over 64 KiB") {
    Bytes big(64 * 1024 + 1, 'x');
    zip({{vs[0].path, vs[0].bytes.size(), id0}, {proof0, big.size(), id0}},
        {{vs[0].path, vs[0].bytes}, {proof0, big}});
    CHECK(OpenCode(p) == Code::kTooLarge);
  }
  SECTION("a proof whose data is not its declared size") {
    zip({{vs[0].path, vs[0].bytes.size(), id0}, {proof0, proof.size() + 1, id0}},
        {{vs[0].path, vs[0].bytes}, {proof0, proof}});
    CHECK(OpenCode(p) == Code::kManifestMismatch);
  }
  SECTION("a proof of a proof") {
    zip({{vs[0].path, vs[0].bytes.size(), id0}, {proof0, proof.size(), id0}, {proof0 + ".tlog-proof", proof.size(), id0}},
        {{vs[0].path, vs[0].bytes}, {proof0, proof}, {proof0 + ".tlog-proof", proof}});
    CHECK(OpenCode(p) == Code::kUnsafePath);
  }
  SECTION("a proof held but not listed") {
    zip({{vs[0].path, vs[0].bytes.size(), id0}}, {{vs[0].path, vs[0].bytes}, {proof0, proof}});
    CHECK(OpenCode(p) == Code::kManifestMismatch);
  }
  SECTION("two proofs for one voucher") {
    zip({{vs[0].path, vs[0].bytes.size(), id0}, {proof0, proof.size(), id0}, {proof0, proof.size(), id0}},
        {{vs[0].path, vs[0].bytes}, {proof0, proof}});
    CHECK(OpenCode(p) == Code::kManifestUnsorted);
  }
}
