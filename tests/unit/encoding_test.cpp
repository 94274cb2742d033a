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
