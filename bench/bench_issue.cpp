// Issuing throughput against the bound `openssl speed` gives for the same primitives, in
// one run (DESIGN.md section 10, issue 3).
//
// One voucher costs: draw y (a base-point multiplication), HPKE seal (an ephemeral key and one
// ECDH), the certificate for Z (one ECDSA signature) and the envelope (one ECDSA signature),
// plus hashing, AES-GCM and encodings. The bound is 3 ECDH-equivalent multiplications and 2
// ECDSA signatures at `openssl speed`'s rates; the ratio says how close issuing comes to it.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "bench/anchor.h"
#include "bench/setup.h"
#include "formats/envelope.h"
#include "formats/voucher_json.h"
#include "libvoucher/issue.h"

using namespace vouch;

namespace {

struct Setup {
  formats::Signer signer;
  DraftRequest request;
};

Setup MakeSetup() {
  auto mfr = *PrivateKey::Generate();
  auto owner = *PrivateKey::Generate();
  Setup s{{mfr, {*SelfSign(mfr, bench::Spec("Bench Manufacturer", true))}}, {}};
  s.request.domain_ca = *SelfSign(owner, bench::Spec("Bench Owner", true));
  s.request.domain_ca_key = owner;
  s.request.serial_number = "BENCH-1";
  return s;
}

// Issues vouchers on `threads` threads for about `seconds`; returns vouchers per second.
double Rate(const Setup& s, const std::vector<PublicKey>& devices, unsigned threads, double seconds) {
  std::atomic<long> done{0};
  std::atomic<bool> stop{false};
  auto worker = [&](unsigned t) {
    size_t i = t;
    while (!stop.load(std::memory_order_relaxed)) {
      DraftRequest r = s.request;
      r.device_key = devices[i++ % devices.size()];
      auto draft = DraftVoucher(r);
      auto env = formats::SignVoucher(draft->voucher, formats::EnvelopeKind::kJws, s.signer);
      if (!env.ok()) std::abort();
      done.fetch_add(1, std::memory_order_relaxed);
    }
  };
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker, t);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(done.load()) / elapsed;
}

}  // namespace

int main() {
  Setup s = MakeSetup();
  std::vector<PublicKey> devices;
  for (int i = 0; i < 64; ++i) devices.push_back(PrivateKey::Generate()->Public());
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());

  std::printf("vouch issue benchmark: JWS vouchers with a certificate for Z, in memory\n");
  auto one = bench::OpensslSpeed("ecdhp256 ecdsap256");
  auto all = bench::OpensslSpeed("-multi " + std::to_string(cores) + " ecdhp256 ecdsap256");
  auto bound = [](std::map<std::string, double>& m) {
    return 1.0 / (3.0 / m["ecdh (nistp256)"] + 2.0 / m["ecdsa sign (nistp256)"]);
  };
  double r1 = Rate(s, devices, 1, 3.0);
  double rn = Rate(s, devices, cores, 3.0);
  double b1 = bound(one), bn = bound(all);
  std::printf("anchor: openssl speed ecdhp256 ecdsap256 (bound = 1 / (3/ecdh + 2/sign))\n");
  std::printf("  %-10s %12s %16s %8s\n", "cores", "vouchers/s", "openssl bound/s", "ratio");
  std::printf("  %-10u %12.0f %16.0f %8.2f\n", 1u, r1, b1, r1 / b1);
  std::printf("  %-10u %12.0f %16.0f %8.2f\n", cores, rn, bn, rn / bn);
  std::printf("  scaling %u cores: %.2fx\n", cores, rn / r1);
  return 0;
}
