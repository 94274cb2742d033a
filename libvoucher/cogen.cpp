#include "libvoucher/cogen.h"

#include "libvoucher/hpke.h"
#include "libvoucher/key_signature.h"
#include "libvoucher/suite.h"

namespace vouch::cogen {
namespace {

// DESIGN.md section 3: the HPKE cipher suite each vouch suite seals its y_i with.
const hpke::CipherSuite& HpkeSuite(Suite s) {
  switch (s) {
    case Suite::kP256HpkeSha256Aes128Gcm: return hpke::kP256Sha256Aes128Gcm;
    case Suite::kX25519HpkeSha256ChaCha20Poly1305: return hpke::kX25519Sha256ChaCha20Poly1305;
    case Suite::kX448HpkeSha512Aes256Gcm: return hpke::kX448Sha512Aes256Gcm;
  }
  return hpke::kP256Sha256Aes128Gcm;
}

Status SameGroup(const PublicKey& x, const PublicKey& y) {
  if (x.group() != y.group()) {
    return Error(Code::kInvalidKey, "cannot combine a " + std::string(GroupName(x.group())) + " key with a " +
                                        std::string(GroupName(y.group())) + " key");
  }
  return Status::Ok();
}

}  // namespace

Result<PublicKey> CombinePublic(const PublicKey& x, const PublicKey& y) {
  VOUCH_RETURN_IF_ERROR(SameGroup(x, y));
  auto sum = group::Add(x.group(), x.point(), y.point());
  if (!sum.ok()) {
    if (sum.status().code() == Code::kInvalidKey) return Error(Code::kInvalidKey, "combined key X + Y is the identity");
    return sum.status();
  }
  return PublicKey::FromPoint(x.group(), *sum);
}

Result<PublicKey> CombinePublic(const PublicKey& x, const std::vector<PublicKey>& ys) {
  if (ys.empty()) return Error(Code::kInvalidKey, "no contribution to combine with X");
  PublicKey sum = x;
  for (const PublicKey& y : ys) {
    VOUCH_ASSIGN_OR_RETURN(sum, CombinePublic(sum, y));
  }
  return sum;
}

Result<PrivateKey> CombinePrivate(const PrivateKey& x, const PrivateKey& y) {
  if (x.group() != y.group()) return Error(Code::kInvalidKey, "cannot combine private keys of different groups");
  SecretBytes xs = x.Scalar(), ys = y.Scalar();
  auto z = group::AddScalars(x.group(), xs.view(), ys.view());
  if (!z.ok()) {
    if (z.status().code() == Code::kInvalidKey) return Error(Code::kInvalidKey, "combined private key x + y is 0");
    return z.status();
  }
  return PrivateKey::FromScalar(x.group(), z->view());
}

Result<Contribution> Contribute(const PublicKey& device_key) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    VOUCH_ASSIGN_OR_RETURN(SecretBytes k, group::RandomScalar(device_key.group()));
    VOUCH_ASSIGN_OR_RETURN(PrivateKey y, PrivateKey::FromScalar(device_key.group(), k.view()));
    auto z = CombinePublic(device_key, y.Public());
    if (z.ok()) return Contribution{std::move(y), std::move(*z)};
    if (z.status().code() != Code::kInvalidKey) return z.status();
  }
  // Eight draws that each cancel X: a broken random generator.
  return Error(Code::kInternal, "could not draw a contribution y: the random generator is broken");
}

Result<PublicParts> CheckEnrollment(const Enrollment& e, const PublicKey& device_key) {
  auto suite = ParseSuite(e.suite);
  if (!suite) return Error(Code::kUnsupported, "voucher suite '" + e.suite + "' is not supported");
  const Group g = SuiteGroup(*suite);
  if (device_key.group() != g) {
    return Error(Code::kWrongDevice, "voucher suite " + e.suite + " is not the suite of the " +
                                         std::string(GroupName(device_key.group())) + " device key");
  }
  // No contribution: a renewal (DESIGN.md 5), which names the Z the device already holds and
  // carries its fresh certificate; only the device can tell whether Z is its own.
  if (e.contributions.empty() && !e.certificate) {
    return Error(Code::kMalformed, "voucher has no contribution and is no renewal (it carries no certificate)");
  }
  if (e.contributions.size() > kMaxContributions) {
    return Error(Code::kTooLarge, "voucher has more than " + std::to_string(kMaxContributions) + " contributions");
  }
  auto in_suite = [&](ByteView der, const std::string& what) -> Result<PublicKey> {
    auto key = PublicKey::FromSpkiDer(der);
    if (!key.ok()) return Error(Code::kMalformed, what + " is not a valid key: " + key.status().message());
    if (key->group() != g) {
      return Error(Code::kMalformed, what + " is a " + std::string(GroupName(key->group())) + " key in a " + e.suite +
                                         " voucher (one suite per voucher)");
    }
    return key;
  };
  PublicParts out{*suite, PublicKey(), {}, e.contributions.empty()};
  VOUCH_ASSIGN_OR_RETURN(out.combined, in_suite(e.combined_key, "combined-key"));
  if (out.renewal) return out;
  size_t named = 0;
  for (const SealedContribution& c : e.contributions) {
    if (!c.key) continue;
    VOUCH_ASSIGN_OR_RETURN(PublicKey y, in_suite(*c.key, "contribution-key"));
    if (!c.proof) return Error(Code::kMalformed, "a contribution names its key without a proof of possession");
    VOUCH_RETURN_IF_ERROR(VerifyPossession(y, device_key, *c.proof));
    out.contributions.push_back(std::move(y));
    ++named;
  }
  if (named != 0 && named != e.contributions.size()) return Error(Code::kMalformed, "some contributions name no key");
  // The older form is the first release's, which had the P-256 suite only: in another suite
  // it would only let a new voucher skip every public check of Z.
  if (named == 0 && g != Group::kP256) {
    return Error(Code::kMalformed, "contributions without keys (the older form) exist in the P-256 suite only");
  }
  if (named != 0) {
    auto sum = CombinePublic(device_key, out.contributions);
    if (!sum.ok() || !(*sum == out.combined)) {
      return Error(Code::kCombinedKeyMismatch, "combined key is not X + the sum of the contribution keys");
    }
  }
  return out;
}

