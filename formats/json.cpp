#include "formats/json.h"

#include <set>
#include <string>
#include <vector>

namespace vouch::formats {
namespace {
struct Refusal {
  std::string why;
};
}  // namespace

Result<nlohmann::json> ParseJson(ByteView text, size_t cap, std::string_view what) {
  if (text.size() > cap) {
    return Error(Code::kTooLarge, std::string(what) + " is " + std::to_string(text.size()) +
                                      " bytes, over the cap of " + std::to_string(cap));
  }
  // RFC 8259 8.1: a byte-order mark is not JSON, and nlohmann would skip it silently, so
  // bytes that other readers refuse would verify here.
  if (text.size() >= 3 && text[0] == 0xEF && text[1] == 0xBB && text[2] == 0xBF) {
    return Error(Code::kMalformed, std::string(what) + " starts with a byte-order mark");
  }
  std::vector<std::set<std::string>> keys;  // member names seen, per open object
  auto check = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (depth > kMaxJsonDepth) throw Refusal{"nests deeper than " + std::to_string(kMaxJsonDepth) + " levels"};
    if (event == E::object_start) keys.emplace_back();
    if (event == E::object_end && !keys.empty()) keys.pop_back();
    if (event == E::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
      throw Refusal{"has the member '" + parsed.get<std::string>() + "' twice"};
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), check);
  } catch (const Refusal& r) {
    return Error(Code::kMalformed, std::string(what) + " " + r.why);
  } catch (const nlohmann::json::exception& e) {
    // e.what() carries a position, which helps; it never carries input bytes.
    return Error(Code::kMalformed, std::string(what) + " is not JSON: " + e.what());
  }
}

}  // namespace vouch::formats
