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

// An element of a SEQUENCE OF ANY: a constructed SEQUENCE is kept as its whole DER, an
// OCTET STRING as its contents.
Status Push(ASN1_SEQUENCE_ANY* seq, int type, ByteView bytes) {
  ASN1_STRING* s = ASN1_STRING_type_new(type);
  ASN1_TYPE* t = ASN1_TYPE_new();
  if (!s || !t || ASN1_STRING_set(s, bytes.data(), static_cast<int>(bytes.size())) != 1) {
    ASN1_STRING_free(s);
    ASN1_TYPE_free(t);
    return ossl::Fail(Code::kCrypto, "construction encoding");
  }
  ASN1_TYPE_set(t, type, s);
  if (sk_ASN1_TYPE_push(seq, t) <= 0) {
    ASN1_TYPE_free(t);
    return ossl::Fail(Code::kCrypto, "construction encoding");
  }
  return Status::Ok();
}

Result<Bytes> Der(ASN1_SEQUENCE_ANY* seq) {
  unsigned char* der = nullptr;
  int n = i2d_ASN1_SEQUENCE_ANY(seq, &der);
  if (n <= 0) return ossl::Fail(Code::kCrypto, "construction encoding");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

SeqPtr NewSeq() { return SeqPtr(sk_ASN1_TYPE_new_null()); }

// A SEQUENCE OF ANY with exactly `min`..`max` elements and nothing after it.
Result<SeqPtr> ParseSeq(ByteView der, int min, int max) {
  const unsigned char* p = der.data();
  SeqPtr seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, static_cast<long>(der.size())));
  if (!seq || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Error(Code::kMalformed, "construction extension is not the DER structure construction.h gives");
  }
  const int n = sk_ASN1_TYPE_num(seq.get());
  if (n < min || n > max) return Error(Code::kMalformed, "construction extension has the wrong number of elements");
  return seq;
}

Result<ByteView> Element(ASN1_SEQUENCE_ANY* seq, int i, int type) {
  const ASN1_TYPE* t = sk_ASN1_TYPE_value(seq, i);
  if (ASN1_TYPE_get(t) != type) return Error(Code::kMalformed, "construction extension element has the wrong type");
  const ASN1_STRING* s = type == V_ASN1_SEQUENCE ? t->value.sequence : t->value.octet_string;
  return ByteView(ASN1_STRING_get0_data(s), static_cast<size_t>(ASN1_STRING_length(s)));
}

}  // namespace

Result<Bytes> EncodeConstruction(const Construction& c) {
  if (c.contributions.empty() || c.contributions.size() > cogen::kMaxContributions || c.proofs.size() != c.contributions.size()) {
    return Error(Code::kUsage, "a construction names 1 to 16 contributions, each with its proof");
  }
  SeqPtr list = NewSeq();
  if (!list) return ossl::Fail(Code::kCrypto, "construction encoding");
  for (size_t i = 0; i < c.contributions.size(); ++i) {
    SeqPtr pair = NewSeq();
    if (!pair) return ossl::Fail(Code::kCrypto, "construction encoding");
    VOUCH_RETURN_IF_ERROR(Push(pair.get(), V_ASN1_SEQUENCE, c.contributions[i].SpkiDer()));
    VOUCH_RETURN_IF_ERROR(Push(pair.get(), V_ASN1_OCTET_STRING, c.proofs[i]));
    VOUCH_ASSIGN_OR_RETURN(Bytes pair_der, Der(pair.get()));
    VOUCH_RETURN_IF_ERROR(Push(list.get(), V_ASN1_SEQUENCE, pair_der));
  }
  VOUCH_ASSIGN_OR_RETURN(Bytes list_der, Der(list.get()));
  SeqPtr outer = NewSeq();
  if (!outer) return ossl::Fail(Code::kCrypto, "construction encoding");
  VOUCH_RETURN_IF_ERROR(Push(outer.get(), V_ASN1_SEQUENCE, c.device_key.SpkiDer()));
  VOUCH_RETURN_IF_ERROR(Push(outer.get(), V_ASN1_SEQUENCE, list_der));
  return Der(outer.get());
}

Result<Construction> DecodeConstruction(ByteView der) {
  if (der.size() > kMaxKeys * 320) return Error(Code::kMalformed, "construction extension is too large");
  Construction out;
  auto key = [&](ByteView spki) -> Result<PublicKey> {
    auto k = PublicKey::FromSpkiDer(spki);
    if (!k.ok()) return Error(Code::kMalformed, "construction entry is not a valid key: " + k.status().message());
    return k;
  };
  VOUCH_ASSIGN_OR_RETURN(SeqPtr outer, ParseSeq(der, 2, 2));
  VOUCH_ASSIGN_OR_RETURN(ByteView x, Element(outer.get(), 0, V_ASN1_SEQUENCE));
  VOUCH_ASSIGN_OR_RETURN(out.device_key, key(x));
  VOUCH_ASSIGN_OR_RETURN(ByteView list_der, Element(outer.get(), 1, V_ASN1_SEQUENCE));
  VOUCH_ASSIGN_OR_RETURN(SeqPtr list, ParseSeq(list_der, 1, static_cast<int>(cogen::kMaxContributions)));
  for (int i = 0; i < sk_ASN1_TYPE_num(list.get()); ++i) {
    VOUCH_ASSIGN_OR_RETURN(ByteView pair_der, Element(list.get(), i, V_ASN1_SEQUENCE));
    VOUCH_ASSIGN_OR_RETURN(SeqPtr pair, ParseSeq(pair_der, 2, 2));
    VOUCH_ASSIGN_OR_RETURN(ByteView y, Element(pair.get(), 0, V_ASN1_SEQUENCE));
    VOUCH_ASSIGN_OR_RETURN(ByteView proof, Element(pair.get(), 1, V_ASN1_OCTET_STRING));
    VOUCH_ASSIGN_OR_RETURN(PublicKey yk, key(y));
    if (yk.group() != out.device_key.group()) return Error(Code::kMalformed, "construction mixes groups");
    if (proof.size() > 256) return Error(Code::kMalformed, "construction proof is too large");
    out.contributions.push_back(std::move(yk));
    out.proofs.emplace_back(proof.begin(), proof.end());
  }
  return out;
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
  for (size_t i = 0; i < c->contributions.size(); ++i) {
    VOUCH_RETURN_IF_ERROR(cogen::VerifyPossession(c->contributions[i], c->device_key, c->proofs[i]));
  }
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
