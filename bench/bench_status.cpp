// `vouch cache status` of a fleet against a named anchor, in one run (issue 14: a fleet of
// 10,000 devices answers in under a second):
//   status of every device        vs  `git ls-tree -r` + `git cat-file --batch` of the same
//                                     blobs (reading every voucher and receipt once, no parsing),
//                                     cold (nothing known: every blob decoded) and warm (the
//                                     facts of earlier runs kept: cache/status_facts.h)
//   status of every device, named one by one (--devices FILE of all of them)
//   status of one device (--device UDF)
// Everything measured runs as its own process, from a parent kept small (see bench/run.h).
//
// The cache is built with `git fast-import` from synthetic files: vouchers and receipts of the
// real shape and size (a real certificate for Z in every voucher and receipt, each device's
// own), with random bytes for signatures. Status checks no signature (cache/status.h), so it
// reads these exactly as real ones; `cache verify` would refuse them.
//
//   bench_status [DEVICES]        default 10000
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bench/run.h"
#include "cache/receipts.h"
#include "formats/datetime.h"
#include "formats/envelope.h"
#include "formats/layout.h"
#include "formats/receipt.h"
#include "formats/voucher_json.h"
#include "libvoucher/cert.h"
#include "libvoucher/encoding.h"
#include "libvoucher/key.h"
#include "libvoucher/udf.h"

using namespace vouch;
namespace fs = std::filesystem;

namespace {

constexpr int kRuns = 5;

struct Stream {
  std::ofstream out;
  std::ostringstream tree;
  size_t marks = 0;
  void Add(const std::string& path, const std::string& bytes) {
    ++marks;
    out << "blob\nmark :" << marks << "\ndata " << bytes.size() << "\n" << bytes << "\n";
    tree << "M 100644 :" << marks << " " << path << "\n";
  }
  void Commit() { out << "commit refs/heads/vouchers\ncommitter vouch <vouch@localhost> 0 +0000\ndata 0\n" << tree.str() << "\n"; }
};

// A JWS in the general serialization with random signatures, one per protected header.
std::string Jws(const std::string& payload, const std::vector<std::string>& headers, std::mt19937_64& rng) {
  std::string doc = R"({"payload":")" + Base64UrlEncode(AsBytes(payload)) + R"(","signatures":[)";
  for (size_t i = 0; i < headers.size(); ++i) {
    Bytes sig(64);
    for (auto& b : sig) b = static_cast<uint8_t>(rng());
    doc += std::string(i ? "," : "") + R"({"protected":")" + Base64UrlEncode(AsBytes(headers[i])) + R"(","signature":")" +
           Base64UrlEncode(sig) + R"("})";
  }
  return doc + "]}";
}

// The fleet: every device has a voucher with a certificate for Z (one in ten a second, newer
// one: a renewal); four in five have enrolled (a receipt), one in ten of those twice. Half the
// certificates end within 20 days, so renewal is due for about half the fleet.
std::vector<std::string> MakeFleet(size_t devices, Stream* stream) {
  std::mt19937_64 rng(14);
  PrivateKey ca_key = *PrivateKey::Generate();
  Certificate ca = *SelfSign(ca_key, CertSpec{"Owner CA", "", "Owner", true});
  std::vector<std::string> udfs;
  const Instant now = Instant::Now().WholeSeconds();  // vouchers carry whole seconds
  for (size_t i = 0; i < devices; ++i) {
    PublicKey x = PrivateKey::Generate()->Public();
    PublicKey z = PrivateKey::Generate()->Public();
    CertSpec spec{"device " + std::to_string(i), "SN-" + std::to_string(i), "", false};
    spec.days = i % 2 ? 20 : 3650;
    Bytes cert = *IssueCertificateDer(ca, ca_key, z, spec);
    std::string device = x.Fingerprint();
    udfs.push_back(device);
    std::string voucher_id;
    for (int k = 0; k < (i % 10 == 0 ? 2 : 1); ++k) {
      Voucher v;
      v.created_on = now.Plus(-86400 + k * 3600 - static_cast<int64_t>(i));
      v.assertion = "verified";
      v.serial_number = "SN-" + std::to_string(i);
      v.pinned_domain_cert = ca.Der();
      Enrollment e;
      e.device_key = device;
      e.suite = "P256-HPKE-SHA256-AES128GCM";
      e.contributions.push_back(SealedContribution{PrivateKey::Generate()->Public().SpkiDer(), Bytes(65, 7), Bytes(48, 9), Bytes(64, 3)});
      e.combined_key = z.SpkiDer();
      e.certificate = cert;
      v.enrollment = e;
      Bytes encoded = *formats::EncodeVoucher(v);
      std::string jws = Jws(std::string(encoded.begin(), encoded.end()), {R"({"alg":"ES256","typ":"voucher-jws+json"})"}, rng);
      voucher_id = formats::VoucherId(formats::EnvelopeKind::kJws, AsBytes(jws));
      stream->Add(formats::LayoutPath({device, voucher_id, formats::EnvelopeKind::kJws}), jws);
    }
    if (i % 5 == 4) continue;  // not enrolled yet
    for (int generation = 1; generation <= (i % 10 == 3 ? 2 : 1); ++generation) {
      nlohmann::ordered_json r;
      r["device-key"] = device;
      r["device-public-key"] = Base64Encode(x.SpkiDer());
      r["serial-number"] = "SN-" + std::to_string(i);
      r["voucher-id"] = voucher_id;
      r["combined-key"] = Base64Encode(z.SpkiDer());
      r["generation"] = generation;
      r["time"] = formats::FormatDateTime(now.Plus(-3600 + generation));
      r["certificate"] = Base64Encode(cert);
      nlohmann::ordered_json payload = {{"vouch-receipt", r}};
      std::string kid_z = R"({"alg":"ES256","typ":"vouch-receipt+jws","kid":")" + z.Fingerprint() + R"("})";
      std::string kid_x = R"({"alg":"ES256","typ":"vouch-receipt+jws","kid":")" + device + R"("})";
      std::string jws = Jws(payload.dump(), {kid_z, kid_x}, rng);
      stream->Add(*cache::ReceiptTreePath(device, formats::ReceiptId(AsBytes(jws))), jws);
    }
  }
  return udfs;
}

