// The three suites (DESIGN.md section 3) against `openssl speed` for the same curve, in one
// run (DESIGN.md section 10).
//
// Each vouch operation is timed per suite and divided by the openssl operation that bounds it
// on the same curve ("ratio" = vouch time / anchor time: 1.00 is openssl's speed, higher is
// slower). The anchors and what each operation costs in them:
//   co-generation  Contribute(X): draw y, Y = y*G (1 fixed-base mult), Z = X + Y
//                  ~ 1 sign: ecdsa sign p256, EdDSA sign Ed25519, EdDSA sign Ed448
//   seal           Seal(X, udf, y): HPKE keygen (1 mult) + 1 DH + KDF + AEAD
//                  ~ 2 ecdh: ecdh p256, ecdh X25519, ecdh X448; the ratio is to 2 ecdh ops
//   open           Open(x, udf, sealed): 1 DH + KDF + AEAD + the y*G = Y check ~ 1 ecdh
//   enroll n       what the device does per voucher once the public checks pass (enroll.cpp):
//                  n x (Open + CombinePrivate) and z*G = Z ~ n ecdh
//   issue n        formats::IssueVoucher, JWS, certificate for Z, P-256 signer and domain CA,
//                  with n - 1 contributions sealed beforehand (`vouch contribute`): 1
//                  co-generation + 1 seal (3 mults in the suite's curve) + 2 P-256 signatures
//                  (certificate and envelope), the bound bench_issue uses: 3/ecdh + 2/sign.
//                  The other contributions add point decoding and additions, not mults.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/anchor.h"
#include "bench/setup.h"
#include "formats/issuing.h"
#include "libvoucher/cogen.h"
#include "libvoucher/issue.h"
#include "libvoucher/suite.h"

using namespace vouch;

namespace {

struct SuiteBench {
  const char* flag;       // p256, x25519, x448
  Group group;
  const char* speed_algs;  // `openssl speed` names of the anchors
  std::string ecdh_label, sign_label;  // their OpensslSpeed labels
};

struct Row {
  std::string name;
  double sec;         // vouch, per op
  std::string anchor; // what it is divided by
  double anchor_sec;  // that, per op
};

// The owner's issuing setup, shared by all suites: a P-256 manufacturer signer and domain CA.
struct Issuer {
  formats::Signer signer;
  DraftRequest request;
};

Issuer MakeIssuer() {
  auto mfr = bench::Must(PrivateKey::Generate(), "manufacturer key");
  auto owner = bench::Must(PrivateKey::Generate(), "owner key");
  Issuer s{{mfr, {bench::Must(SelfSign(mfr, bench::Spec("Bench Manufacturer", true)), "manufacturer cert")}}, {}};
  s.request.domain_ca = bench::Must(SelfSign(owner, bench::Spec("Bench Owner", true)), "owner cert");
  s.request.domain_ca_key = owner;
  s.request.serial_number = "BENCH-1";
  return s;
}

}  // namespace

