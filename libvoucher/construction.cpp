#include "libvoucher/construction.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "libvoucher/cert.h"
#include "libvoucher/cogen.h"
#include "libvoucher/ossl/error.h"

namespace vouch {
namespace {

constexpr size_t kMaxKeys = 1 + cogen::kMaxContributions;

struct SeqFree {
  void operator()(ASN1_SEQUENCE_ANY* s) const { sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free); }
};
using SeqPtr = std::unique_ptr<ASN1_SEQUENCE_ANY, SeqFree>;

// A SubjectPublicKeyInfo as an ASN1_TYPE holding its whole DER (how OpenSSL keeps a
// SEQUENCE inside SEQUENCE OF ANY).
Status Push(ASN1_SEQUENCE_ANY* seq, const PublicKey& key) {
  Bytes der = key.SpkiDer();
  ASN1_STRING* s = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
  ASN1_TYPE* t = ASN1_TYPE_new();
  if (!s || !t || ASN1_STRING_set(s, der.data(), static_cast<int>(der.size())) != 1) {
    ASN1_STRING_free(s);
    ASN1_TYPE_free(t);
    return ossl::Fail(Code::kCrypto, "construction encoding");
  }
  ASN1_TYPE_set(t, V_ASN1_SEQUENCE, s);
  if (sk_ASN1_TYPE_push(seq, t) <= 0) {
    ASN1_TYPE_free(t);
    return ossl::Fail(Code::kCrypto, "construction encoding");
  }
  return Status::Ok();
}

}  // namespace

Result<Bytes> EncodeConstruction(const Construction& c) {
  if (c.contributions.empty() || c.contributions.size() > cogen::kMaxContributions) {
    return Error(Code::kUsage, "a construction names 1 to 16 contributions");
  }
  SeqPtr seq(sk_ASN1_TYPE_new_null());
  if (!seq) return ossl::Fail(Code::kCrypto, "construction encoding");
  VOUCH_RETURN_IF_ERROR(Push(seq.get(), c.device_key));
  for (const PublicKey& y : c.contributions) VOUCH_RETURN_IF_ERROR(Push(seq.get(), y));
  unsigned char* der = nullptr;
  int n = i2d_ASN1_SEQUENCE_ANY(seq.get(), &der);
  if (n <= 0) return ossl::Fail(Code::kCrypto, "construction encoding");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

Result<Construction> DecodeConstruction(ByteView der) {
  if (der.size() > kMaxKeys * 128) return Error(Code::kMalformed, "construction extension is too large");
  const unsigned char* p = der.data();
  SeqPtr seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, static_cast<long>(der.size())));
  if (!seq || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Error(Code::kMalformed, "construction extension is not a DER SEQUENCE");
  }
  const int n = sk_ASN1_TYPE_num(seq.get());
  if (n < 2 || static_cast<size_t>(n) > kMaxKeys) return Error(Code::kMalformed, "construction names 2 to 17 keys");
  std::vector<PublicKey> keys;
  for (int i = 0; i < n; ++i) {
    const ASN1_TYPE* t = sk_ASN1_TYPE_value(seq.get(), i);
    if (ASN1_TYPE_get(t) != V_ASN1_SEQUENCE) return Error(Code::kMalformed, "construction entry is not a key");
    const ASN1_STRING* s = t->value.sequence;
    auto key = PublicKey::FromSpkiDer(ByteView(ASN1_STRING_get0_data(s), static_cast<size_t>(ASN1_STRING_length(s))));
    if (!key.ok()) return Error(Code::kMalformed, "construction entry is not a valid key: " + key.status().message());
    if (!keys.empty() && key->group() != keys[0].group()) return Error(Code::kMalformed, "construction mixes groups");
    keys.push_back(*key);
  }
  return Construction{keys[0], std::vector<PublicKey>(keys.begin() + 1, keys.end())};
}

Result<std::optional<Construction>> ReadConstruction(const Certificate& cert) {
  ASN1_OBJECT* oid = OBJ_txt2obj(std::string(kConstructionOid).c_str(), 1);
  if (!oid) return ossl::Fail(Code::kCrypto, "construction oid");
  int at = X509_get_ext_by_OBJ(cert.x509(), oid, -1);
  int again = at >= 0 ? X509_get_ext_by_OBJ(cert.x509(), oid, at) : -1;
  ASN1_OBJECT_free(oid);
  if (at < 0) return std::optional<Construction>();
  if (again >= 0) return Error(Code::kMalformed, "certificate carries the construction extension twice");
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_get_ext(cert.x509(), at));
  VOUCH_ASSIGN_OR_RETURN(Construction c, DecodeConstruction(ByteView(ASN1_STRING_get0_data(value),
                                                                     static_cast<size_t>(ASN1_STRING_length(value)))));
  return std::optional<Construction>(std::move(c));
}

Result<Construction> VerifyConstruction(const Certificate& cert, const PublicKey* device_key) {
  VOUCH_ASSIGN_OR_RETURN(std::optional<Construction> c, ReadConstruction(cert));
  if (!c) return Error(Code::kNotFound, "certificate carries no construction extension (" + std::string(kConstructionOid) + ")");
  VOUCH_ASSIGN_OR_RETURN(PublicKey z, cert.Key());
  if (device_key && !(c->device_key == *device_key)) {
    return Error(Code::kWrongDevice, "certificate's construction is for device key " + c->device_key.Fingerprint() +
                                         ", not " + device_key->Fingerprint());
  }
  auto sum = cogen::CombinePublic(c->device_key, c->contributions);
  if (!sum.ok() || !(*sum == z)) {
    return Error(Code::kCombinedKeyMismatch, "certificate's key is not X + the sum of its construction's contributions");
  }
  return *c;
}

}  // namespace vouch
