// The CBOR boundary (RFC 8949): the only code that calls libcbor. Vouch reads CBOR from
// sticks, caches and remotes, so the reader is strict and bounded, and builds its own small
// tree from libcbor's streaming decoder (one data item head at a time) rather than libcbor's
// own tree, whose recursive teardown and unbounded allocations a hostile input controls.
// Spec page: formats/voucher.md, "COSE envelope".
//
// What Decode accepts (everything else is kMalformed, or kTooLarge over a cap):
//   - exactly one data item, nothing after it;
//   - unsigned and negative integers, byte and text strings (text must be UTF-8), arrays,
//     maps, tags, true, false and null; no floats, no undefined, no other simple values;
//   - definite lengths only (RFC 8949 4.2.1: indefinite lengths are never deterministic);
//   - preferred serialization: every head in its shortest form, so that one value has one
//     spelling and nobody re-spells an envelope into a new voucher id;
//   - no map with two equal keys (two readers keeping different duplicates would see
//     different vouchers), at most kMaxDepth levels of nesting and kMaxItems items.
// Map key order is checked only where the caller asks (Limits::sorted_keys): real cBRSKI
// implementations sort by the RFC 7049 length-first rule or the RFC 8949 bytewise one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"
#include "libvoucher/library_version.h"

namespace vouch::formats::cbor {

inline constexpr size_t kMaxDepth = 16;
inline constexpr size_t kMaxItems = 4096;

enum class Type { kUint, kNegint, kBytes, kText, kArray, kMap, kTag, kBool, kNull };

struct Item {
  Type type = Type::kNull;
  // kUint: the value; kNegint: n for the value -1 - n; kTag: the tag number.
  uint64_t number = 0;
  bool boolean = false;
  Bytes bytes;        // kBytes and kText (UTF-8 checked)
  // kArray: the elements; kMap: key, value, key, value...; kTag: the one tagged item.
  std::vector<Item> items;
  Bytes encoded;      // this item's exact bytes, as read (Sig_structure signs them)

  bool IsInt() const { return type == Type::kUint || type == Type::kNegint; }
  // The integer value, when it fits in int64 (kMalformed otherwise: no SID or label is that big).
  Result<int64_t> Int() const;
  std::string_view Text() const { return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; }
  size_t MapSize() const { return items.size() / 2; }
};

struct Limits {
  size_t max_bytes;
  // Require RFC 8949 4.2.1 map key order (bytewise lexicographic of the encoded keys).
  bool sorted_keys = false;
};

Result<Item> Decode(ByteView data, const Limits& limits);

// Writes CBOR in RFC 8949 4.2.1 deterministic form: shortest heads (libcbor's encoders),
// definite lengths, and map entries sorted by their encoded keys (Map does the sorting).
class Encoder {
 public:
  Encoder& Uint(uint64_t v);
  Encoder& Int(int64_t v);
  Encoder& Bstr(ByteView b);
  Encoder& Tstr(std::string_view s);
  Encoder& Bool(bool b);
  Encoder& ArrayHead(size_t n);
  Encoder& Tag(uint64_t tag);
  // Appends bytes already encoded (an item built by another Encoder).
  Encoder& Raw(ByteView encoded);
  // A map of (encoded key, encoded value) pairs, sorted here by key bytes. Two equal keys
  // are a bug of the caller: kInternal.
  Status Map(std::vector<std::pair<vouch::Bytes, vouch::Bytes>> entries);

  const vouch::Bytes& bytes() const { return out_; }
  vouch::Bytes Take() { return std::move(out_); }

 private:
  vouch::Bytes out_;
};

// One item alone, encoded: the key of a map entry, say.
vouch::Bytes EncodeInt(int64_t v);
vouch::Bytes EncodeText(std::string_view s);

// libcbor: its version macros (it has no run-time query; running is "").
LinkedLibrary LibraryVersion();

}  // namespace vouch::formats::cbor
