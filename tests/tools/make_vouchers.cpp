// make_vouchers N DIR [SIGNER.key SIGNER.pem]: N signed enrolling vouchers for N fresh
// device keys, filed at their layout paths under DIR. A test generator: it makes inputs in
// bulk faster than N runs of `vouch-device init` and `vouch issue` would.
// make_vouchers --heavy N SRC.vjj DEVICE-UDF DIR: N variants of one valid JWS voucher (each
// with distinct leading white space, so a distinct id), filed under DEVICE-UDF: candidates
// that cost a device the most a voucher can, since each verifies and decrypts.
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

static int Heavy(long n, const fs::path& src, const std::string& udf, const fs::path& dir) {
  auto raw = ReadFile(src, 1 << 16);
  if (!raw.ok()) return 1;
  std::string text(raw->begin(), raw->end());
  const std::string& body = text;
  for (long i = 1; i <= n; ++i) {
    std::string v = std::string(static_cast<size_t>(i), ' ') + body;
    Bytes bytes(v.begin(), v.end());
    fs::path p = dir / formats::LayoutPath({udf, formats::VoucherId(formats::EnvelopeKind::kJws, bytes), formats::EnvelopeKind::kJws});
    fs::create_directories(p.parent_path());
    if (!WriteFileAtomic(p, bytes).ok()) return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 6 && std::string(argv[1]) == "--heavy") return Heavy(std::stol(argv[2]), argv[3], argv[4], argv[5]);
  if (argc != 3 && argc != 5) {
    std::fprintf(stderr, "usage: make_vouchers N DIR [SIGNER.key SIGNER.pem]\n");
    return 2;
  }
  long n = std::stol(argv[1]);
  fs::path dir = argv[2];
  auto self_signed = [] {
    PrivateKey key = *PrivateKey::Generate();
    CertSpec s;
    s.common_name = "make_vouchers signer";
    s.ca = true;
    return formats::Signer{key, {*SelfSign(key, s)}};
  };
  formats::Signer signer = argc == 5 ? formats::Signer{*LoadSigningKey(argv[3]), *LoadCertificates(argv[4])} : self_signed();
  DraftRequest r;
  r.domain_ca = signer.chain[0];
  r.serial_number = "GEN";
  for (long i = 0; i < n; ++i) {
    r.device_key = PrivateKey::Generate()->Public();
    r.created_on = Instant::Now();
    auto draft = DraftVoucher(r);
    if (!draft.ok()) return 1;
    auto env = formats::SignVoucher(draft->voucher, formats::EnvelopeKind::kJws, signer);
    if (!env.ok() || !formats::FileEnvelope(*env, r.device_key.Fingerprint(), dir.string()).ok()) return 1;
  }
  return 0;
}
