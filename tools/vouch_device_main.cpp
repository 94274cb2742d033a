// vouch-device: the device side. Exit status (DESIGN.md section 9): 0 enrolled or already
// current, 3 no voucher for this device, 4 vouchers found but all refused, 2 usage, 1 other.
#include <iostream>
#include <memory>

#include "device/enrollment_receipt.h"
#include "device/fetch.h"
#include "device/judge.h"
#include "device/log_policy.h"
#include "formats/datetime.h"
#include "formats/voucher_json.h"
#include "libvoucher/device_state.h"
#include "libvoucher/suite.h"
#include "libvoucher/file.h"
#include "formats/cbor/cbor.h"
#include "formats/qr/qr_code.h"
#include "formats/qr/qr_image.h"
#include "formats/zip/archive.h"
#include "libvoucher/ossl/error.h"
#include "libvoucher/sodium/edwards25519.h"
#include "tools/cli.h"
#include "tools/common.h"
#include "tools/log_flags.h"
#include "tools/qr_flags.h"
#include "tools/version.h"

namespace vouch::tools {
namespace {

constexpr int kExitNoVoucher = 3;
constexpr int kExitAllRefused = 4;

struct InitFlags {
  std::string state, serial, clock = "untrusted", suite;
  std::vector<std::string> trust;
  LogFlags log;
  bool force = false, new_key = false, json = false;
};

struct LogPolicyFlags {
  std::string state;
  LogFlags log;
  bool json = false;
};

struct ShowFlags {
  std::string state;
  bool json = false;
  QrFlags qr;
};

struct FetchFlags {
  std::string state;
  std::vector<std::string> media;
  bool json = false, dry_run = false, receipts = false;
  int lock_timeout = 60;
};

struct ReceiptFlags {
  std::string state, out;
  bool json = false;
  int lock_timeout = 60;
};

struct AcceptFlags {
  std::string state, file, proof;
  bool json = false, dry_run = false;
};

// Set by commands whose outcome maps to exit 3 or 4 rather than an error.
int g_outcome_exit = kExitOk;

Status RunInit(const InitFlags& f) {
  InitOptions o;
  o.serial_number = f.serial;
  o.trusted_clock = f.clock == "trusted";
  o.reset = !f.force ? ResetMode::kRefuse : f.new_key ? ResetMode::kNewKey : ResetMode::kKeepKey;
  if (!f.suite.empty()) {
    auto suite = ParseSuiteFlag(f.suite);
    if (!suite) return Error(Code::kUsage, "--suite '" + f.suite + "' is not p256, x25519 or x448");
    if (o.reset == ResetMode::kKeepKey) return Error(Code::kUsage, "--suite draws a new key: it needs --new-key with --force");
    o.group = SuiteGroup(*suite);
  }
  VOUCH_ASSIGN_OR_RETURN(o.anchors, LoadAnchors(f.trust));
  VOUCH_ASSIGN_OR_RETURN(std::optional<device::LogPolicy> policy, f.log.Policy());
  if (policy) {
    VOUCH_RETURN_IF_ERROR(device::CheckLogPolicyClock(*policy, o.trusted_clock));
    o.log_policy = device::FormatLogPolicy(*policy);
  }
  VOUCH_ASSIGN_OR_RETURN(DeviceState s, DeviceState::Init(f.state, o));
  if (f.json) {
    nlohmann::ordered_json j;
    j["state"] = f.state;
    j["udf"] = s.identity().udf;
    j["serial-number"] = f.serial;
    j["clock"] = f.clock;
    j["suite"] = SuiteName(SuiteOfGroup(s.identity().key.group()));
    j["log-policy"] = policy ? PolicyJson(*policy) : nlohmann::ordered_json(nullptr);
    std::cout << JsonText(j) << "\n";
  } else {
    std::cout << s.identity().udf << "\n";
  }
  return Status::Ok();
}

Status RunLogPolicy(const LogPolicyFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(std::optional<device::LogPolicy> policy, f.log.Policy());
  if (!policy) return Error(Code::kUsage, "--log-key is required");
  VOUCH_ASSIGN_OR_RETURN(bool changed, device::SetDeviceLogPolicy(f.state, *policy));
  if (f.json) {
    nlohmann::ordered_json j;
    j["state"] = f.state;
    j["changed"] = changed;
    j["log-policy"] = PolicyJson(*policy);
    std::cout << JsonText(j) << "\n";
  } else {
    std::cout << (changed ? "log policy: " : "log policy unchanged: ") << device::DescribeLogPolicy(*policy) << "\n";
  }
  return Status::Ok();
}

Status RunShow(const ShowFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(DeviceState s, DeviceState::Open(f.state));
  const auto& id = s.identity();
  // What the owner scans to meet this device (formats/device_uri.md): X, its UDF, the serial.
  // Only asked for is it required: a serial the URI cannot carry (over 128 bytes, a control
  // character; `init` allowed them before URIs existed) must not hide the rest of the device.
  auto uri = DeviceUriOf(id.key.Public(), id.serial_number);
  if (f.qr.given() && !uri.ok()) return uri.status();
  if (f.qr.given() && !f.json) return f.qr.Emit(*uri);
  if (uri.ok()) VOUCH_RETURN_IF_ERROR(f.qr.Emit(*uri, /*json=*/true));
  nlohmann::ordered_json j;
  j["state"] = f.state;
  j["udf"] = id.udf;
  j["suite"] = SuiteName(SuiteOfGroup(id.key.group()));
  j["serial-number"] = id.serial_number;
  if (f.json) j["uri"] = uri.ok() ? nlohmann::ordered_json(*uri) : nlohmann::ordered_json(nullptr);
  if (f.json && !f.qr.qr_out.empty()) j["qr-out"] = f.qr.qr_out;
  j["clock"] = id.trusted_clock ? "trusted" : "untrusted";
  nlohmann::ordered_json anchors = nlohmann::ordered_json::array();
  for (const auto& a : id.factory_anchors) anchors.push_back(a.Subject());
  j["trust"] = anchors;
  VOUCH_ASSIGN_OR_RETURN(std::optional<device::LogPolicy> policy, device::LogPolicyOf(s));
  if (!policy) j["log-policy"] = nullptr;
  else if (f.json) j["log-policy"] = PolicyJson(*policy);
  else j["log-policy"] = device::DescribeLogPolicy(*policy);
  j["enrolled"] = s.current().has_value();
  if (s.current()) {
    const Applied& a = *s.current();
    j["generation"] = s.generation();
    j["voucher-id"] = a.voucher_id;
    j["voucher-created-on"] = formats::FormatDateTime(a.created_on);
    j["combined-key"] = a.combined_key.Fingerprint();
    j["owner"] = a.domain_ca.Subject();
    nlohmann::ordered_json former = nlohmann::ordered_json::array();
    for (const auto& c : a.former_owners) former.push_back(c.Subject());
    j["former-owners"] = former;
    auto cert = LoadCertificates(s.CurrentDir() / "certificate.pem");
    j["certificate"] = cert.ok() ? nlohmann::ordered_json((*cert)[0].Subject()) : nullptr;
  }
  if (f.json) {
    std::cout << JsonText(j) << "\n";
    return Status::Ok();
  }
  for (auto& [k, v] : j.items()) {
    std::string text = v.is_string() ? v.get<std::string>() : v.is_null() ? "-" : v.dump();
    std::cout << k << ":" << std::string(std::max<size_t>(1, 20 - k.size()), ' ') << text << "\n";
  }
  return Status::Ok();
}

nlohmann::ordered_json ReceiptJson(const device::WrittenReceipt& w) {
  nlohmann::ordered_json j;
  j["path"] = w.path;
  j["id"] = w.id;
  j["generation"] = w.generation;
  j["voucher-id"] = w.voucher_id;
  return j;
}

// `receipts` is set with --receipts: what each medium that asked for a receipt got. The
// enrollment stands either way; a receipt that could not be written changes no exit status.
void PrintReport(const device::EnrollReport& r, bool json, bool dry_run,
                 const std::optional<std::vector<device::MediumReceipt>>& receipts = std::nullopt) {
  if (json) {
    nlohmann::ordered_json j;
    j["outcome"] = device::OutcomeName(r.outcome);
    j["dry-run"] = dry_run;
    j["generation"] = r.generation;
    j["combined-key"] = r.combined_key.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.combined_key);
    j["change"] = r.change.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.change);
    nlohmann::ordered_json cs = nlohmann::ordered_json::array();
    for (const auto& c : r.candidates) {
      nlohmann::ordered_json x;
      x["source"] = c.source;
      x["id"] = c.id;
      x["created-on"] = c.created_on;
      x["result"] = c.applied ? "applied" : c.current ? "current" : "refused";
      x["logged"] = c.logged;
      if (!c.status.ok()) {
        x["code"] = CodeName(c.status.code());
        x["message"] = c.status.message();
      }
      cs.push_back(x);
    }
    j["candidates"] = cs;
    j["more-refused"] = r.tally;
    j["notes"] = r.notes;
    if (receipts) {
      nlohmann::ordered_json rs = nlohmann::ordered_json::array();
      for (const auto& m : *receipts) {
        nlohmann::ordered_json x = m.written ? ReceiptJson(*m.written) : nlohmann::ordered_json::object();
        x["medium"] = m.medium;
        x["written"] = m.written.has_value();
        if (!m.written) {
          x["code"] = CodeName(m.status.code());
          x["message"] = m.status.message();
        }
        rs.push_back(x);
      }
      j["receipts"] = rs;
    }
    std::cout << JsonText(j) << "\n";
    return;
  }
  for (const auto& n : r.notes) std::cerr << "vouch-device: note: " << Printable(n) << "\n";
  for (const auto& c : r.candidates) {
    std::string source = Printable(c.source);
    if (c.applied) std::cout << (dry_run ? "would apply " : "applied     ") << source << "\n";
    else if (c.current) std::cout << "current     " << source << "\n";
    else std::cout << "refused     " << source << ": " << Printable(c.status.message()) << " (" << CodeName(c.status.code()) << ")\n";
  }
  for (const auto& [code, n] : r.tally) std::cout << "refused     " << n << " more (" << code << ")\n";
  std::cout << device::OutcomeName(r.outcome);
  if (!r.combined_key.empty()) std::cout << ": key " << r.combined_key;
  if (!r.change.empty()) std::cout << " (" << r.change << ")";
  std::cout << "\n";
  for (const auto& m : receipts.value_or(std::vector<device::MediumReceipt>{})) {
    if (m.written) std::cout << "receipt     " << Printable(m.written->path) << "\n";
    else std::cerr << "vouch-device: receipt not written to " << Printable(m.medium) << ": " << Printable(m.status.message())
                   << " (" << CodeName(m.status.code()) << "); the enrollment stands\n";
  }
}