void Print(const char* what, const bench::RunResult& r, const bench::RunResult& anchor) {
  std::printf("  %-44s %8.3f s %8.1f MiB   ratio %.2f\n", what, r.seconds, static_cast<double>(r.max_rss_kib) / 1024,
              r.seconds / anchor.seconds);
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::stoul(argv[1]) : 10000;
  fs::path work = fs::temp_directory_path() / ("vouch-bench-status-" + std::to_string(getpid()));
  fs::create_directories(work);
  const std::string vouch = VOUCH_PATH, cache = (work / "cache.git").string();
  std::printf("vouch cache status benchmark: %zu devices\n", n);
  std::fflush(stdout);
  // Made in a child, so that the parent that measures stays small (bench/run.h).
  bench::InChild([&] {
    Stream stream;
    stream.out.open(work / "stream", std::ios::binary);
    std::vector<std::string> udfs = MakeFleet(n, &stream);
    stream.Commit();
    std::ofstream devices(work / "fleet.txt");
    for (const auto& u : udfs) devices << u << "\n";
  });
  bench::ImportStream(vouch, cache, (work / "stream").string());
  std::string one;
  std::getline(std::ifstream(work / "fleet.txt"), one);

  // The anchor reads every blob of the branch once: the least any status must do.
  const std::string anchor_cmd = "git --git-dir " + cache + " ls-tree -r refs/heads/vouchers | cut -f1 | cut -d' ' -f3 | git --git-dir " +
                                 cache + " cat-file --batch > /dev/null";
  auto anchor = bench::RunMedian({"sh", "-c", anchor_cmd}, kRuns);
  // Cold: nothing known of the blobs (cache/status_facts.h), every voucher and receipt decoded.
  const std::string facts = (work / "cache.git" / "vouch" / "status-facts").string();
  auto cold = bench::RunMedian({"sh", "-c", "rm -f " + facts + " && " + vouch + " cache status --cache " + cache + " --json >/dev/null"}, kRuns);
  // Warm: what every later run costs (only blobs new since the last are read).
  bench::RunOnce({vouch, "cache", "status", "--cache", cache, "--json"}, (work / "status.json").string());
  auto all = bench::RunMedian({vouch, "cache", "status", "--cache", cache, "--json"}, kRuns);
  auto named = bench::RunMedian({vouch, "cache", "status", "--cache", cache, "--devices", (work / "fleet.txt").string(), "--json"}, kRuns);
  auto single = bench::RunMedian({vouch, "cache", "status", "--cache", cache, "--device", one, "--json"}, kRuns);

  std::ifstream in(work / "status.json");
  auto doc = nlohmann::json::parse(in, nullptr, false);
  std::printf("  status says %s\n\n", doc.is_discarded() ? "?" : doc["summary"].dump().c_str());
  std::printf("anchor: git ls-tree -r | git cat-file --batch, every blob of the branch (median of %d)\n", kRuns);
  std::printf("  %-44s %8.3f s %8.1f MiB\n", "git ls-tree -r + git cat-file --batch", anchor.seconds,
              static_cast<double>(anchor.max_rss_kib) / 1024);
  Print("vouch cache status, cold (first run)", cold, anchor);
  Print("vouch cache status (every device)", all, anchor);
  Print("vouch cache status --devices (all, by name)", named, anchor);
  Print("vouch cache status --device (one)", single, anchor);
  std::printf("  goal: every device under 1 s: %s (cold: %s)\n", all.seconds < 1.0 ? "met" : "NOT met", cold.seconds < 1.0 ? "met" : "not met");
  if (!std::getenv("VOUCH_BENCH_KEEP")) fs::remove_all(work);
  return all.exit_code == 0 && named.exit_code == 0 && single.exit_code == 0 ? 0 : 1;
}
