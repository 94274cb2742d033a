// vouch inspect | verify: reading vouchers, without and with their signatures checked.
#include <iostream>
#include <memory>

#include "formats/datetime.h"
#include "formats/voucher_json.h"
#include "libvoucher/construction.h"
#include "libvoucher/encoding.h"
#include "libvoucher/suite.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/log_flags.h"

namespace vouch::tools {
namespace {

struct InspectFlags {
  std::string file;
  bool json = false;
};

struct VerifyFlags {
  std::string file, at, proof;
  std::vector<std::string> trust;
  LogFlags log;
  bool no_time = false, json = false;
};

struct VerifyCertFlags {
  std::string file, device_key, issuer;
  bool json = false;
};

std::string DescribeCert(ByteView der) {
  auto c = Certificate::FromDer(der);
  return c.ok() ? c->Subject() : "(does not parse)";
}

// Everything a person or script wants to know about a voucher's content.
nlohmann::ordered_json Describe(const Voucher& v) {
  nlohmann::ordered_json j;
  j["created-on"] = v.created_on_text;
  j["expires-on"] = v.expires_on ? nlohmann::ordered_json(formats::FormatDateTime(*v.expires_on)) : nullptr;
  j["assertion"] = v.assertion;
  j["serial-number"] = v.serial_number;
  if (v.nonce) j["nonce"] = *v.nonce;
  j["pinned-domain-cert"] = DescribeCert(v.pinned_domain_cert);
  if (v.enrollment) {
    const Enrollment& e = *v.enrollment;
    nlohmann::ordered_json en;
    en["device-key"] = e.device_key;
    en["suite"] = e.suite;
    // A renewal carries no contribution: the same Z, a new certificate (DESIGN.md 5).
    en["kind"] = e.contributions.empty() ? "renewal" : "enrollment";
    auto z = PublicKey::FromSpkiDer(e.combined_key);
    en["combined-key"] = z.ok() ? z->Fingerprint() : "(invalid key)";
    // Each contribution by the UDF of its Y_i; the first release's form names none.
    nlohmann::ordered_json ys = nlohmann::ordered_json::array();
    for (const SealedContribution& c : e.contributions) {
      if (!c.key) {
        ys.push_back("(not named: first-release voucher)");
        continue;
      }
      auto y = PublicKey::FromSpkiDer(*c.key);
      ys.push_back(y.ok() ? y->Fingerprint() : "(invalid key)");
    }
    en["contributions"] = std::move(ys);
    en["certificate"] = e.certificate ? nlohmann::ordered_json(DescribeCert(*e.certificate)) : nullptr;
    j["enrollment"] = en;
  } else {
    j["enrollment"] = nullptr;
  }
  return j;
}

void PrintText(const nlohmann::ordered_json& j, int indent = 0) {
  for (auto& [k, v] : j.items()) {
    std::string pad(static_cast<size_t>(indent), ' ');
    if (v.is_object()) {
      std::cout << pad << k << ":\n";
      PrintText(v, indent + 2);
    } else {
      std::string text = v.is_null() ? "-" : v.is_string() ? v.get<std::string>() : v.dump();
      std::cout << pad << k << ":" << std::string(std::max<size_t>(1, 20 - k.size() - static_cast<size_t>(indent)), ' ')
                << text << "\n";
    }
  }
}

Status RunInspect(const InspectFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(Bytes raw, ReadInput(f.file, formats::kMaxVoucherSize));
  auto opened = formats::OpenEnvelopeUnverified(raw);
  if (!opened.ok()) return opened.status().Context(f.file);
  auto voucher = formats::DecodePayload(opened->kind, opened->payload);
  if (!voucher.ok()) return voucher.status().Context(f.file);
  nlohmann::ordered_json j;
  j["file"] = f.file;
  j["envelope"] = formats::KindName(opened->kind);
  j["media-type"] = formats::MediaType(opened->kind);
  j["id"] = formats::VoucherId(opened->kind, raw);
  j["signatures"] = opened->signatures;
  nlohmann::ordered_json certs = nlohmann::ordered_json::array();
  for (const auto& c : opened->certificates) certs.push_back(c.Subject());
  j["certificates"] = certs;
  j["voucher"] = Describe(*voucher);
  j["verified"] = false;
  if (f.json) {
    std::cout << JsonText(j) << "\n";
  } else {
    PrintText(j);
    std::cerr << "vouch: note: signatures were not checked; use 'vouch verify --trust CERT.pem'\n";
  }
  return Status::Ok();
}

// With --log-key: the proof (--proof, or FILE.tlog-proof beside it) must show the voucher's
// exact bytes in that log, cosigned by the witnesses the flags ask for (the device's rule,
// device/log_policy.h). kNotLogged when there is no proof.
Status CheckProofFlags(const VerifyFlags& f, const std::optional<device::LogPolicy>& policy, const TimePolicy& time,
                       ByteView voucher) {
  if (!policy) {
    if (!f.proof.empty()) return Error(Code::kUsage, "--proof goes with --log-key");
    return Status::Ok();
  }
  if (policy->max_age_seconds && time.kind == TimePolicy::Kind::kNone) return Error(Code::kUsage, "--max-age and --no-time exclude each other");
  std::optional<Bytes> proof;
  const std::string beside = f.file + std::string(formats::tlog::kProofExtension);
  std::error_code ec;
  if (!f.proof.empty() || std::filesystem::exists(beside, ec)) {
    VOUCH_ASSIGN_OR_RETURN(Bytes p, ReadInput(f.proof.empty() ? beside : f.proof, formats::tlog::kMaxProofSize));
    proof = std::move(p);
  }
  std::optional<uint64_t> now;
  if (auto at = time.Effective(); at && at->seconds() >= 0) now = static_cast<uint64_t>(at->seconds());
  return device::CheckLogged(*policy, voucher, proof, now);
}

Status RunVerify(const VerifyFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(TimePolicy time, TimePolicyFromFlags(f.at, f.no_time));
  VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> anchors, LoadAnchors(f.trust));
  VOUCH_ASSIGN_OR_RETURN(std::optional<device::LogPolicy> policy, f.log.Policy());
  VOUCH_ASSIGN_OR_RETURN(Bytes raw, ReadInput(f.file, formats::kMaxVoucherSize));
  auto v = formats::VerifyVoucher(raw, anchors, time);
  if (v.ok()) {
    Status logged = CheckProofFlags(f, policy, time, raw);
    if (!logged.ok()) v = logged;
  }
  if (!v.ok()) {
    if (f.json) {
      PrintJson({{"file", f.file}, {"verified", false}, {"code", CodeName(v.status().code())},
                 {"message", v.status().message()}});
    }
    return v.status().Context(f.file);
  }
  if (f.json) {
    nlohmann::ordered_json j;
    j["file"] = f.file;
    j["verified"] = true;
    j["id"] = v->id;
    j["envelope"] = formats::KindName(v->envelope.kind);
    j["signer"] = v->envelope.signer.Subject();
    j["anchor"] = v->envelope.anchor.Subject();
    j["logged"] = policy ? nlohmann::ordered_json(policy->log.name) : nullptr;
    j["voucher"] = Describe(v->voucher);
    std::cout << JsonText(j) << "\n";
  } else {
    std::cout << "verified: " << f.file << "\n"
              << "  id:      " << v->id << "\n"
              << "  signer:  " << v->envelope.signer.Subject() << "\n"
              << "  anchor:  " << v->envelope.anchor.Subject() << "\n"
              << "  serial:  " << v->voucher.serial_number << "\n";
    if (v->voucher.enrollment) std::cout << "  device:  " << v->voucher.enrollment->device_key << "\n";
    if (policy) std::cout << "  logged:  " << device::DescribeLogPolicy(*policy) << "\n";
  }
  return Status::Ok();
}

// DESIGN.md 3b: what replaces proof of possession for a certificate of a co-generated key.
Status RunVerifyCert(const VerifyCertFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> certs, LoadCertificates(f.file));
  const Certificate& cert = certs[0];
  std::optional<PublicKey> device;
  if (!f.device_key.empty()) {
    auto k = LoadPublicKey(f.device_key);
    if (!k.ok()) return k.status().Context("--device-key");
    device = *k;
  }
  if (!f.issuer.empty()) {
    VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> issuer, LoadCertificates(f.issuer));
    if (!cert.IssuedBy(issuer[0])) return Error(Code::kUntrustedSigner, f.file + ": not issued by " + f.issuer);
  }
  auto c = VerifyConstruction(cert, device ? &*device : nullptr);
  if (!c.ok()) return c.status().Context(f.file);
  VOUCH_ASSIGN_OR_RETURN(PublicKey z, cert.Key());
  if (f.json) {
    nlohmann::ordered_json j;
    j["result"] = "verified";
    j["certificate"] = f.file;
    j["suite"] = SuiteName(SuiteOfGroup(z.group()));
    j["combined-key"] = z.Fingerprint();
    j["device-key"] = c->device_key.Fingerprint();
    j["device-key-checked"] = device.has_value();
    nlohmann::ordered_json ys = nlohmann::ordered_json::array();
    for (const PublicKey& y : c->contributions) ys.push_back(y.Fingerprint());
    j["contributions"] = std::move(ys);
    PrintJson(j);
  } else {
    std::cout << "verified: " << f.file << ": Z = X + " << c->contributions.size() << " contribution"
              << (c->contributions.size() == 1 ? "" : "s") << "\n"
              << "  combined key Z: " << z.Fingerprint() << "\n"
              << "  device key X:   " << c->device_key.Fingerprint() << (device ? " (matches --device-key)" : " (not checked: give --device-key)") << "\n";
    for (const PublicKey& y : c->contributions) std::cout << "  contribution:   " << y.Fingerprint() << "\n";
  }
  return Status::Ok();
}

}  // namespace

