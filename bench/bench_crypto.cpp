// Crypto core against `openssl speed`, in one run (DESIGN.md section 10).
//
// The anchor is OpenSSL's own P-256 ECDH and ECDSA throughput on this machine. Each vouch
// operation is reported per op and as a multiple of one ECDH, the primitive that bounds it:
//   co-generation (owner)  = draw y (1 base-point mult) + X + Y      ~ 1 ECDH
//   HPKE seal              = ephemeral key (1 mult) + ECDH (1 mult) + KDF + AES ~ 2 ECDH
//   HPKE open              = ECDH (1 mult) + KDF + AES                  ~ 1 ECDH
//   device combine (x + y) = scalar add + z*G check (1 mult)            ~ 1 ECDH
#include <cstdio>

#include "bench/anchor.h"
#include "libvoucher/cogen.h"
#include "libvoucher/signing_key.h"
#include "libvoucher/hpke.h"

using namespace vouch;

int main() {
  auto x = *PrivateKey::Generate();
  auto y = *PrivateKey::Generate();
  auto sealed = *hpke::Seal(x.Public(), AsBytes("vouch enrolling voucher v1"), AsBytes("aad"), y.Scalar().view());
  Bytes msg(512, 'v');

  struct Row { const char* name; double sec; double anchor_ops; const char* anchor; };
  std::printf("vouch crypto benchmark (one core)\n");
  std::printf("anchor: openssl speed -seconds 2 ecdhp256 ecdsap256 ...\n");
  auto speed = bench::OpensslSpeed("ecdhp256 ecdsap256");
  double ecdh = speed["ecdh (nistp256)"], sign = speed["ecdsa sign (nistp256)"],
         verify = speed["ecdsa verify (nistp256)"];
  std::printf("  openssl ecdh p256      %10.0f op/s  (%7.1f us/op)\n", ecdh, 1e6 / ecdh);
  std::printf("  openssl ecdsa sign     %10.0f op/s  (%7.1f us/op)\n", sign, 1e6 / sign);
  std::printf("  openssl ecdsa verify   %10.0f op/s  (%7.1f us/op)\n\n", verify, 1e6 / verify);

  Row rows[] = {
      {"co-generation (owner)", bench::TimePerOp([&] { (void)cogen::Contribute(x.Public()); }), ecdh, "ecdh"},
      {"combine z = x + y", bench::TimePerOp([&] { (void)cogen::CombinePrivate(x, y); }), ecdh, "ecdh"},
      {"hpke seal (32 B)", bench::TimePerOp([&] {
         (void)hpke::Seal(x.Public(), AsBytes("vouch enrolling voucher v1"), AsBytes("aad"), y.Scalar().view());
       }), ecdh, "ecdh"},
      {"hpke open (32 B)", bench::TimePerOp([&] {
         (void)hpke::Open(x, sealed.enc, AsBytes("vouch enrolling voucher v1"), AsBytes("aad"), sealed.ct);
       }), ecdh, "ecdh"},
      {"es256 sign (512 B)", bench::TimePerOp([&, signer = SigningKey(x)] { (void)signer.Sign(msg); }), sign, "ecdsa sign"},
  };
  std::printf("  %-24s %10s %10s   %s\n", "operation", "us/op", "op/s", "cost in anchor ops");
  for (const Row& r : rows) {
    std::printf("  %-24s %10.1f %10.0f   %5.2f x %s\n", r.name, r.sec * 1e6, 1 / r.sec,
                r.sec * r.anchor_ops, r.anchor);
  }
  return 0;
}