namespace {

Bytes ProofMessage(const PublicKey& y, const PublicKey& device_key) {
  Bytes m = ToBytes("vouch contribution proof v1");
  Bytes x = device_key.SpkiDer(), yd = y.SpkiDer();
  m.insert(m.end(), x.begin(), x.end());
  m.insert(m.end(), yd.begin(), yd.end());
  return m;
}

}  // namespace

Result<Bytes> ProvePossession(const PrivateKey& y, const PublicKey& device_key) {
  if (y.group() != device_key.group()) return Error(Code::kInvalidKey, "contribution and device key are in different groups");
  const Bytes m = ProofMessage(y.Public(), device_key);
  return SignWithKey(y, m);
}

Status VerifyPossession(const PublicKey& y, const PublicKey& device_key, ByteView proof) {
  if (y.group() != device_key.group()) return Error(Code::kContributionMismatch, "contribution and device key are in different groups");
  const Bytes m = ProofMessage(y, device_key);
  if (!VerifyWithKey(y, m, proof).ok()) return Error(Code::kContributionMismatch, "a contribution's proof of possession does not verify under its key");
  return Status::Ok();
}

Result<SealedContribution> Seal(const PublicKey& device_key, std::string_view device_udf, const PrivateKey& y) {
  if (y.group() != device_key.group()) return Error(Code::kInvalidKey, "contribution and device key are in different groups");
  VOUCH_ASSIGN_OR_RETURN(Bytes proof, ProvePossession(y, device_key));
  SecretBytes scalar = y.Scalar();
  // P-256 seals to X's point directly (hpke::SealToPoint: the same bytes as through an EVP_PKEY).
  auto sealed_or = device_key.group() == Group::kP256
                       ? hpke::SealToPoint(device_key.point(), AsBytes(kHpkeInfo), AsBytes(device_udf), scalar.view())
                       : hpke::Seal(HpkeSuite(SuiteOfGroup(device_key.group())), device_key.KemKey(), AsBytes(kHpkeInfo),
                                    AsBytes(device_udf), scalar.view());
  VOUCH_ASSIGN_OR_RETURN(hpke::Sealed sealed, std::move(sealed_or));
  return SealedContribution{y.Public().SpkiDer(), std::move(sealed.enc), std::move(sealed.ct), std::move(proof)};
}

Result<SecretBytes> OpenScalar(const PrivateKey& device_key, std::string_view device_udf, const SealedContribution& sealed) {
  const Group g = device_key.group();
  VOUCH_ASSIGN_OR_RETURN(SecretBytes scalar, hpke::Open(HpkeSuite(SuiteOfGroup(g)), device_key.KemKey(), sealed.enc,
                                                        AsBytes(kHpkeInfo), AsBytes(device_udf), sealed.ct));
  if (!group::CheckScalar(g, scalar.view()).ok()) {
    return Error(Code::kContributionMismatch, "a contribution's y is not a " + std::string(GroupName(g)) + " scalar");
  }
  if (sealed.key) {
    // y*G, not a PrivateKey: y is never an X25519/X448 key, so it need not have one.
    auto point = group::MulBase(g, scalar.view());
    auto claimed = PublicKey::FromSpkiDer(*sealed.key);
    auto y_pub = point.ok() ? PublicKey::FromPoint(g, *point) : Result<PublicKey>(point.status());
    if (!y_pub.ok() || !claimed.ok() || !(*y_pub == *claimed)) {
      return Error(Code::kContributionMismatch, "a contribution's y does not match its contribution-key Y");
    }
  }
  return scalar;
}

Result<PrivateKey> Open(const PrivateKey& device_key, std::string_view device_udf, const SealedContribution& sealed) {
  VOUCH_ASSIGN_OR_RETURN(SecretBytes scalar, OpenScalar(device_key, device_udf, sealed));
  auto y = PrivateKey::FromScalar(device_key.group(), scalar.view());
  if (!y.ok()) return Error(Code::kContributionMismatch, "a contribution's y is not a " + std::string(GroupName(device_key.group())) + " key");
  return y;
}

Result<PrivateKey> OpenAll(const PrivateKey& device_key, std::string_view device_udf,
                           const std::vector<SealedContribution>& contributions) {
  const Group g = device_key.group();
  // z accumulates as a scalar; only the final z becomes a key (and needs an RFC 7748 form).
  SecretBytes z = device_key.Scalar();
  for (const SealedContribution& c : contributions) {
    VOUCH_ASSIGN_OR_RETURN(SecretBytes y, OpenScalar(device_key, device_udf, c));
    auto sum = group::AddScalars(g, z.view(), y.view());
    if (!sum.ok()) return Error(Code::kCombinedKeyMismatch, "x + the sum of the contributions is 0");
    z = std::move(*sum);
  }
  auto key = PrivateKey::FromScalar(g, z.view());
  if (!key.ok()) return Error(Code::kCombinedKeyMismatch, "z = x + the sum of the contributions is not a usable key: " + key.status().message());
  return key;
}

}  // namespace vouch::cogen