int OutcomeExit(device::EnrollReport::Outcome o) {
  switch (o) {
    case device::EnrollReport::Outcome::kEnrolled:
    case device::EnrollReport::Outcome::kAlreadyCurrent: return kExitOk;
    case device::EnrollReport::Outcome::kNoVoucher: return kExitNoVoucher;
    case device::EnrollReport::Outcome::kAllRefused: return kExitAllRefused;
  }
  return kExitError;
}

Status RunFetch(const FetchFlags& f) {
  device::FetchOptions o;
  o.dry_run = f.dry_run;
  o.lock_timeout_ms = f.lock_timeout * 1000;
  VOUCH_ASSIGN_OR_RETURN(device::EnrollReport r, device::Fetch(f.state, f.media, o));
  std::optional<std::vector<device::MediumReceipt>> receipts;
  // Only after a change this fetch made: a receipt says "applied", and a dry run applied nothing.
  if (f.receipts && !f.dry_run && r.outcome == device::EnrollReport::Outcome::kEnrolled) {
    receipts = device::WriteReceiptsToMedia(f.state, f.media, o.lock_timeout_ms);
  } else if (f.receipts) {
    receipts.emplace();
  }
  PrintReport(r, f.json, f.dry_run, receipts);
  g_outcome_exit = OutcomeExit(r.outcome);
  return Status::Ok();
}