void AddInspectCommands(CLI::App& app, Action& action) {
  auto fi = std::make_shared<InspectFlags>();
  auto* c = app.add_subcommand("inspect", "Show what a voucher says, without checking its signature");
  c->add_option("FILE", fi->file, "Voucher file (.vjj JWS, .vcj CMS or .vch COSE)")->required();
  c->add_flag("--json", fi->json, "Print one JSON document");
  c->footer("Example:\n  vouch inspect sn1.vjj --json");
  c->callback([&action, fi] { action = [fi] { return RunInspect(*fi); }; });

  auto fv = std::make_shared<VerifyFlags>();
  c = app.add_subcommand("verify", "Check a voucher's signature and its path to a trust anchor you hold");
  c->add_option("FILE", fv->file, "Voucher file (.vjj JWS, .vcj CMS or .vch COSE)")->required();
  c->add_option("--trust", fv->trust, "Trust anchor certificates (PEM); a key inside the voucher is never trusted")->required();
  c->add_option("--at", fv->at, "Check validity at this instant (RFC 3339) instead of now");
  c->add_flag("--no-time", fv->no_time, "Skip validity periods (a device without a trusted clock)");
  fv->log.Add(c, /*required=*/false);
  c->add_option("--proof", fv->proof, "With --log-key: the voucher's log proof (default: FILE.tlog-proof)");
  c->add_flag("--json", fv->json, "Print one JSON document");
  c->footer("With --log-key, the voucher must also be in that log: its proof (FILE.tlog-proof, or --proof) checked\n"
            "against the log's key and --witnesses of the --witness keys; no proof is not-logged.\n"
            "Examples:\n  vouch verify sn1.vjj --trust mfr-ca.pem\n  vouch verify old.vcj --trust masa.pem --at 2022-07-11T00:00:00Z\n"
            "  vouch verify sn1.vjj --trust mfr-ca.pem --log-key log.vkey --witness w1.vkey --witness w2.vkey --witnesses 2");
  c->callback([&action, fv] { action = [fv] { return RunVerify(*fv); }; });

  auto fc = std::make_shared<VerifyCertFlags>();
  c = app.add_subcommand("verify-cert", "Check that a certificate's key was co-generated: Z = X + the contributions it lists");
  c->add_option("CERT", fc->file, "Certificate for Z (PEM or DER), as `vouch issue` makes them")->required();
  c->add_option("--device-key", fc->device_key, "The device's factory key X you know: the construction must start from it");
  c->add_option("--issuer", fc->issuer, "Also check the certificate is signed by this CA certificate");
  c->add_flag("--json", fc->json, "Print one JSON document");
  c->footer("A CA cannot get proof of possession from a device that is not there; the certificate instead lists X\n"
            "and every Y_i (extension " + std::string(kConstructionOid) + "), and anyone can check\n"
            "Z = X + sum Y_i. Knowing X is a device's factory key, only that device can hold z.\n"
            "Example:\n  vouch verify-cert dev/current/certificate.pem --device-key dev.pub --issuer owner-ca.pem");
  c->callback([&action, fc] { action = [fc] { return RunVerifyCert(*fc); }; });
}

}  // namespace vouch::tools
