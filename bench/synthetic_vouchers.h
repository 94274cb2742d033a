// Synthetic vouchers for benchmarks: right-sized JWS envelopes with random signatures, filed
// at their layout paths (a cache without anchors does not check signatures).
#pragma once

#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <sstream>
#include <string>

#include "formats/envelope.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"
#include "libvoucher/encoding.h"
#include "libvoucher/udf.h"

namespace vouch::bench {

// Right-sized JWS vouchers for random device keys, filed at their layout paths under `dir`.
// Their signatures are random bytes: a cache checks signatures only when it holds anchors,
// and these caches do not. With `stream`, also the same blobs and tree for git fast-import;
// with an empty `dir`, only that stream.
inline void MakeVouchers(const std::filesystem::path& dir, size_t n, uint64_t seed, std::ostream* stream) {
  std::mt19937_64 rng(seed);
  auto random = [&](size_t k) {
    Bytes b(k);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    return b;
  };
  Bytes cert = random(400);
  std::string header = Base64UrlEncode(AsBytes(R"({"alg":"ES256","typ":"voucher-jws+json"})"));
  std::ostringstream tree;
  for (size_t i = 0; i < n; ++i) {
    Voucher v;
    v.created_on = Instant::Now().WholeSeconds();
    v.assertion = "verified";
    v.serial_number = "SN-" + std::to_string(seed) + "-" + std::to_string(i);
    v.pinned_domain_cert = cert;
    Enrollment e;
    e.device_key = udf::KeyFingerprint(random(91));
    e.suite = "P256-HPKE-SHA256-AES128GCM";
    e.contributions.push_back(SealedContribution{random(91), random(65), random(48)});
    e.combined_key = random(91);
    v.enrollment = e;
    std::string jws = R"({"payload":")" + Base64UrlEncode(*formats::EncodeVoucher(v)) + R"(","signatures":[{"protected":")" +
                      header + R"(","signature":")" + Base64UrlEncode(random(64)) + R"("}]})";
    std::string path = formats::LayoutPath({e.device_key, formats::VoucherId(formats::EnvelopeKind::kJws, AsBytes(jws)),
                                            formats::EnvelopeKind::kJws});
    if (!dir.empty()) {
      std::filesystem::create_directories((dir / path).parent_path());
      std::ofstream(dir / path, std::ios::binary) << jws;
    }
    if (stream) {
      *stream << "blob\nmark :" << i + 1 << "\ndata " << jws.size() << "\n" << jws << "\n";
      tree << "M 100644 :" << i + 1 << " " << path << "\n";
    }
  }
  if (stream) *stream << "commit refs/heads/vouchers\ncommitter vouch <vouch@localhost> 0 +0000\ndata 0\n" << tree.str() << "\n";
}

}  // namespace vouch::bench
