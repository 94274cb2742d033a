// Who may sign a voucher (DESIGN.md section 3a).
//
// A path to an anchor says who vouches for a certificate, not what it may do: a TLS server
// certificate, a key-agreement leaf or a device's own certificate for Z can all chain to a
// manufacturer's root or to an owner's domain CA. These rules say which of them may sign a
// voucher, everywhere an envelope is verified (formats/jws.cpp, formats/cms.cpp) and, more
// strictly, for a voucher signed under the device's owner (libvoucher/enroll.cpp).
#pragma once

#include <string_view>

#include "libvoucher/cert.h"
#include "libvoucher/status.h"

namespace vouch {

// The vouch voucher-signing extended key usage: 2.25 is the UUID arc (ITU-T X.667), so an
// OID under it is ours with no registration; this one is UUID 7ba117e7-5051-4e8d-8ee0-b1f5386a27fb.
inline constexpr std::string_view kVoucherSigningEku = "2.25.164331488097752279131811806320366594043";
// id-kp-clientAuth: what vouch puts in the certificates it issues for Z, so that they name a
// purpose and that purpose is not signing vouchers.
inline constexpr std::string_view kClientAuthEku = "1.3.6.1.5.5.7.3.2";

// Every voucher signer, whatever anchor it chains to:
//   - keyUsage, if present, includes digitalSignature (nonRepudiation alone is not enough);
//   - a CA certificate (basicConstraints CA:TRUE) has keyUsage, and it includes digitalSignature;
//   - extendedKeyUsage, if present, includes kVoucherSigningEku or anyExtendedKeyUsage.
// kSignerNotAuthorized otherwise, naming the certificate and the rule it breaks.
Status CheckSignerAuthority(const Certificate& signer);

// True when the certificate's extendedKeyUsage names kVoucherSigningEku itself
// (anyExtendedKeyUsage does not count).
bool HasVoucherSigningEku(const Certificate& cert);

// A voucher that verified to the device owner's pinned domain certificate: its signer must be
// that certificate itself, or carry kVoucherSigningEku explicitly (and pass
// CheckSignerAuthority). Certificates the owner issued for other purposes, above all the ones
// vouch issues for each device's Z, never qualify. kSignerNotAuthorized otherwise.
Status CheckOwnerSigner(const Certificate& signer, const Certificate& domain_ca);

// What a certificate for Z must not carry: voucher-signing authority of any kind
// (kVoucherSigningEku or anyExtendedKeyUsage) or basicConstraints CA:TRUE (a device that
// could issue certificates could issue itself a signer). kCertificateMismatch otherwise.
Status CheckNoSigningAuthority(const Certificate& certificate_for_z);

}  // namespace vouch
