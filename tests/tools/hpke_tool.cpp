// hpke_tool: vouch's side of tests/integration/hpke_x448.sh, the same commands as
// tests/hpke_js/hpke.mjs so the script can cross every sealer with every opener. Keys are raw
// (RFC 9180 SerializePublicKey / SerializePrivateKey), all bytes hex.
//
//   hpke_tool keygen SUITE                         prints skR, then pkR
//   hpke_tool seal SUITE PKR INFO AAD PT           prints enc, then ct
//   hpke_tool open SUITE SKR ENC INFO AAD CT       prints pt; exit 1 if refused
//
// SUITE is a name of hpke.h's suites: P256-HPKE-SHA256-AES128GCM,
// X25519-HPKE-SHA256-CHACHA20POLY1305 or X448-HPKE-SHA512-AES256GCM.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "libvoucher/encoding.h"
#include "libvoucher/hpke.h"

using namespace vouch;

namespace {

Status Usage() {
  return Error(Code::kUsage,
               "usage: hpke_tool keygen SUITE | seal SUITE PKR INFO AAD PT | open SUITE SKR ENC INFO AAD CT");
}

Status Run(const std::vector<std::string_view>& args) {
  if (args.size() < 2) return Usage();
  const hpke::CipherSuite* suite = hpke::FindSuite(args[1]);
  if (!suite) return Error(Code::kUsage, "unknown suite '" + std::string(args[1]) + "'");
  std::vector<Bytes> hex;
  for (size_t i = 2; i < args.size(); ++i) {
    auto b = HexDecode(args[i]);
    if (!b.ok()) return b.status().Context("argument " + std::to_string(i));
    hex.push_back(std::move(b).value());
  }
  const std::string_view command = args[0];
  if (command == "keygen" && hex.empty()) {
    VOUCH_ASSIGN_OR_RETURN(hpke::KeyPtr sk, hpke::GenerateKeyPair(*suite));
    VOUCH_ASSIGN_OR_RETURN(SecretBytes skm, hpke::SerializePrivateKey(*suite, sk.get()));
    VOUCH_ASSIGN_OR_RETURN(Bytes pkm, hpke::SerializePublicKey(*suite, sk.get()));
    std::printf("%s\n%s\n", HexEncode(skm.view()).c_str(), HexEncode(pkm).c_str());
    return Status::Ok();
  }
  if (command == "seal" && hex.size() == 4) {
    VOUCH_ASSIGN_OR_RETURN(hpke::KeyPtr pk, hpke::DeserializePublicKey(*suite, hex[0]));
    VOUCH_ASSIGN_OR_RETURN(hpke::Sealed sealed, hpke::Seal(*suite, pk.get(), hex[1], hex[2], hex[3]));
    std::printf("%s\n%s\n", HexEncode(sealed.enc).c_str(), HexEncode(sealed.ct).c_str());
    return Status::Ok();
  }
  if (command == "open" && hex.size() == 5) {
    VOUCH_ASSIGN_OR_RETURN(hpke::KeyPtr sk, hpke::DeserializePrivateKey(*suite, hex[0]));
    VOUCH_ASSIGN_OR_RETURN(SecretBytes pt, hpke::Open(*suite, sk.get(), hex[1], hex[2], hex[3], hex[4]));
    std::printf("%s\n", HexEncode(pt.view()).c_str());
    return Status::Ok();
  }
  return Usage();
}

}  // namespace

int main(int argc, char** argv) {
  const Status s = Run(std::vector<std::string_view>(argv + 1, argv + argc));
  if (s.ok()) return 0;
  std::fprintf(stderr, "hpke_tool: %s\n", s.ToString().c_str());
  return s.code() == Code::kUsage ? 2 : 1;
}
