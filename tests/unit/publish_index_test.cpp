// The index of a published tree (cache/publish.md): what a reader of a static mirror reads
// first from a hostile server, so every field, its order and its caps are checked strictly.
#include <catch2/catch.hpp>

#include <string>

#include "cache/publish_index.h"
#include "formats/layout.h"
#include "formats/manifest.h"
#include "libvoucher/udf.h"

using namespace vouch;
using cache::DecodeIndex;
using cache::IndexEntry;
using cache::PublishIndex;

namespace {

std::string Id(const std::string& seed) { return formats::BundleId(AsBytes(seed)); }

Code DecodeCode(const std::string& text) { return DecodeIndex(AsBytes(text)).status().code(); }

std::string Header(size_t n) { return "vouch-index/1 " + std::to_string(n) + "\n"; }

std::string Line(const std::string& prefix, const std::string& id, const std::string& vouchers = "3",
                 const std::string& size = "4096") {
  return prefix + " " + vouchers + " " + size + " " + id + "\n";
}

}  // namespace

TEST_CASE("an index reads back as written and finds a device's shard at either depth", "[publish-index]") {
  PublishIndex index;
  index.entries = {{"B5", 2, 9000, Id("a")}, {"B6/AA", 1, 5000, Id("b")}, {"B6/AB", 7, 20000, Id("c")}};
  auto bytes = cache::EncodeIndex(index);
  REQUIRE(bytes.ok());
  std::string text(bytes->begin(), bytes->end());
  CHECK(text.rfind("vouch-index/1 3\nB5 2 9000 " + Id("a") + "\n", 0) == 0);
  auto back = DecodeIndex(*bytes);
  REQUIRE(back.ok());
  CHECK(back->entries == index.entries);
  CHECK(PublishIndex::ShardPath(index.entries[1]) == "vouch.vshards/B6/AA/" + Id("b") + ".vbundle");

  std::string device = udf::KeyFingerprint(AsBytes("some key"));
  auto dir = formats::DeviceDirectory(device);
  REQUIRE(dir.ok());
  std::string c1c2 = dir->substr(9, 2), c3c4 = dir->substr(12, 2);
  PublishIndex whole{{{c1c2, 1, 100, Id("d")}}};
  REQUIRE(whole.ForDevice(device));
  CHECK(whole.ForDevice(device)->id == Id("d"));
  PublishIndex cut{{{c1c2 + "/" + c3c4, 1, 100, Id("e")}}};
  REQUIRE(cut.ForDevice(device));
  CHECK(cut.ForDevice(device)->id == Id("e"));
  PublishIndex other{{{c1c2 == "B5" ? "B6" : "B5", 1, 100, Id("f")}}};
  CHECK(!other.ForDevice(device));
  CHECK(DecodeIndex(AsBytes(Header(0))).ok());
}

TEST_CASE("an oversize index, or one claiming more shards than the layout has, is refused", "[publish-index]") {
  std::string big = Header(1) + Line("B5", Id("a"));
  big.resize(cache::kMaxIndexSize + 1, '\n');
  CHECK(DecodeCode(big) == Code::kTooLarge);
  CHECK(DecodeCode(Header(cache::kMaxIndexEntries + 1)) == Code::kTooLarge);
  CHECK(DecodeCode("vouch-index/1 99999999999999999999999\n") == Code::kMalformed);
  // A line is refused by its length before it is split: a 16 MiB line of spaces would
  // otherwise be millions of empty fields.
  std::string spaces = Header(1) + std::string(cache::kMaxIndexSize - 100, ' ') + "\n";
  auto r = cache::DecodeIndex(AsBytes(spaces));
  REQUIRE(!r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("longer than 128 bytes"));
  CHECK(DecodeCode(Header(1) + std::string(cache::kMaxIndexLine + 1, 'A') + "\n") == Code::kMalformed);
}

