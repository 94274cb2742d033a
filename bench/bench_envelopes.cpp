// The three envelopes of one voucher (DESIGN.md section 5): JWS, CMS and COSE, same content, same
// P-256 signer with its root in the chain. Sizes against JWS (the default envelope: ratio = size /
// JWS size), and signing and verifying speed against `openssl speed ecdsap256` in the same run:
// signing an envelope costs one ECDSA sign (ratio to 1 sign), verifying one costs the envelope's
// signature and the signer certificate's under the root (ratio to 2 verifies).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/anchor.h"
#include "bench/setup.h"
#include "formats/envelope.h"
#include "libvoucher/issue.h"

using namespace vouch;

int main() {
  std::printf("vouch envelopes benchmark (one core): one voucher as JWS, CMS and COSE\n");
  std::printf("anchor: openssl speed -seconds 2 ecdsap256\n");
  auto speed = bench::OpensslSpeed("ecdsap256");
  double sign = speed["ecdsa sign (nistp256)"], verify = speed["ecdsa verify (nistp256)"];
  if (sign <= 0 || verify <= 0) {
    std::fprintf(stderr, "bench_envelopes: openssl speed printed no ecdsa p256 line\n");
    return 1;
  }
  std::printf("  openssl ecdsa sign (nistp256)   %10.0f op/s\n  openssl ecdsa verify (nistp256) %10.0f op/s\n", sign, verify);

  PrivateKey root_key = bench::Must(PrivateKey::Generate(), "root key"), signer_key = bench::Must(PrivateKey::Generate(), "signer key");
  PrivateKey owner_key = bench::Must(PrivateKey::Generate(), "owner key");
  Certificate root = bench::Must(SelfSign(root_key, bench::Spec("Bench Root", true)), "root");
  Certificate signer_cert = bench::Must(IssueCertificate(root, root_key, signer_key.Public(), bench::Spec("Bench Signer", false)), "signer");
  formats::Signer signer{signer_key, {signer_cert, root}};
  DraftRequest r;
  r.device_key = bench::Must(PrivateKey::Generate(), "device key").Public();
  r.serial_number = "BENCH-0001";
  r.domain_ca = bench::Must(SelfSign(owner_key, bench::Spec("Bench Owner CA", true)), "owner");
  r.domain_ca_key = owner_key;
  r.created_on = Instant::Now().WholeSeconds();
  Voucher enrolling = bench::Must(DraftVoucher(r), "draft").voucher;
  Voucher plain = enrolling;
  plain.enrollment.reset();

  struct Variant {
    const char* name;
    const Voucher* voucher;
  };
  size_t jws_size[2] = {0, 0};
  for (int vi = 0; vi < 2; ++vi) {
    const Variant v = vi == 0 ? Variant{"enrolling voucher (1 contribution, certificate for Z)", &enrolling}
                              : Variant{"plain RFC 8366 voucher", &plain};
    std::printf("\n%s\n", v.name);
    std::printf("  %-6s %7s %6s %10s %7s %10s %7s\n", "", "bytes", "size", "sign us", "ratio", "verify us", "ratio");
    for (formats::EnvelopeKind kind : formats::kEnvelopeKinds) {
      formats::Envelope e = bench::Must(formats::SignVoucher(*v.voucher, kind, signer), "sign");
      if (kind == formats::EnvelopeKind::kJws) jws_size[vi] = e.bytes.size();
      double s = bench::TimePerOp([&] { (void)formats::SignVoucher(*v.voucher, kind, signer); });
      double t = bench::TimePerOp([&] {
        if (!formats::VerifyVoucher(e, {root}, TimePolicy::Now()).ok()) std::abort();
      });
      std::printf("  %-6s %7zu %6.2f %10.1f %7.2f %10.1f %7.2f\n", std::string(formats::KindName(kind)).c_str(),
                  e.bytes.size(), double(e.bytes.size()) / double(jws_size[vi]), s * 1e6, s * sign, t * 1e6,
                  t * verify / 2);
    }
  }
  std::printf("\nsize = bytes / JWS bytes; sign ratio = us / (1 ecdsa sign); verify ratio = us / (2 ecdsa verifies)\n");
  return 0;
}
