#include "formats/json.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace vouch::formats {
namespace {

// Builds the document from nlohmann's SAX events, refusing nesting over kMaxJsonDepth and a
// member name given twice in one object. Not nlohmann's parse-with-callback: in 3.11 its
// end_object walks the finished object's parent to look for discarded members, so an object
// of n objects (a bundle manifest) costs n^2 iterator steps; 16,384 entries took seconds, and
// a sanitizer build's medium reader ran out of its deadline on one.
class DomBuilder {
 public:
  using json = nlohmann::json;

  bool null() { return Value(nullptr); }
  bool boolean(bool b) { return Value(b); }
  bool number_integer(json::number_integer_t n) { return Value(n); }
  bool number_unsigned(json::number_unsigned_t n) { return Value(n); }
  bool number_float(json::number_float_t n, const json::string_t&) { return Value(n); }
  bool string(json::string_t& s) { return Value(std::move(s)); }
  bool binary(json::binary_t&) { return Refuse("holds binary data"); }  // never from JSON text
  bool start_object(std::size_t) { return Open(json::object()); }
  bool start_array(std::size_t) { return Open(json::array()); }
  bool end_object() {
    open_.pop_back();
    names_.pop_back();
    return true;
  }
  bool end_array() {
    open_.pop_back();
    return true;
  }
  bool key(json::string_t& k) {
    if (!Deep(open_.size())) return false;
    if (!names_.back().insert(k).second) return Refuse("has the member " + Quoted(k) + " twice");
    key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    // nlohmann's message has the position and what was expected, which help, and after
    // "; last read: '" the bytes of the bad token, which may be anything (not UTF-8, a
    // terminal's escapes): those are cut.
    std::string what = e.what();
    if (size_t at = what.find("; last read: '"); at != std::string::npos) what.resize(at);
    return Refuse("is not JSON: " + what);
  }

  json& root() { return root_; }
  const std::string& refusal() const { return refusal_; }

 private:
  // A name from the input as a JSON string of printable ASCII: it is valid UTF-8 (the lexer
  // checked), but may hold controls and bidi overrides.
  static std::string Quoted(const std::string& name) {
    return json(name).dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
  }
  bool Refuse(std::string why) {
    if (refusal_.empty()) refusal_ = std::move(why);
    return false;
  }
  // The depth an event is at is the number of containers open around it.
  bool Deep(size_t depth) {
    if (depth <= static_cast<size_t>(kMaxJsonDepth)) return true;
    return Refuse("nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  // Places `v` in the innermost open container (or as the document) and returns where it is.
  json* Place(json&& v) {
    if (open_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    json& slot = parent[key_];
    slot = std::move(v);
    return &slot;
  }
  template <typename T>
  bool Value(T&& v) {
    if (!Deep(open_.size())) return false;
    Place(json(std::forward<T>(v)));
    return true;
  }
  bool Open(json&& container) {
    if (!Deep(open_.size())) return false;
    bool object = container.is_object();
    open_.push_back(Place(std::move(container)));
    if (object) names_.emplace_back();
    return true;
  }

  json root_;
  // A container does not move while it is open: its parent gains nothing until it closes.
  std::vector<json*> open_;
  std::vector<std::set<std::string>> names_;  // member names seen, per open object
  std::string key_;
  std::string refusal_;
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
  DomBuilder builder;
  // strict: nothing but white space after the value.
  if (!nlohmann::json::sax_parse(text.begin(), text.end(), &builder, nlohmann::json::input_format_t::json,
                                 /*strict=*/true)) {
    return Error(Code::kMalformed, std::string(what) + " " + builder.refusal());
  }
  return std::move(builder.root());
}

}  // namespace vouch::formats