TEST_CASE("an index of another version, or no index at all, is refused", "[publish-index]") {
  CHECK(DecodeCode("vouch-index/2 0\n") == Code::kUnsupported);
  CHECK(DecodeCode("<html>not found</html>\n") == Code::kMalformed);
  CHECK(DecodeCode("vouch-index/1\n") == Code::kMalformed);
  CHECK(DecodeCode("vouch-index/1 0 extra\n") == Code::kMalformed);
  CHECK(DecodeCode("vouch-index/1  0\n") == Code::kMalformed);
  CHECK(DecodeCode("vouch-index/1 00\n") == Code::kMalformed);
  CHECK(DecodeCode("") == Code::kTruncated);
}

TEST_CASE("an index cut short is refused as truncated", "[publish-index]") {
  std::string two = Header(2) + Line("B5", Id("a")) + Line("B6", Id("b"));
  CHECK(DecodeIndex(AsBytes(two)).ok());
  CHECK(DecodeCode(two.substr(0, two.size() - 1)) == Code::kTruncated);        // no final newline
  CHECK(DecodeCode(Header(2) + Line("B5", Id("a"))) == Code::kTruncated);      // a line missing
  CHECK(DecodeCode(two.substr(0, two.size() - 20)) == Code::kTruncated);       // cut mid-line
  CHECK(DecodeCode(Header(1) + Line("B5", Id("a")) + Line("B6", Id("b"))) == Code::kMalformed);  // one too many
}

TEST_CASE("unsorted, repeated or overlapping prefixes are refused", "[publish-index]") {
  CHECK(DecodeCode(Header(2) + Line("B6", Id("a")) + Line("B5", Id("b"))) == Code::kMalformed);
  CHECK(DecodeCode(Header(2) + Line("B5", Id("a")) + Line("B5", Id("b"))) == Code::kMalformed);
  CHECK(DecodeCode(Header(2) + Line("B5/AA", Id("a")) + Line("B5/AA", Id("b"))) == Code::kMalformed);
  // A prefix has one current shard, whole or cut, never both.
  CHECK(DecodeCode(Header(2) + Line("B5", Id("a")) + Line("B5/AA", Id("b"))) == Code::kMalformed);
  CHECK(DecodeIndex(AsBytes(Header(2) + Line("B5/AA", Id("a")) + Line("B6", Id("b")))).ok());
}

TEST_CASE("a prefix that could name a path outside the shard folder is refused", "[publish-index]") {
  for (std::string p : {"..", "../x", "B5/..", "../..", "/B5", "B5/", "b5", "B1", "B5/SR/X", "B5/S", "B", "B5\\SR", ".",
                        "%2e%2e", "B5/S.", "B5 SR"}) {
    INFO(p);
    CHECK(DecodeCode(Header(1) + Line(p, Id("a"))) == Code::kMalformed);
  }
  CHECK(DecodeCode(Header(1) + "B5\t3 4096 " + Id("a") + "\n") == Code::kMalformed);
  CHECK(DecodeCode(Header(1) + "B5 3 4096 " + Id("a") + "\r\n") == Code::kMalformed);
}

TEST_CASE("an id that is not a bundle id in its one spelling is refused", "[publish-index]") {
  std::string id = Id("a");
  std::string lower = id;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string undashed;
  for (char c : id) {
    if (c != '-') undashed += c;
  }
  for (std::string bad : {lower, undashed, udf::KeyFingerprint(AsBytes("a key")), std::string("../../etc/passwd"), id + "A",
                          id.substr(0, id.size() - 1), std::string("x")}) {
    INFO(bad);
    CHECK(DecodeCode(Header(1) + Line("B5", bad)) == Code::kMalformed);
  }
}

TEST_CASE("counts and sizes have one spelling and stay under the bundle caps", "[publish-index]") {
  for (auto [vouchers, size] : std::vector<std::pair<std::string, std::string>>{
           {"0", "10"}, {"03", "10"}, {"+3", "10"}, {"-3", "10"}, {"16385", "10"}, {"3", "0"},
           {"3", std::to_string((1ull << 30) + 1)}, {"3", "1e6"}, {"", "10"}}) {
    INFO(vouchers << " " << size);
    CHECK(DecodeCode(Header(1) + Line("B5", Id("a"), vouchers, size)) == Code::kMalformed);
  }
  CHECK(DecodeIndex(AsBytes(Header(1) + Line("B5", Id("a"), "16384", std::to_string(1ull << 30)))).ok());
}
