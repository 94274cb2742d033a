#include <catch2/catch.hpp>

#include "libvoucher/encoding.h"
#include "libvoucher/file.h"
#include "testutil.h"

using namespace vouch;

TEST_CASE("base64 follows the RFC 4648 test vectors", "[encoding]") {
  const std::pair<const char*, const char*> v[] = {{"", ""},         {"f", "Zg=="},     {"fo", "Zm8="},
                                                   {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                   {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : v) {
    CHECK(Base64Encode(AsBytes(plain)) == enc);
    CHECK(AsChars(*Base64Decode(enc)) == plain);
  }
  CHECK(Base32Encode(AsBytes("foobar"), 10) == "MZXW6YTBOI");  // RFC 4648 section 10, unpadded
  CHECK(AsChars(*Base32Decode("MZXW6YTBOI")).substr(0, 6) == "foobar");
}

TEST_CASE("base64 decoding refuses non-canonical and foreign text", "[encoding]") {
  CHECK_FALSE(Base64Decode("Zg=").ok());
  CHECK_FALSE(Base64Decode("Zh==").ok());      // non-zero pad bits
  CHECK_FALSE(Base64Decode("Zm9v\n").ok());
  CHECK_FALSE(Base64Decode("Zm-v").ok());
  CHECK_FALSE(Base64Decode("Z===").ok());
  CHECK(Base64UrlEncode(Bytes{0xfb, 0xff}) == "-_8");
  CHECK(*Base64UrlDecode("-_8") == Bytes{0xfb, 0xff});
  CHECK_FALSE(Base64UrlDecode("+/8").ok());
  CHECK_FALSE(Base64UrlDecode("-_8=").ok());
}

TEST_CASE("hex decoding refuses odd lengths and foreign characters", "[encoding]") {
  CHECK(*HexDecode("00ffA0") == Bytes{0x00, 0xff, 0xa0});
  CHECK(HexEncode(Bytes{0x00, 0xff, 0xa0}) == "00ffa0");
  CHECK_FALSE(HexDecode("0").ok());
  CHECK_FALSE(HexDecode("0g").ok());
}

TEST_CASE("reading a file over its cap is refused, not truncated", "[file]") {
  test::TempDir dir;
  REQUIRE(WriteFileAtomic(dir / "f", Bytes(100, 7)).ok());
  CHECK(ReadFile(dir / "f", 100)->size() == 100);
  CHECK(ReadFile(dir / "f", 99).status().code() == Code::kTooLarge);
  CHECK(ReadFile(dir / "missing", 99).status().code() == Code::kNotFound);
  std::filesystem::create_symlink(dir / "f", dir / "link");
  CHECK(ReadFile(dir / "link", 100, /*follow_links=*/false).status().code() == Code::kIo);
  CHECK(ReadFile(dir / "link", 100, /*follow_links=*/true).ok());
}

TEST_CASE("a file batch puts nothing at a name before it commits, and leaves no temporary file", "[file]") {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "a");
  auto batch = FileBatch::Open(dir.path());
  REQUIRE(batch.ok());
  auto t1 = batch->Stage(dir / "a" / "one", Bytes(10, 1));
  auto t2 = batch->Stage(dir / "two", Bytes(20, 2), 0600);
  REQUIRE(t1.ok());
  REQUIRE(t2.ok());
  CHECK(!std::filesystem::exists(dir / "a" / "one"));
  CHECK(batch->Stage(dir / "missing" / "three", Bytes(1, 3)).status().code() == Code::kIo);
  // A folder where a file should go: that file alone fails.
  std::filesystem::create_directories(dir / "four");
  auto t4 = batch->Stage(dir / "four", Bytes(4, 4));
  REQUIRE(t4.ok());
  std::vector<Status> done = batch->Commit();
  REQUIRE(done.size() == 3);
  CHECK(done[*t1].ok());
  CHECK(done[*t2].ok());
  CHECK(done[*t4].code() == Code::kIo);
  CHECK(*ReadFile(dir / "a" / "one", 100) == Bytes(10, 1));
  namespace fs = std::filesystem;
  CHECK((fs::status(dir / "two").permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  size_t files = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir.path())) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 2);  // no temporary left behind
  // What is staged and never committed is removed with the batch.
  {
    auto dropped = FileBatch::Open(dir.path());
    REQUIRE(dropped->Stage(dir / "five", Bytes(5, 5)).ok());
  }
  files = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir.path())) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 2);
}
