// One deleter for every C library handle: std::unique_ptr<T, Deleter<T_free>> owns a handle
// and frees it with the library's own function (the bssl::UniquePtr idea, library-neutral).
#pragma once

namespace vouch {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const { Free(p); }
};

}  // namespace vouch
