#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <unistd.h>

#include "device/judge.h"
#include "device/reader/scanner.h"
#include "formats/bundle.h"
#include "formats/layout.h"
#include "libvoucher/file.h"
#include "testutil.h"

using namespace vouch;
namespace fs = std::filesystem;

namespace {

// What the reader would send, collected (the scanner runs in-process here, unconfined).
struct Scan {
  std::vector<device::Found> found;
  std::vector<formats::CandidateReport> refused;
  std::vector<std::string> notes;
};

class Collect : public device::reader::Sink {
 public:
  explicit Collect(Scan& s) : s_(s) {}
  void Voucher(const std::string& source, ByteView envelope, const std::optional<Bytes>& proof) override {
    s_.found.push_back({source, Bytes(envelope.begin(), envelope.end()), proof});
  }
  void Refused(const std::string& source, const Status& why) override { s_.refused.push_back({source, "", "", why}); }
  void Note(const std::string& text) override { s_.notes.push_back(text); }

 private:
  Scan& s_;
};

Scan ScanMedia(const std::vector<fs::path>& paths, const std::string& udf, const device::reader::Limits& limits = {}) {
  std::vector<device::reader::Medium> media;
  for (const auto& p : paths) media.push_back(device::reader::OpenMedium(p.string()));
  Scan scan;
  Collect sink(scan);
  device::reader::ScanMedia(media, udf, limits, sink);
  for (const auto& m : media) {
    if (m.fd >= 0) ::close(m.fd);
  }
  return scan;
}

struct Filed {
  std::string device;
  formats::PackedVoucher packed;
};

Filed Make(int i) {
  std::string dev = PrivateKey::Generate()->Public().Fingerprint();
  Bytes bytes = ToBytes("{\"voucher\":" + std::to_string(i) + "}");
  std::string id = formats::VoucherId(formats::EnvelopeKind::kJws, bytes);
  return {dev, {formats::LayoutPath({dev, id, formats::EnvelopeKind::kJws}), bytes}};
}

}  // namespace

TEST_CASE("the scanner finds a device's vouchers in plain trees, bundles and both shard depths", "[medium]") {
  std::vector<Filed> vs;
  for (int i = 0; i < 60; ++i) vs.push_back(Make(i));
  std::vector<formats::PackedVoucher> packed;
  for (const auto& v : vs) packed.push_back(v.packed);
  test::TempDir tmp;
  REQUIRE(formats::WriteBundles(tmp / "single", packed).ok());
  REQUIRE(formats::WriteBundles(tmp / "shallow", packed, 10, 1000).ok());
  REQUIRE(formats::WriteBundles(tmp / "deep", packed, 10, 0).ok());
  for (const auto& p : packed) {
    fs::create_directories((tmp / "tree" / p.path).parent_path());
    REQUIRE(WriteFileAtomic(tmp / "tree" / p.path, p.bytes).ok());
  }
  for (const char* medium : {"single", "shallow", "deep", "tree"}) {
    INFO(medium);
    for (int i : {0, 17, 59}) {
      auto scan = ScanMedia({tmp / medium}, vs[static_cast<size_t>(i)].device);
      CHECK(scan.refused.empty());
      REQUIRE(scan.found.size() == 1);
      CHECK(scan.found[0].envelope == vs[static_cast<size_t>(i)].packed.bytes);
    }
  }
}

TEST_CASE("a shard holding vouchers of another prefix is refused", "[medium]") {
  auto a = Make(1), b = Make(2);
  while (b.packed.path.substr(9, 2) == a.packed.path.substr(9, 2)) b = Make(2);
  test::TempDir tmp;
  // A bundle holding both, planted in a's shard directory.
  auto written = formats::WriteBundles(tmp / "x", {a.packed, b.packed});
  REQUIRE(written.ok());
  fs::path shard = tmp / "stick" / std::string(formats::kShardDirectory) / a.packed.path.substr(9, 2);
  fs::create_directories(shard);
  fs::copy_file(written->at(0).path, shard / written->at(0).path.filename());
  auto scan = ScanMedia({tmp / "stick"}, a.device);
  CHECK(scan.found.empty());
  REQUIRE(scan.refused.size() == 1);
  CHECK(scan.refused[0].status.code() == Code::kManifestMismatch);
}

TEST_CASE("the scanner follows no links and opens no FIFOs", "[medium]") {
  auto v = Make(1);
  test::TempDir tmp;
  fs::create_directories((tmp / "outside" / v.packed.path).parent_path());
  REQUIRE(WriteFileAtomic(tmp / "outside" / v.packed.path, v.packed.bytes).ok());
  fs::create_directories(tmp / "stick");
  fs::create_directory_symlink(tmp / "outside" / "vouchers", tmp / "stick" / "vouchers");
  fs::create_directory_symlink(tmp / "stick", tmp / "stick" / "loop");
  REQUIRE(::mkfifo((tmp / "stick" / "fifo.vbundle").c_str(), 0644) == 0);
  auto scan = ScanMedia({tmp / "stick"}, v.device);
  CHECK(scan.found.empty());
  CHECK(scan.refused.empty());
  // The same tree, not behind a link, is found.
  CHECK(ScanMedia({tmp / "outside"}, v.device).found.size() == 1);
}

