// A contribution file (`.vcon`): one party's y_i, sealed to a device key X, for an issuer to
// add to a voucher (`vouch contribute` -> `vouch issue|request --contribution`). Spec page:
// formats/voucher.md, "Contributions".
//
//   {"vouch-contribution":{"device-key":"<UDF of X>","suite":"<suite id>",
//                          "contribution-key":"<base64 DER SPKI of Y_i>",
//                          "enc":"<base64>","ct":"<base64>",
//                          "contribution-proof":"<base64 signature by y_i over X and Y_i>"}}
//
// Nothing in it is secret (y_i travels only as HPKE ciphertext to X) and nothing is signed:
// a contribution swapped in transit takes away that contributor's share of the assurance,
// but whoever swapped it still lacks x, so still cannot compute z. The device checks that
// each y_i opens and matches its Y_i (contribution-mismatch).
#pragma once

#include "libvoucher/key.h"
#include "libvoucher/status.h"
#include "libvoucher/voucher.h"

namespace vouch::formats {

inline constexpr std::string_view kContributionExtension = "vcon";
inline constexpr size_t kMaxContributionSize = 8 * 1024;

struct ContributionFile {
  std::string device_key;  // UDF of X
  std::string suite;
  SealedContribution sealed;  // with its key
};

Bytes EncodeContribution(const ContributionFile& c);
// kMalformed, kTooLarge. Checks the form only; CheckContributionFor checks it against X.
Result<ContributionFile> DecodeContribution(ByteView text);
// The contribution is for `device_key` (kWrongDevice), in its suite, names a valid Y_i of that
// group (kMalformed), and proves possession of y_i (kContributionMismatch).
Status CheckContributionFor(const ContributionFile& c, const PublicKey& device_key);

}  // namespace vouch::formats
