#include "libvoucher/authority.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <string>

#include "libvoucher/deleter.h"
#include "libvoucher/ossl/error.h"

namespace vouch {
namespace {

inline void FreeEku(EXTENDED_KEY_USAGE* e) { sk_ASN1_OBJECT_pop_free(e, ASN1_OBJECT_free); }
using EkuPtr = std::unique_ptr<EXTENDED_KEY_USAGE, Deleter<FreeEku>>;
using ObjectPtr = std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT_free>>;

struct Purposes {
  bool voucher_signing = false;
  bool any = false;
};

// The extendedKeyUsage purposes that matter here; only meaningful when the extension is present.
Purposes ReadEku(const Certificate& cert) {
  Purposes p;
  EkuPtr eku(static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert.x509(), NID_ext_key_usage, nullptr, nullptr)));
  ObjectPtr ours(OBJ_txt2obj(std::string(kVoucherSigningEku).c_str(), 1));
  for (int i = 0; eku && ours && i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    const ASN1_OBJECT* o = sk_ASN1_OBJECT_value(eku.get(), i);
    if (OBJ_cmp(o, ours.get()) == 0) p.voucher_signing = true;
    if (OBJ_obj2nid(o) == NID_anyExtendedKeyUsage) p.any = true;
  }
  ossl::ClearErrors();
  return p;
}

// OpenSSL parses and caches the extensions on first use; an undecodable or repeated one sets
// EXFLAG_INVALID, and then nothing it says can be relied on.
uint32_t Flags(const Certificate& cert) { return X509_get_extension_flags(cert.x509()); }

Status Refuse(const Certificate& cert, const std::string& why) {
  return Error(Code::kSignerNotAuthorized, "signer certificate '" + cert.Subject() + "' " + why);
}

}  // namespace

Status CheckSignerAuthority(const Certificate& signer) {
  uint32_t flags = Flags(signer);
  if (flags & EXFLAG_INVALID) return Refuse(signer, "has extensions that do not decode");
  bool has_ku = (flags & EXFLAG_KUSAGE) != 0;
  if (has_ku && (X509_get_key_usage(signer.x509()) & KU_DIGITAL_SIGNATURE) == 0) {
    return Refuse(signer, "has keyUsage without digitalSignature, so it may not sign vouchers");
  }
  if ((flags & EXFLAG_CA) && !has_ku) {
    return Refuse(signer, "is a CA certificate with no keyUsage, so it may only issue certificates");
  }
  if (flags & EXFLAG_XKUSAGE) {
    Purposes p = ReadEku(signer);
    if (!p.voucher_signing && !p.any) {
      return Refuse(signer, "has extendedKeyUsage without the vouch voucher-signing purpose (" +
                                std::string(kVoucherSigningEku) + ")");
    }
  }
  return Status::Ok();
}

bool HasVoucherSigningEku(const Certificate& cert) {
  return (Flags(cert) & EXFLAG_XKUSAGE) != 0 && ReadEku(cert).voucher_signing;
}

Status CheckOwnerSigner(const Certificate& signer, const Certificate& domain_ca) {
  VOUCH_RETURN_IF_ERROR(CheckSignerAuthority(signer));
  if (signer == domain_ca || HasVoucherSigningEku(signer)) return Status::Ok();
  return Refuse(signer, "is under the owner's domain certificate but is neither that certificate nor a voucher "
                        "signer (extendedKeyUsage " + std::string(kVoucherSigningEku) + ")");
}

Status CheckNoSigningAuthority(const Certificate& cert) {
  uint32_t flags = Flags(cert);
  if (flags & EXFLAG_INVALID) return Error(Code::kCertificateMismatch, "certificate for Z has extensions that do not decode");
  if (flags & EXFLAG_CA) return Error(Code::kCertificateMismatch, "certificate for Z is a CA certificate");
  if (flags & EXFLAG_XKUSAGE) {
    Purposes p = ReadEku(cert);
    if (p.voucher_signing || p.any) {
      return Error(Code::kCertificateMismatch, "certificate for Z carries voucher-signing authority (extendedKeyUsage)");
    }
  }
  return Status::Ok();
}

}  // namespace vouch