TEST_CASE("a link in the middle of a layout path or a shard path is not followed either", "[medium]") {
  auto v = Make(1);
  test::TempDir tmp;
  // outside/vouchers/B5/SR/<UDF>/<ID>.vjj holds the voucher; the stick has a real vouchers/
  // directory whose B5 is a link into outside/.
  fs::create_directories((tmp / "outside" / v.packed.path).parent_path());
  REQUIRE(WriteFileAtomic(tmp / "outside" / v.packed.path, v.packed.bytes).ok());
  std::string prefix = v.packed.path.substr(9, 2);
  fs::create_directories(tmp / "stick" / "vouchers");
  fs::create_directory_symlink(tmp / "outside" / "vouchers" / prefix, tmp / "stick" / "vouchers" / prefix);
  // And a shard set whose prefix directory is a link to a directory of real bundles.
  auto written = formats::WriteBundles(tmp / "bundles", {v.packed});
  REQUIRE(written.ok());
  fs::create_directories(tmp / "stick" / std::string(formats::kShardDirectory));
  fs::create_directory_symlink(tmp / "bundles", tmp / "stick" / std::string(formats::kShardDirectory) / prefix);
  auto scan = ScanMedia({tmp / "stick"}, v.device);
  CHECK(scan.found.empty());
  CHECK(scan.refused.empty());
}

TEST_CASE("a voucher's proof beside it on a stick is carried with it; an orphan is ignored", "[medium][proof]") {
  auto v = Make(1), w = Make(2), orphan = Make(3);
  w.device = v.device;  // two vouchers of one device
  w.packed.path = formats::LayoutPath({v.device, formats::ParseLayoutPath(w.packed.path)->voucher_id, formats::EnvelopeKind::kJws});
  orphan.packed.path = formats::LayoutPath({v.device, formats::ParseLayoutPath(orphan.packed.path)->voucher_id, formats::EnvelopeKind::kJws});
  test::TempDir tmp;
  fs::path dir = (tmp / "stick" / v.packed.path).parent_path();
  fs::create_directories(dir);
  Bytes proof = ToBytes("c2sp.org/tlog-proof@v1\nindex 0\n\nlog\n");
  REQUIRE(WriteFileAtomic(tmp / "stick" / v.packed.path, v.packed.bytes).ok());
  REQUIRE(WriteFileAtomic(tmp / "stick" / (v.packed.path + ".tlog-proof"), proof).ok());
  REQUIRE(WriteFileAtomic(tmp / "stick" / w.packed.path, w.packed.bytes).ok());
  REQUIRE(WriteFileAtomic(tmp / "stick" / (orphan.packed.path + ".tlog-proof"), proof).ok());
  auto scan = ScanMedia({tmp / "stick"}, v.device);
  CHECK(scan.refused.empty());
  REQUIRE(scan.found.size() == 2);
  for (const auto& f : scan.found) {
    if (f.envelope == v.packed.bytes) {
      REQUIRE(f.proof);
      CHECK(*f.proof == proof);
    } else {
      CHECK(f.envelope == w.packed.bytes);
      CHECK_FALSE(f.proof);
    }
  }
  // The same in a bundle: the proof entry comes out with its voucher.
  auto with = v.packed;
  with.proof = proof;
  REQUIRE(formats::WriteBundles(tmp / "bundled", {with, w.packed}).ok());
  auto bundled = ScanMedia({tmp / "bundled"}, v.device);
  CHECK(bundled.refused.empty());
  REQUIRE(bundled.found.size() == 2);
  size_t with_proof = 0;
  for (const auto& f : bundled.found) with_proof += f.proof && *f.proof == proof;
  CHECK(with_proof == 1);
}

TEST_CASE("a proof on a stick that is oversize, a link or empty is refused, skipped or sent empty", "[medium][proof][hostile]") {
  auto v = Make(1);
  test::TempDir tmp;
  fs::path file = tmp / "stick" / v.packed.path;
  fs::create_directories(file.parent_path());
  REQUIRE(WriteFileAtomic(file, v.packed.bytes).ok());
  fs::path proof = file.string() + ".tlog-proof";
  SECTION("over 64 KiB: the proof is refused by itself, its voucher sent without it") {
    REQUIRE(WriteFileAtomic(proof, Bytes(64 * 1024 + 1, 'p')).ok());
    auto scan = ScanMedia({tmp / "stick"}, v.device);
    REQUIRE(scan.refused.size() == 1);
    CHECK(scan.refused[0].status.code() == Code::kTooLarge);
    CHECK(scan.refused[0].source.ends_with(".tlog-proof"));
    REQUIRE(scan.found.size() == 1);
    CHECK_FALSE(scan.found[0].proof);
  }
  SECTION("exactly 64 KiB is carried") {
    REQUIRE(WriteFileAtomic(proof, Bytes(64 * 1024, 'p')).ok());
    auto scan = ScanMedia({tmp / "stick"}, v.device);
    CHECK(scan.refused.empty());
    REQUIRE(scan.found.size() == 1);
    REQUIRE(scan.found[0].proof);
    CHECK(scan.found[0].proof->size() == 64 * 1024);
  }
  SECTION("a link is not followed") {
    REQUIRE(WriteFileAtomic(tmp / "elsewhere", ToBytes("c2sp.org/tlog-proof@v1\n")).ok());
    fs::create_symlink(tmp / "elsewhere", proof);
    auto scan = ScanMedia({tmp / "stick"}, v.device);
    CHECK(scan.refused.empty());
    REQUIRE(scan.found.size() == 1);
    CHECK_FALSE(scan.found[0].proof);
  }
  SECTION("a FIFO is not opened") {
    REQUIRE(::mkfifo(proof.c_str(), 0644) == 0);
    auto scan = ScanMedia({tmp / "stick"}, v.device);
    REQUIRE(scan.found.size() == 1);
    CHECK_FALSE(scan.found[0].proof);
  }
  SECTION("an empty file is an empty proof, for the judge to refuse") {
    REQUIRE(WriteFileAtomic(proof, Bytes{}).ok());
    auto scan = ScanMedia({tmp / "stick"}, v.device);
    REQUIRE(scan.found.size() == 1);
    REQUIRE(scan.found[0].proof);
    CHECK(scan.found[0].proof->empty());
  }
}
