// The prime-order subgroup of edwards25519 through libsodium's crypto_core_ed25519_* and
// crypto_scalarmult_ed25519_*_noclamp: the one folder that calls libsodium. libvoucher/group.h
// dispatches here for Group::kEd25519 and documents the encodings.
#pragma once

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"
#include "libvoucher/library_version.h"

namespace vouch::edwards25519 {

inline constexpr size_t kScalarSize = 32;
inline constexpr size_t kPointSize = 32;

Status CheckPoint(ByteView p);
Status CheckScalar(ByteView k);
Result<Bytes> Add(ByteView a, ByteView b);
Result<Bytes> MulBase(ByteView k);
Result<SecretBytes> AddScalars(ByteView a, ByteView b);
Result<SecretBytes> RandomScalar();
Result<SecretBytes> NegateScalar(ByteView k);
Result<SecretBytes> InvertScalar(ByteView k);
Result<SecretBytes> ReduceWide(ByteView wide);
Result<SecretBytes> MulAddScalars(ByteView a, ByteView b, ByteView c);
Result<Bytes> ToMontgomery(ByteView p);

// libsodium: SODIUM_VERSION_STRING, and sodium_version_string() at run time.
LinkedLibrary LibraryVersion();

}  // namespace vouch::edwards25519
