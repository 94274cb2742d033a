// make_vouchers N DIR [SIGNER.key SIGNER.pem]: N signed enrolling vouchers for N fresh
// device keys, filed at their layout paths under DIR. A test generator: it makes inputs in
// bulk faster than N runs of `vouch-device init` and `vouch issue` would.
#include <cstdio>
#include <filesystem>
#include <string>

#include "formats/envelope.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"
#include "libvoucher/file.h"
#include "libvoucher/issue.h"

using namespace vouch;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 3 && argc != 5) {
    std::fprintf(stderr, "usage: make_vouchers N DIR [SIGNER.key SIGNER.pem]\n");
    return 2;
  }
  long n = std::stol(argv[1]);
  fs::path dir = argv[2];
  formats::Signer signer;
  if (argc == 5) {
    signer.key = *LoadPrivateKey(argv[3]);
    signer.chain = *LoadCertificates(argv[4]);
  } else {
    signer.key = *PrivateKey::Generate();
    CertSpec s;
    s.common_name = "make_vouchers signer";
    s.ca = true;
    signer.chain = {*SelfSign(signer.key, s)};
  }
  DraftRequest r;
  r.domain_ca = signer.chain[0];
  r.serial_number = "GEN";
  for (long i = 0; i < n; ++i) {
    r.device_key = PrivateKey::Generate()->Public();
    r.created_on = Instant::Now();
    auto draft = DraftVoucher(r);
    auto env = formats::SignEnvelope(formats::EnvelopeKind::kJws, formats::EncodeVoucher(draft->voucher), signer);
    if (!draft.ok() || !env.ok()) return 1;
    fs::path p = dir / formats::LayoutPath({r.device_key.Fingerprint(), formats::VoucherId(formats::EnvelopeKind::kJws, *env),
                                            formats::EnvelopeKind::kJws});
    fs::create_directories(p.parent_path());
    if (!WriteFileAtomic(p, *env).ok()) return 1;
  }
  return 0;
}