Status RunReceipt(const ReceiptFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(device::WrittenReceipt w, device::WriteReceipt(f.state, f.out, f.lock_timeout * 1000));
  if (f.json) std::cout << JsonText(ReceiptJson(w)) << "\n";
  else std::cout << w.path << "\n";
  return Status::Ok();
}

Status RunAccept(const AcceptFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(device::EnrollReport r, device::AcceptFile(f.state, f.file, f.dry_run, f.proof));
  PrintReport(r, f.json, f.dry_run);
  g_outcome_exit = OutcomeExit(r.outcome);
  return Status::Ok();
}

// --lock-timeout, for every command that waits for the state lock.
void AddLockTimeout(CLI::App* c, int& seconds) {
  c->add_option("--lock-timeout", seconds, "Seconds to wait for another vouch-device holding the state")
      ->check(CLI::Range(0, 3600))->capture_default_str();
}

}  // namespace
}  // namespace vouch::tools

int main(int argc, char** argv) {
  using namespace vouch::tools;
  CLI::App app{"vouch-device: a device's side of enrolling vouchers"};
  // The libraries this program links (no libgit2 or libcurl: DESIGN.md section 9).
  app.set_version_flag("--version", [] {
    using namespace vouch;
    return VersionText("vouch-device", {ossl::LibraryVersion(), edwards25519::LibraryVersion(),
                                        formats::zip::LibraryVersion(), formats::cbor::LibraryVersion(),
                                        formats::qr::LibraryVersion(), formats::qr::PngLibraryVersion()});
  }, "Print the version, the suites supported and the libraries built with");
  app.require_subcommand(1);
  Action action;

  auto fi = std::make_shared<InitFlags>();
  auto* c = app.add_subcommand("init", "Create the device state: key pair x/X, serial, trust anchors; print the device UDF");
  c->add_option("--state", fi->state, "State directory (created 0700)")->required();
  c->add_option("--serial", fi->serial, "The device's serial number")->required();
  c->add_option("--trust", fi->trust, "Factory trust anchors (PEM): who may sign this device's vouchers")->required();
  c->add_option("--clock", fi->clock, "trusted: enforce validity periods; untrusted: skip them (RFC 8995 2.6.1)")
      ->check(CLI::IsMember({"trusted", "untrusted"}))->capture_default_str();
  c->add_option("--suite", fi->suite, "Key suite of a new device key: p256 (default), x25519 or x448");
  c->add_flag("--force", fi->force, "Factory reset: forget the owner and every applied voucher (keeps the key)");
  c->add_flag("--new-key", fi->new_key, "With --force: also draw a new device key");
  fi->log.Add(c, /*required=*/false);
  c->add_flag("--json", fi->json, "Print one JSON document");
  c->footer("With --log-key the device insists on a transparency log: every voucher it applies must come with a\n"
            "proof (FILE.tlog-proof beside it) that it is in that log, under a checkpoint cosigned by --witnesses\n"
            "of the --witness keys. Only a factory reset (--force) loosens or removes that policy.\n"
            "Example:\n  vouch-device init --state /var/lib/vouch --serial SN1 --trust manufacturer-ca.pem --clock trusted \\\n"
            "      --log-key log.vkey --witness w1.vkey --witness w2.vkey --witnesses 2 --max-age 7d");
  c->callback([&action, fi] { action = [fi] { return RunInit(*fi); }; });

  auto fl = std::make_shared<LogPolicyFlags>();
  c = app.add_subcommand("log-policy", "Make the device insist on a transparency log, or tighten the log policy it has");
  c->add_option("--state", fl->state, "State directory")->required();
  fl->log.Add(c, /*required=*/true);
  c->add_flag("--json", fl->json, "Print one JSON document");
  c->footer("Sets a policy on a device that has none, or replaces one only with a stricter one: the same log key,\n"
            "a quorum that still needs as many of the old witnesses, a max age no longer. Loosening or removing\n"
            "it takes a factory reset (init --force). Nothing on a medium and no voucher can change it.\n"
            "Example:\n  vouch-device log-policy --state /var/lib/vouch --log-key log.vkey --witness w1.vkey --witness w2.vkey");
  c->callback([&action, fl] { action = [fl] { return RunLogPolicy(*fl); }; });

  auto fs = std::make_shared<ShowFlags>();
  c = app.add_subcommand("show", "Show the device: its UDF, serial, anchors, log policy and what it is enrolled with");
  c->alias("status");
  c->add_option("--state", fs->state, "State directory")->required();
  auto* json = c->add_flag("--json", fs->json, "Print one JSON document (with the device URI, \"uri\")");
  fs->qr.Add(c, json);
  c->footer("--qr, --qr-out and --uri show only the device URI (formats/device_uri.md): the device key X, its UDF\n"
            "and the serial, which the owner scans and gives to `vouch issue|request --device-uri`.\n"
            "Examples:\n  vouch-device show --state /var/lib/vouch\n"
            "  vouch-device show --state /var/lib/vouch --qr\n"
            "  vouch-device show --state /var/lib/vouch --qr-out /media/usb0/device.png");
  c->callback([&action, fs] { action = [fs] { return RunShow(*fs); }; });

  auto fa = std::make_shared<AcceptFlags>();
  c = app.add_subcommand("accept", "Verify one voucher file and, if acceptable, enroll with it (z = x + y)");
  c->add_option("--state", fa->state, "State directory")->required();
  c->add_option("FILE", fa->file, "Voucher file (.vjj, .vcj or .vch)")->required();
  c->add_option("--proof", fa->proof, "Its log proof (default: FILE.tlog-proof, when it exists)");
  c->add_flag("--json", fa->json, "Print one JSON document");
  c->add_flag("--dry-run", fa->dry_run, "Judge the voucher but change nothing");
  c->footer("Exit status: 0 enrolled or already current, 3 no voucher, 4 refused, 2 usage, 1 error.\n"
            "Example:\n  vouch-device accept --state /var/lib/vouch sn1.vjj");
  c->callback([&action, fa] { action = [fa] { return RunAccept(*fa); }; });

  auto ff = std::make_shared<FetchFlags>();
  c = app.add_subcommand("fetch", "Find this device's vouchers on media (mount points, directories, bundles); enroll with the newest acceptable one");
  c->add_option("--state", ff->state, "State directory")->required();
  c->add_option("MEDIUM", ff->media, "Mount points, directories or .vbundle files; never written to (but a receipt, with --receipts)")->required();
  c->add_flag("--json", ff->json, "Print one JSON document");
  c->add_flag("--dry-run", ff->dry_run, "Judge what is found but change nothing");
  AddLockTimeout(c, ff->lock_timeout);
  c->footer("The media are read by vouch-medium-reader (git caches by vouch-git-reader, after it), separate\n"
            "processes confined to them (own user, Landlock, seccomp, memory/CPU limits, 15 s in all); this process verifies what they hand back,\n"
            "decides under a lock on the state, and applies. A reader that crashes or overruns is a refusal.\n"
            "Exit status: 0 enrolled or already current, 3 no voucher for this device, 4 all refused,\n"
            "2 usage, 1 error (no-medium: none of the media exist).\n"
            "With --receipts, after it applied a voucher it writes the receipt (see `vouch-device receipt`) to each\n"
            "MEDIUM with a vouch-receipts/ folder at its root; one that cannot be written is reported and changes\n"
            "nothing else.\n"
            "Example:\n  vouch-device fetch --state /var/lib/vouch /media/usb0 --receipts");
  c->add_flag("--receipts", ff->receipts, "After applying a voucher, write its receipt to each MEDIUM that has a vouch-receipts/ folder");
  c->callback([&action, ff] { action = [ff] { return RunFetch(*ff); }; });

  auto fr = std::make_shared<ReceiptFlags>();
  c = app.add_subcommand("receipt", "Write the enrollment receipt of the current generation (signed with z and x) under a folder");
  c->add_option("--state", fr->state, "State directory")->required();
  c->add_option("--out", fr->out, "Receipts folder, e.g. MEDIUM/vouch-receipts (must exist; never a link)")->required();
  c->add_flag("--json", fr->json, "Print one JSON document (path, id, generation, voucher-id)");
  AddLockTimeout(c, fr->lock_timeout);
  c->footer("The receipt (formats/receipt.md) names the device key, the applied voucher, the combined key Z, the\n"
            "generation and when it was applied; it is signed with z (proof of possession of Z) and with x. It is\n"
            "written at OUT/<c1c2>/<c3c4>/<DEVICE-UDF>/<RECEIPT-ID>.vrj, atomically, never through a link and never\n"
            "over an existing file. It holds nothing secret. The owner checks it with `vouch receipt verify`.\n"
            "Exit status: 0 written, 1 error (not-found: not enrolled; exists; symlink-entry; io), 2 usage.\n"
            "Example:\n  vouch-device receipt --state /var/lib/vouch --out /media/usb0/vouch-receipts");
  c->callback([&action, fr] { action = [fr] { return RunReceipt(*fr); }; });

  int rc = Run(app, argc, argv, action, "vouch-device");
  return rc == kExitOk ? g_outcome_exit : rc;
}