int main() {
  const SuiteBench suites[] = {
      {"p256", Group::kP256, "ecdhp256 ecdsap256", "ecdh (nistp256)", "ecdsa sign (nistp256)"},
      {"x25519", Group::kEd25519, "ecdhx25519 ed25519", "ecdh (X25519)", "EdDSA sign (Ed25519)"},
      {"x448", Group::kEd448, "ecdhx448 ed448", "ecdh (X448)", "EdDSA sign (Ed448)"},
  };
  std::printf("vouch suites benchmark (one core): p256, x25519, x448 against openssl on the same curve\n");
  std::printf("anchor: openssl speed -seconds 2 ecdhp256 ecdsap256 ecdhx25519 ed25519 ecdhx448 ed448\n");
  auto speed = bench::OpensslSpeed("ecdhp256 ecdsap256 ecdhx25519 ed25519 ecdhx448 ed448");
  for (const SuiteBench& sb : suites) {
    for (const std::string* label : {&sb.ecdh_label, &sb.sign_label}) {
      double ops = speed[*label];
      if (ops <= 0) {
        std::fprintf(stderr, "bench_suites: openssl speed printed no %s\n", label->c_str());
        return 1;
      }
      std::printf("  openssl %-22s %10.0f op/s  (%7.1f us/op)\n", label->c_str(), ops, 1e6 / ops);
    }
  }
  const double p256_sign = 1 / speed["ecdsa sign (nistp256)"];
  std::printf("\nratio = vouch us/op / anchor us/op (1.00 = openssl's speed; higher = slower)\n");

  Issuer issuer = MakeIssuer();
  struct Summary { std::vector<Row> rows; double issue_rate[2], issue_bound; };
  std::vector<Summary> summaries;

  for (const SuiteBench& sb : suites) {
    const double ecdh = 1 / speed[sb.ecdh_label], sign = 1 / speed[sb.sign_label];
    PrivateKey x = bench::Must(PrivateKey::Generate(sb.group), "device key");
    const PublicKey& X = x.Public();
    const std::string udf = X.Fingerprint();

    // Five contributions as `vouch contribute` makes them: Contribute, then Seal to X.
    std::vector<SealedContribution> sealed;
    for (int i = 0; i < 5; ++i) {
      auto c = bench::Must(cogen::Contribute(X), "contribute");
      sealed.push_back(bench::Must(cogen::Seal(X, udf, c.y), "seal"));
    }
    PrivateKey y = bench::Must(cogen::Contribute(X), "contribute").y;
    // Z for the first n contributions, as the voucher names it.
    auto combined = [&](size_t n) {
      std::vector<PublicKey> ys;
      for (size_t i = 0; i < n; ++i) ys.push_back(bench::Must(PublicKey::FromSpkiDer(*sealed[i].key), "Y"));
      return bench::Must(cogen::CombinePublic(X, ys), "combine public");
    };
    const PublicKey z1 = combined(1), z5 = combined(5);
    // The device's work for a voucher with n contributions (enroll.cpp, after CheckEnrollment).
    auto enroll = [&](size_t n, const PublicKey& z) {
      Result<PrivateKey> sum = x;
      for (size_t i = 0; i < n; ++i) {
        PrivateKey yi = bench::Must(cogen::Open(x, udf, sealed[i]), "open");
        sum = cogen::CombinePrivate(*sum, yi);
        if (!sum.ok()) std::abort();
      }
      if (!(sum->Public() == z)) std::abort();
    };
    // Issuing with n contributions: the owner's own and n - 1 sealed beforehand.
    auto issue = [&](size_t n) {
      DraftRequest r = issuer.request;
      r.device_key = X;
      r.contributions.assign(sealed.begin(), sealed.begin() + static_cast<long>(n - 1));
      auto issued = formats::IssueVoucher(r, formats::EnvelopeKind::kJws, issuer.signer);
      if (!issued.ok()) {
        std::fprintf(stderr, "bench_suites: issue: %s\n", issued.status().message().c_str());
        std::exit(1);
      }
    };
    const double bound = 3 * ecdh + 2 * p256_sign;
    const std::string& ecdh_name = sb.ecdh_label;
    const std::string& sign_name = sb.sign_label;

    Summary s;
    s.rows = {
        {"co-generation", bench::TimePerOp([&] { (void)cogen::Contribute(X); }), "1 x " + sign_name, sign},
        {"seal (y to X)", bench::TimePerOp([&] { (void)cogen::Seal(X, udf, y); }), "2 x " + ecdh_name, 2 * ecdh},
        {"open", bench::TimePerOp([&] { (void)cogen::Open(x, udf, sealed[0]); }), "1 x " + ecdh_name, ecdh},
        {"enroll n=1 (open+combine)", bench::TimePerOp([&] { enroll(1, z1); }), "1 x " + ecdh_name, ecdh},
        {"enroll n=5 (open+combine)", bench::TimePerOp([&] { enroll(5, z5); }), "5 x " + ecdh_name, 5 * ecdh},
        {"issue n=1 (JWS, cert Z)", bench::TimePerOp([&] { issue(1); }), "3 x ecdh + 2 x ecdsa p256", bound},
        {"issue n=5 (JWS, cert Z)", bench::TimePerOp([&] { issue(5); }), "3 x ecdh + 2 x ecdsa p256", bound},
    };
    std::printf("\nsuite %s (%s)\n", sb.flag, std::string(SuiteName(SuiteOfGroup(sb.group))).c_str());
    std::printf("  %-26s %9s %9s   %-30s %9s %7s\n", "operation", "us/op", "op/s", "anchor", "anchor us", "ratio");
    for (const Row& r : s.rows) {
      std::printf("  %-26s %9.1f %9.0f   %-30s %9.1f %7.2f\n", r.name.c_str(), r.sec * 1e6, 1 / r.sec, r.anchor.c_str(),
                  r.anchor_sec * 1e6, r.sec / r.anchor_sec);
    }
    s.issue_rate[0] = 1 / s.rows[5].sec;
    s.issue_rate[1] = 1 / s.rows[6].sec;
    s.issue_bound = 1 / bound;
    summaries.push_back(std::move(s));
  }

  // bench_issue's form: vouchers/s against the openssl bound, ratio = rate / bound.
  std::printf("\nissuing, one core (bound = 1 / (3/ecdh of the suite's curve + 2/ecdsa sign p256); ratio = rate / bound)\n");
  std::printf("  %-8s %16s %16s %16s %8s %8s\n", "suite", "n=1 vouchers/s", "n=5 vouchers/s", "openssl bound/s", "n=1", "n=5");
  for (size_t i = 0; i < summaries.size(); ++i) {
    const Summary& s = summaries[i];
    std::printf("  %-8s %16.0f %16.0f %16.0f %8.2f %8.2f\n", suites[i].flag, s.issue_rate[0], s.issue_rate[1],
                s.issue_bound, s.issue_rate[0] / s.issue_bound, s.issue_rate[1] / s.issue_bound);
  }

  std::printf("\nsummary: ratio to the anchor (vouch time / openssl time)\n");
  std::printf("  %-26s %8s %8s %8s\n", "operation", "p256", "x25519", "x448");
  for (size_t r = 0; r < summaries[0].rows.size(); ++r) {
    std::printf("  %-26s", summaries[0].rows[r].name.c_str());
    for (const Summary& s : summaries) std::printf(" %8.2f", s.rows[r].sec / s.rows[r].anchor_sec);
    std::printf("\n");
  }
  return 0;
}
