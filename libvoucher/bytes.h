// Byte strings: Bytes for public data, SecretBytes for anything that must not outlive its use.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vouch {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Overwrites memory in a way the optimizer may not remove (OPENSSL_cleanse).
void Wipe(void* p, size_t n);

// A byte buffer that is wiped when it is destroyed or reassigned. Move-only, so a secret
// has one owner and one place where it dies. Holds y, z, HPKE keys and exporter secrets.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t n) : b_(n) {}
  explicit SecretBytes(ByteView v) : b_(v.begin(), v.end()) {}
  ~SecretBytes() { Clear(); }
  SecretBytes(SecretBytes&& o) noexcept : b_(std::move(o.b_)) {}
  SecretBytes& operator=(SecretBytes&& o) noexcept {
    if (this != &o) { Clear(); b_ = std::move(o.b_); }
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  uint8_t* data() { return b_.data(); }
  const uint8_t* data() const { return b_.data(); }
  size_t size() const { return b_.size(); }
  bool empty() const { return b_.empty(); }
  ByteView view() const { return {b_.data(), b_.size()}; }
  uint8_t& operator[](size_t i) { return b_[i]; }
  void Clear() { if (!b_.empty()) Wipe(b_.data(), b_.size()); b_.clear(); }

 private:
  std::vector<uint8_t> b_;  // never resized after construction, so no stale copies are left
};

}  // namespace vouch
