// A git object's id as vouch passes it around: 20 bytes, compared and hashed as a value.
// Code outside cache/git/ names objects with this, never with libgit2's git_oid, so that
// libgit2 stays behind this folder.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {

class ObjectId {
 public:
  static constexpr size_t kSize = 20;  // SHA-1, the only object format libgit2 1.5 reads

  ObjectId() = default;  // all zero: no object
  explicit ObjectId(const uint8_t (&raw)[kSize]) { std::memcpy(bytes_.data(), raw, kSize); }

  // Forty hex digits (kInternal otherwise, with libgit2's message).
  static Result<ObjectId> FromHex(const std::string& hex);
  // The id git gives a blob holding `bytes` (safe on any thread).
  static ObjectId OfBlob(ByteView bytes);

  std::string Hex() const;
  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }

  friend bool operator==(const ObjectId&, const ObjectId&) = default;
  friend auto operator<=>(const ObjectId&, const ObjectId&) = default;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

}  // namespace vouch::cache::git

template <>
struct std::hash<vouch::cache::git::ObjectId> {
  // Ids are uniform hashes already: their first bytes are as good a hash as any.
  size_t operator()(const vouch::cache::git::ObjectId& id) const noexcept {
    size_t h;
    std::memcpy(&h, id.bytes().data(), sizeof h);
    return h;
  }
};
