#include "formats/cbor/cbor.h"

#include <cbor.h>

#include <algorithm>
#include <limits>
#include <string>

namespace vouch::formats::cbor {
namespace {

Status Bad(const std::string& why) { return Error(Code::kMalformed, "cbor: " + why); }

// What one call of cbor_stream_decode saw: the head of one data item (and, for a string,
// its content). Filled by the callbacks below; `seen` stays false for anything vouch does
// not read (floats, undefined, simple values), which is then refused.
struct Head {
  bool seen = false;
  bool indefinite = false;
  bool unsupported = false;
  Type type = Type::kNull;
  uint64_t number = 0;  // integer value, tag number, string length, element or entry count
  bool boolean = false;
  const unsigned char* data = nullptr;
};

Head* H(void* ctx) { return static_cast<Head*>(ctx); }
void Set(void* ctx, Type t, uint64_t n) {
  H(ctx)->seen = true;
  H(ctx)->type = t;
  H(ctx)->number = n;
}
void OnUint8(void* c, uint8_t v) { Set(c, Type::kUint, v); }
void OnUint16(void* c, uint16_t v) { Set(c, Type::kUint, v); }
void OnUint32(void* c, uint32_t v) { Set(c, Type::kUint, v); }
void OnUint64(void* c, uint64_t v) { Set(c, Type::kUint, v); }
void OnNeg8(void* c, uint8_t v) { Set(c, Type::kNegint, v); }
void OnNeg16(void* c, uint16_t v) { Set(c, Type::kNegint, v); }
void OnNeg32(void* c, uint32_t v) { Set(c, Type::kNegint, v); }
void OnNeg64(void* c, uint64_t v) { Set(c, Type::kNegint, v); }
void OnBytes(void* c, cbor_data d, size_t n) {
  Set(c, Type::kBytes, n);
  H(c)->data = d;
}
void OnText(void* c, cbor_data d, size_t n) {
  Set(c, Type::kText, n);
  H(c)->data = d;
}
void OnArray(void* c, size_t n) { Set(c, Type::kArray, n); }
void OnMap(void* c, size_t n) { Set(c, Type::kMap, n); }
void OnTag(void* c, uint64_t t) { Set(c, Type::kTag, t); }
void OnBool(void* c, bool b) {
  Set(c, Type::kBool, 0);
  H(c)->boolean = b;
}
void OnNull(void* c) { Set(c, Type::kNull, 0); }
void OnIndefinite(void* c) {
  H(c)->seen = true;
  H(c)->indefinite = true;
}
void OnUnsupported(void* c) {
  H(c)->seen = true;
  H(c)->unsupported = true;
}
void OnFloat(void* c, float) { OnUnsupported(c); }
void OnDouble(void* c, double) { OnUnsupported(c); }

const cbor_callbacks kCallbacks = [] {
  cbor_callbacks cb = cbor_empty_callbacks;
  cb.uint8 = OnUint8;
  cb.uint16 = OnUint16;
  cb.uint32 = OnUint32;
  cb.uint64 = OnUint64;
  cb.negint8 = OnNeg8;
  cb.negint16 = OnNeg16;
  cb.negint32 = OnNeg32;
  cb.negint64 = OnNeg64;
  cb.byte_string = OnBytes;
  cb.byte_string_start = OnIndefinite;
  cb.string = OnText;
  cb.string_start = OnIndefinite;
  cb.array_start = OnArray;
  cb.indef_array_start = OnIndefinite;
  cb.map_start = OnMap;
  cb.indef_map_start = OnIndefinite;
  cb.tag = OnTag;
  cb.float2 = OnFloat;
  cb.float4 = OnFloat;
  cb.float8 = OnDouble;
  cb.undefined = OnUnsupported;
  cb.null = OnNull;
  cb.boolean = OnBool;
  cb.indef_break = OnIndefinite;
  return cb;
}();

// RFC 8949 4.2.1: the argument in the fewest bytes (1 + 0, 1, 2, 4 or 8).
size_t ShortestHead(uint64_t argument) {
  if (argument < 24) return 1;
  if (argument <= 0xff) return 2;
  if (argument <= 0xffff) return 3;
  if (argument <= 0xffffffffu) return 5;
  return 9;
}

// RFC 3629: shortest forms only, no surrogates, nothing above U+10FFFF.
bool ValidUtf8(const unsigned char* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

class Reader {
 public:
  Reader(ByteView data, const Limits& limits) : data_(data), limits_(limits) {}

  Result<Item> Top() {
    if (data_.size() > limits_.max_bytes) {
      return Error(Code::kTooLarge, "cbor: " + std::to_string(data_.size()) + " bytes, over the cap of " +
                                        std::to_string(limits_.max_bytes));
    }
    VOUCH_ASSIGN_OR_RETURN(Item item, Next(1));
    if (pos_ != data_.size()) return Bad(std::to_string(data_.size() - pos_) + " bytes after the data item");
    return item;
  }

 private:
  size_t Left() const { return data_.size() - pos_; }

  Result<Item> Next(size_t depth) {
    if (depth > kMaxDepth) return Bad("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    if (++count_ > kMaxItems) return Error(Code::kTooLarge, "cbor: more than " + std::to_string(kMaxItems) + " data items");
    if (Left() == 0) return Bad("truncated: a data item is missing");
    Head h;
    const size_t start = pos_;
    cbor_decoder_result r{};
    uint8_t initial = data_[pos_];
    if (initial >= 0xc6 && initial <= 0xd4) {
      // libcbor 0.8's streaming decoder calls tags 6 to 20 in their one-byte form unassigned
      // (an error) instead of reporting them; COSE_Sign1 is tag 18 (0xd2). The head is the
      // initial byte alone and the tag number its low five bits (RFC 8949 3).
      Set(&h, Type::kTag, initial & 0x1f);
      r.status = CBOR_DECODER_FINISHED;
      r.read = 1;
    } else {
      r = cbor_stream_decode(data_.data() + pos_, Left(), &kCallbacks, &h);
    }
    if (r.status == CBOR_DECODER_NEDATA) return Bad("truncated: an item declares more bytes than there are");
    if (r.status != CBOR_DECODER_FINISHED || !h.seen) return Bad("reserved or unassigned initial byte");
    if (h.indefinite) return Bad("indefinite length (only definite lengths are read)");
    if (h.unsupported) return Bad("float, undefined or simple value (none is read)");
    // The head's size: all of what was read, but for a string's content.
    size_t content = (h.type == Type::kBytes || h.type == Type::kText) ? h.number : 0;
    size_t head = r.read - content;
    uint64_t argument = h.type == Type::kBool || h.type == Type::kNull ? 0 : h.number;
    if (head != ShortestHead(argument)) return Bad("a head not in its shortest form (preferred serialization)");
    pos_ += r.read;

    Item item;
    item.type = h.type;
    switch (h.type) {
      case Type::kUint:
      case Type::kNegint:
      case Type::kTag:
        item.number = h.number;
        break;
      case Type::kBool:
        item.boolean = h.boolean;
        break;
      case Type::kNull:
        break;
      case Type::kText:
        if (!ValidUtf8(h.data, content)) return Bad("text string is not UTF-8");
        [[fallthrough]];
      case Type::kBytes:
        item.bytes.assign(h.data, h.data + content);
        break;
      case Type::kArray:
      case Type::kMap: {
        uint64_t n = h.number * (h.type == Type::kMap ? 2 : 1);
        // Every item is at least one byte: a count past what is left is a lie, refused before
        // anything is reserved for it.
        if (h.number > Left() || n > Left()) return Bad("declares more items than there are bytes");
        item.items.reserve(n);
        for (uint64_t i = 0; i < n; ++i) {
          VOUCH_ASSIGN_OR_RETURN(Item child, Next(depth + 1));
          item.items.push_back(std::move(child));
        }
        if (h.type == Type::kMap) VOUCH_RETURN_IF_ERROR(CheckKeys(item));
        break;
      }
    }
    if (h.type == Type::kTag) {
      VOUCH_ASSIGN_OR_RETURN(Item tagged, Next(depth + 1));
      item.items.push_back(std::move(tagged));
    }
    item.encoded.assign(data_.begin() + start, data_.begin() + pos_);
    return item;
  }

  Status CheckKeys(const Item& map) const {
    std::vector<const Bytes*> keys;
    for (size_t i = 0; i < map.items.size(); i += 2) keys.push_back(&map.items[i].encoded);
    if (limits_.sorted_keys) {
      for (size_t i = 1; i < keys.size(); ++i) {
        if (!(*keys[i - 1] < *keys[i])) return Bad("map keys not in deterministic (bytewise) order, or repeated");
      }
      return Status::Ok();
    }
    // With preferred serialization, equal keys have equal encodings.
    std::sort(keys.begin(), keys.end(), [](const Bytes* a, const Bytes* b) { return *a < *b; });
    for (size_t i = 1; i < keys.size(); ++i) {
      if (*keys[i - 1] == *keys[i]) return Bad("a map holds one key twice");
    }
    return Status::Ok();
  }

  ByteView data_;
  Limits limits_;
  size_t pos_ = 0;
  size_t count_ = 0;
};

// A head by one of libcbor's encoders (shortest form); nine bytes hold any.
template <typename N>
void Append(vouch::Bytes& out, size_t (*encode)(N, unsigned char*, size_t), N n) {
  unsigned char buf[9];
  size_t len = encode(n, buf, sizeof buf);
  out.insert(out.end(), buf, buf + len);
}

}  // namespace

Result<int64_t> Item::Int() const {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (type == Type::kUint && number <= kMax) return static_cast<int64_t>(number);
  if (type == Type::kNegint && number <= kMax) return -1 - static_cast<int64_t>(number);
  return Bad("not an integer in the range of int64");
}

Result<Item> Decode(ByteView data, const Limits& limits) { return Reader(data, limits).Top(); }

Encoder& Encoder::Uint(uint64_t v) {
  Append(out_, cbor_encode_uint, v);
  return *this;
}

Encoder& Encoder::Int(int64_t v) {
  if (v >= 0) return Uint(static_cast<uint64_t>(v));
  Append(out_, cbor_encode_negint, static_cast<uint64_t>(-1 - v));
  return *this;
}

Encoder& Encoder::Bstr(ByteView b) {
  Append(out_, cbor_encode_bytestring_start, b.size());
  out_.insert(out_.end(), b.begin(), b.end());
  return *this;
}

Encoder& Encoder::Tstr(std::string_view s) {
  Append(out_, cbor_encode_string_start, s.size());
  out_.insert(out_.end(), s.begin(), s.end());
  return *this;
}

Encoder& Encoder::Bool(bool b) {
  Append(out_, cbor_encode_bool, b);
  return *this;
}

Encoder& Encoder::ArrayHead(size_t n) {
  Append(out_, cbor_encode_array_start, n);
  return *this;
}

Encoder& Encoder::Tag(uint64_t tag) {
  Append(out_, cbor_encode_tag, tag);
  return *this;
}

Encoder& Encoder::Raw(ByteView encoded) {
  out_.insert(out_.end(), encoded.begin(), encoded.end());
  return *this;
}

Status Encoder::Map(std::vector<std::pair<vouch::Bytes, vouch::Bytes>> entries) {
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i - 1].first == entries[i].first) return Error(Code::kInternal, "cbor: a map written with one key twice");
  }
  Append(out_, cbor_encode_map_start, entries.size());
  for (const auto& [k, v] : entries) {
    out_.insert(out_.end(), k.begin(), k.end());
    out_.insert(out_.end(), v.begin(), v.end());
  }
  return Status::Ok();
}

vouch::Bytes EncodeInt(int64_t v) { return Encoder().Int(v).Take(); }
vouch::Bytes EncodeText(std::string_view s) { return Encoder().Tstr(s).Take(); }

LinkedLibrary LibraryVersion() {
  return {"libcbor", std::to_string(CBOR_MAJOR_VERSION) + "." + std::to_string(CBOR_MINOR_VERSION) + "." + std::to_string(CBOR_PATCH_VERSION), ""};
}

}  // namespace vouch::formats::cbor
