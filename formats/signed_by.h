// The one judgement of a raw envelope signature (JWS and COSE sign the same way: r || s for
// ECDSA, RFC 8032 bytes for EdDSA): which certificate signed, and the path from it to an anchor.
#pragma once

#include <string_view>
#include <vector>

#include "formats/envelope.h"

namespace vouch::formats::internal {

struct SignedInput {
  EnvelopeKind kind;
  std::string_view alg;   // the JWS name of the claimed algorithm: ES256, ES384, EdDSA
  ByteView message;       // what was signed (JWS signing input, COSE Sig_structure)
  ByteView signature;
  const std::vector<Bytes>* chain;  // signer first, DER; empty: try each anchor's own key
  ByteView payload;
  bool voucher;           // hold the signer to the voucher-signing rule (DESIGN.md 3a)
  std::string_view what;  // "jws", "cose": for messages
};

// The signature first (a tampered voucher reads as tampered even when its signer expired), then
// the path. With no chain, an anchor whose key is not of the claimed algorithm, or does not
// verify, is skipped; kUntrustedSigner when none is left.
Result<Verified> VerifySignedBy(const SignedInput& in, const std::vector<Certificate>& anchors, const TimePolicy& time);

Result<std::vector<Certificate>> ParseChain(const std::vector<Bytes>& ders);

}  // namespace vouch::formats::internal
