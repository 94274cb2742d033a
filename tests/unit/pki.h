// A small PKI for tests, made with libvoucher's own issuance: a manufacturer root and its
// voucher signer, an owner domain CA, and a second, unrelated issuer.
#pragma once

#include "formats/envelope.h"
#include "libvoucher/cert.h"
#include "libvoucher/issue.h"

namespace vouch::test {

inline CertSpec Spec(const std::string& cn, const std::string& serial = "", bool ca = false) {
  CertSpec s;
  s.common_name = cn;
  s.serial_number = serial;
  s.ca = ca;
  return s;
}

struct Pki {
  PrivateKey mfr_root_key, mfr_signer_key, owner_key, stranger_key;
  Certificate mfr_root, mfr_signer, owner_ca, stranger;

  static Pki Make() {
    Pki p;
    p.mfr_root_key = *PrivateKey::Generate();
    p.mfr_signer_key = *PrivateKey::Generate();
    p.owner_key = *PrivateKey::Generate();
    p.stranger_key = *PrivateKey::Generate();
    CertSpec root{"Manufacturer Root", "", "Maker", true};
    p.mfr_root = *SelfSign(p.mfr_root_key, root);
    CertSpec signer{"Manufacturer Voucher Signer", "", "Maker", false};
    p.mfr_signer = *IssueCertificate(p.mfr_root, p.mfr_root_key, p.mfr_signer_key.Public(), signer);
    p.owner_ca = *SelfSign(p.owner_key, CertSpec{"Owner CA", "", "Owner", true});
    p.stranger = *SelfSign(p.stranger_key, CertSpec{"Stranger", "", "", true});
    return p;
  }

  // The manufacturer signs with its signer certificate and the root above it in x5c.
  formats::Signer Manufacturer() const { return {mfr_signer_key, {mfr_signer, mfr_root}}; }
  formats::Signer Owner() const { return {owner_key, {owner_ca}}; }
  formats::Signer Stranger() const { return {stranger_key, {stranger}}; }

  DraftRequest Request(const PublicKey& device, const std::string& serial) const {
    DraftRequest r;
    r.device_key = device;
    r.serial_number = serial;
    r.domain_ca = owner_ca;
    r.domain_ca_key = owner_key;
    return r;
  }
};

}  // namespace vouch::test
