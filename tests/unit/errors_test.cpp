// docs/errors.md lists every error code: one table row per code, its name in backquotes first.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "libvoucher/status.h"

using namespace vouch;

namespace {

// The names in the first column of the table rows ("| `bad-signature` | ..."), with their line.
std::map<std::string, int> DocumentedNames() {
  std::ifstream in(VOUCH_ERRORS_DOC);
  REQUIRE(in.good());
  std::map<std::string, int> names;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.rfind("| `", 0) != 0) continue;
    size_t end = line.find('`', 3);
    REQUIRE(end != std::string::npos);
    std::string name = line.substr(3, end - 3);
    INFO(VOUCH_ERRORS_DOC << ":" << n << ": " << name);
    CHECK(names.emplace(name, n).second);  // one row per code
  }
  return names;
}

}  // namespace

TEST_CASE("docs/errors.md has a row for every code and for nothing else", "[errors]") {
  auto documented = DocumentedNames();
  for (Code code : kAllCodes) {
    INFO("code " << static_cast<int>(code) << " (" << CodeName(code) << ") has no row in " << VOUCH_ERRORS_DOC);
    CHECK(documented.count(CodeName(code)) == 1);
  }
  for (const auto& [name, line] : documented) {
    INFO(VOUCH_ERRORS_DOC << ":" << line << ": '" << name << "' is not the name of a code");
    CHECK((name == "ok" || CodeFromName(name).has_value()));
  }
}

TEST_CASE("code names and values are the ones scripts know", "[errors]") {
  CHECK(std::size(kAllCodes) == 51);
  for (size_t i = 0; i < std::size(kAllCodes); ++i) {
    CHECK(static_cast<size_t>(kAllCodes[i]) == i);
    if (i > 0) {
      CHECK(CodeFromName(CodeName(kAllCodes[i])) == kAllCodes[i]);
    }
  }
  CHECK(std::string(CodeName(Code::kOk)) == "ok");
  CHECK_FALSE(CodeFromName("ok").has_value());
  CHECK(std::string(CodeName(Code::kBadSignature)) == "bad-signature");
  CHECK(std::string(CodeName(Code::kNoMedium)) == "no-medium");
  CHECK(std::string(CodeName(Code::kUnexpectedVoucher)) == "unexpected-voucher");
  CHECK(std::string(CodeName(Code::kContributionMismatch)) == "contribution-mismatch");
  CHECK(std::string(CodeName(Code::kUdfMismatch)) == "udf-mismatch");
  CHECK_FALSE(CodeFromName("no-such-code").has_value());
}
