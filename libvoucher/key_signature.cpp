#include "libvoucher/key_signature.h"

#include "libvoucher/eddsa.h"
#include "libvoucher/signing_key.h"

namespace vouch {

std::string_view KeyJwsAlg(Group g) { return g == Group::kP256 ? "ES256" : "EdDSA"; }

Result<Bytes> SignWithKey(const PrivateKey& key, ByteView message) {
  // A P-256 key is an ordinary ECDSA key pair; an Edwards scalar has no RFC 8032 seed, so it
  // signs with an expanded key (eddsa.h).
  if (key.group() == Group::kP256) return SigningKey(key).Sign(message);
  return eddsa::Sign(key, message);
}

Status VerifyWithKey(const PublicKey& key, ByteView message, ByteView signature) {
  if (key.group() == Group::kP256) return VerifyJwsSignature(key.pkey(), "ES256", message, signature);
  return eddsa::Verify(key, message, signature);
}

}  // namespace vouch
