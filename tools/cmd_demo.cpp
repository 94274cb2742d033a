// vouch demo: the whole story, end to end, in a fresh folder, narrated for a new user.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "device/enrollment_receipt.h"
#include "device/fetch.h"
#include "formats/bundle.h"
#include "formats/datetime.h"
#include "formats/device_uri.h"
#include "formats/issuing.h"
#include "formats/layout.h"
#include "formats/qr/qr_image.h"
#include "formats/receipt.h"
#include "formats/voucher_json.h"
#include "libvoucher/authority.h"
#include "libvoucher/cogen.h"
#include "libvoucher/construction.h"
#include "libvoucher/device_state.h"
#include "libvoucher/file.h"
#include "libvoucher/issue.h"
#include "libvoucher/suite.h"
#include "tools/commands.h"

namespace vouch::tools {
namespace {
namespace fs = std::filesystem;

struct DemoFlags {
  std::string dir, suite = "p256";
};

void Step(int n, const std::string& title) { std::cout << "\n" << n << ". " << title << "\n"; }
void Say(const std::string& line) { std::cout << "   " << line << "\n"; }

CertSpec Spec(const std::string& cn, const std::string& org, bool ca) {
  CertSpec s;
  s.common_name = cn;
  s.organization = org;
  s.ca = ca;
  return s;
}

// Every file under `dir` made read-only, as a write-protected stick would be.
void WriteProtect(const fs::path& dir) {
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    ::chmod(e.path().c_str(), e.is_directory() ? 0555 : 0444);
  }
  ::chmod(dir.c_str(), 0555);
}

Result<fs::path> DemoDir(const std::string& requested) {
  if (!requested.empty()) {
    std::error_code ec;
    if (fs::exists(requested) && !fs::is_empty(requested, ec)) {
      return Error(Code::kExists, requested + ": not empty (the demo wants a fresh folder)");
    }
    fs::create_directories(requested, ec);
    if (ec) return Error(Code::kIo, requested + ": " + ec.message());
    return fs::path(requested);
  }
  std::string tmpl = (fs::temp_directory_path() / "vouch-demo.XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return Error(Code::kIo, "cannot create a temporary folder");
  return fs::path(tmpl);
}

Status RunDemo(const DemoFlags& f) {
  auto suite = ParseSuiteFlag(f.suite);
  if (!suite) return Error(Code::kUsage, "--suite '" + f.suite + "' is not p256, x25519 or x448");
  VOUCH_ASSIGN_OR_RETURN(fs::path dir, DemoDir(f.dir));
  std::cout << "vouch demo: a device enrolls itself from a USB stick, with no network.\n"
            << "Everything is written under " << dir.string() << "\n";

  Step(1, "The manufacturer has a root CA and a voucher-signing key under it");
  VOUCH_ASSIGN_OR_RETURN(PrivateKey root_key, PrivateKey::Generate());
  VOUCH_ASSIGN_OR_RETURN(Certificate root, SelfSign(root_key, Spec("Acme Devices Root", "Acme", true)));
  VOUCH_ASSIGN_OR_RETURN(PrivateKey signer_key, PrivateKey::Generate());
  // DESIGN.md 3a: the signer names its purpose, signing vouchers (a plain leaf would do under
  // a factory anchor; the EKU says it, and is what an owner's own signers need).
  CertSpec signer_spec = Spec("Acme Voucher Signer", "Acme", false);
  signer_spec.extended_key_usage = {std::string(kVoucherSigningEku)};
  VOUCH_ASSIGN_OR_RETURN(Certificate signer_cert, IssueCertificate(root, root_key, signer_key.Public(), signer_spec));
  fs::create_directories(dir / "manufacturer");
  VOUCH_RETURN_IF_ERROR(SaveCertificates(dir / "manufacturer" / "root.pem", {root}));
  VOUCH_RETURN_IF_ERROR(SavePrivateKey(dir / "manufacturer" / "signer.key", signer_key));
  VOUCH_RETURN_IF_ERROR(SaveCertificates(dir / "manufacturer" / "signer.pem", {signer_cert}));
  Say("root:   " + root.Subject() + "   (every device trusts this)");
  Say("signer: " + signer_cert.Subject());

  Step(2, "Three devices leave the factory, each with its own key pair {x, X} (suite " + std::string(SuiteName(*suite)) + ")");
  std::vector<DeviceState> devices;
  for (int i = 1; i <= 3; ++i) {
    InitOptions o;
    o.serial_number = "ACME-" + std::to_string(1000 + i);
    o.anchors = {root};
    o.trusted_clock = true;
    o.group = SuiteGroup(*suite);
    VOUCH_ASSIGN_OR_RETURN(DeviceState d, DeviceState::Init(dir / ("device-" + std::to_string(i)), o));
    Say(o.serial_number + "  device key X = " + d.identity().udf);
    devices.push_back(std::move(d));
  }

  Step(3, "An owner buys them; it runs its own domain CA");
  VOUCH_ASSIGN_OR_RETURN(PrivateKey owner_key, PrivateKey::Generate());
  VOUCH_ASSIGN_OR_RETURN(Certificate owner_ca, SelfSign(owner_key, Spec("Example Owner CA", "Example Corp", true)));
  fs::create_directories(dir / "owner");
  VOUCH_RETURN_IF_ERROR(SavePrivateKey(dir / "owner" / "domain-ca.key", owner_key));
  VOUCH_RETURN_IF_ERROR(SaveCertificates(dir / "owner" / "domain-ca.pem", {owner_ca}));
  Say("domain CA: " + owner_ca.Subject());
  // DESIGN.md 5, "Meeting the device": the owner learns each X by scanning the device's QR code
  // (`vouch-device show --qr`), and takes key and serial from the URI it decodes, not a PEM file.
  Say("It meets each device by scanning the QR code the device shows (`vouch-device show --qr`).");
  Say("The code holds the device URI: X, its UDF and the serial. " + devices[0].identity().serial_number + "'s:");
  std::vector<formats::DeviceUri> scanned;
  for (auto& d : devices) {
    VOUCH_ASSIGN_OR_RETURN(std::string uri, formats::EncodeDeviceUri(d.identity().key.Public(), d.identity().serial_number));
    if (scanned.empty()) {
      VOUCH_ASSIGN_OR_RETURN(formats::qr::QrCode code, formats::qr::QrCode::Encode(uri));
      std::cout << "\n" << formats::qr::RenderTerminal(code, "   ") << "\n";
      Say(uri.substr(0, 28) + "..." + uri.substr(uri.find(";F:")) + "   (the others likewise)");
    }
    VOUCH_ASSIGN_OR_RETURN(formats::DeviceUri read, formats::DecodeDeviceUri(uri));
    scanned.push_back(std::move(read));
  }

  Step(4, "For each device an escrow draws y1 and the owner y2, each encrypted to X; the owner certifies");
  Say("Z = X + Y1 + Y2 and the manufacturer signs the voucher. Only the device can ever compute");
  Say("z = x + y1 + y2: the factory, the escrow and the owner would all have to collude.");
  std::vector<formats::PackedVoucher> vouchers;
  formats::Signer signer{signer_key, {signer_cert, root}};
  // Created-on is whole seconds and a device takes only a strictly later one (DESIGN.md 5):
  // the demo's vouchers for one device, made within a second of each other, are dated a
  // second apart from here (signers accept up to 5 minutes ahead), rather than waited for.
  const Instant t0 = Instant::Now().WholeSeconds();
  for (const formats::DeviceUri& d : scanned) {
    DraftRequest r;
    r.created_on = t0;
    r.device_key = d.key;  // as scanned in step 3
    r.serial_number = d.serial;
    r.domain_ca = owner_ca;
    r.domain_ca_key = owner_key;
    r.expires_on = r.created_on.Plus(30 * 86400);
    r.certificate_days = 90;  // short-lived, as certificates for Z should be: step 9 renews one
    {
      // What `vouch contribute` does for the escrow: y1 is sealed to X and forgotten.
      VOUCH_ASSIGN_OR_RETURN(cogen::Contribution escrow, cogen::Contribute(r.device_key));
      VOUCH_ASSIGN_OR_RETURN(SealedContribution sealed, cogen::Seal(r.device_key, r.device_key.Fingerprint(), escrow.y));
      r.contributions.push_back(std::move(sealed));
    }
    VOUCH_ASSIGN_OR_RETURN(formats::Issued issued, formats::IssueVoucher(r, formats::EnvelopeKind::kJws, signer));
    formats::Envelope& e = issued.envelope;
    Say(r.serial_number + "  voucher " + e.id.substr(0, 19) + "...  Z = " + issued.combined_key);
    vouchers.push_back({formats::LayoutPath({issued.device_udf, e.id, e.kind}), std::move(e.bytes)});
  }
  std::vector<formats::PackedVoucher> originals = vouchers;

  Step(5, "The vouchers are packed into one bundle and carried on a (write-protected) stick");
  fs::path stick = dir / "stick";
  VOUCH_ASSIGN_OR_RETURN(std::vector<formats::WrittenBundle> bundles, formats::WriteBundles(stick, std::move(vouchers)));
  Say(fs::relative(bundles[0].path, dir).string());
  Say("bundle id = UDF of its manifest; " + std::to_string(bundles[0].count) + " vouchers, " +
      std::to_string(fs::file_size(bundles[0].path)) + " bytes; safe to publish: y is encrypted to each X");
  WriteProtect(stick);

  // What vouch-device fetch does, then the device's state as it is on disk afterwards.
  auto fetch = [](DeviceState& d, const fs::path& medium) -> Result<device::EnrollReport> {
    VOUCH_ASSIGN_OR_RETURN(device::EnrollReport r, device::Fetch(d.dir(), {medium.string()}, {}));
    VOUCH_ASSIGN_OR_RETURN(d, DeviceState::Open(d.dir()));
    return r;
  };

  Step(6, "Each device finds its own voucher on the stick and enrolls itself");
  for (auto& d : devices) {
    VOUCH_ASSIGN_OR_RETURN(device::EnrollReport r, fetch(d, stick));
    if (r.outcome != device::EnrollReport::Outcome::kEnrolled) {
      return Error(Code::kInternal, d.identity().serial_number + " did not enroll: " + device::OutcomeName(r.outcome));
    }
    VOUCH_ASSIGN_OR_RETURN(PrivateKey z, LoadPrivateKey(d.CurrentDir() / "z.key", &d.current()->combined_key));
    VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> cert, LoadCertificates(d.CurrentDir() / "certificate.pem"));
    bool match = z.Public() == d.current()->combined_key;
    Say(d.identity().serial_number + "  enrolled: new key " + z.Public().Fingerprint() + (match ? "  (z*G == Z)" : "  (MISMATCH)"));
    Say("            certificate " + cert[0].Subject() + ", issued by " + cert[0].Issuer());
    auto made = VerifyConstruction(cert[0], &d.identity().key.Public());
    Say(made.ok() ? "            it proves Z = X + " + std::to_string(made->contributions.size()) +
                        " contributions, X this device's key (vouch verify-cert)"
                  : "            construction: " + made.status().message());
  }

  Step(7, "Replaying the stick changes nothing");
  for (auto& d : devices) {
    VOUCH_ASSIGN_OR_RETURN(device::EnrollReport r, fetch(d, stick));
    Say(d.identity().serial_number + "  " + device::OutcomeName(r.outcome) + ", still generation " +
        std::to_string(d.generation()));
  }

  Step(8, "A tampered copy is refused, and the device keeps its key");
  fs::path forged = dir / "tampered-stick";
  {
    // Someone edits the voucher for device 1 (one character of its payload) and files it
    // under the id of its new bytes, as a careful forger would.
    Bytes bytes = originals[0].bytes;
    std::string text(bytes.begin(), bytes.end());
    size_t at = text.find("\"payload\":\"") + 20;
    text[at] = text[at] == 'A' ? 'B' : 'A';
    Bytes edited(text.begin(), text.end());
    std::string id = formats::VoucherId(formats::EnvelopeKind::kJws, edited);
    fs::path p = forged / formats::LayoutPath({devices[0].identity().udf, id, formats::EnvelopeKind::kJws});
    fs::create_directories(p.parent_path());
    VOUCH_RETURN_IF_ERROR(WriteFileAtomic(p, edited));
    // And a byte flipped inside device 1's voucher in a copy of the bundle.
    fs::path copy = forged / bundles[0].path.filename();
    VOUCH_ASSIGN_OR_RETURN(Bytes b, ReadFile(bundles[0].path, 1 << 20));
    auto it = std::search(b.begin(), b.end(), originals[0].bytes.begin(), originals[0].bytes.end());
    if (it == b.end()) return Error(Code::kInternal, "voucher not found in its bundle");
    it[static_cast<long>(originals[0].bytes.size() / 2)] ^= 0x01;
    VOUCH_RETURN_IF_ERROR(WriteFileAtomic(copy, b));
  }
  std::string before = devices[0].current()->combined_key.Fingerprint();
  VOUCH_ASSIGN_OR_RETURN(device::EnrollReport r, fetch(devices[0], forged));
  for (const auto& c : r.candidates) {
    std::string what = fs::path(c.source.substr(0, c.source.find(':'))).extension() == ".vbundle" ? "flipped bundle: " : "edited voucher: ";
    const std::string& m = c.status.message();
    std::string tail = m.rfind(": ") == std::string::npos ? m : m.substr(m.rfind(": ") + 2);
    std::string verdict = c.applied ? "applied (unexpected!)" : c.current ? "already current"
                                    : std::string(CodeName(c.status.code())) + " - " + tail;
    Say(what + verdict);
  }
  Say(devices[0].identity().serial_number + "  " + device::OutcomeName(r.outcome) + "; key still " +
      devices[0].current()->combined_key.Fingerprint() + (before == devices[0].current()->combined_key.Fingerprint() ? "" : " (CHANGED)"));

  // The owner's stick that asks for receipts (a `vouch-receipts/` folder at its root): the
  // device writes its receipt there; the owner checks both signatures and what it says.
  auto receipt_back = [&](DeviceState& d, const fs::path& medium) -> Result<formats::VerifiedReceipt> {
    fs::create_directories(medium / formats::kMediumReceiptRoot);
    VOUCH_ASSIGN_OR_RETURN(device::WrittenReceipt w, device::WriteReceipt(d.dir(), medium / formats::kMediumReceiptRoot));
    VOUCH_ASSIGN_OR_RETURN(Bytes bytes, ReadFile(w.path, formats::kMaxReceiptSize));
    VOUCH_ASSIGN_OR_RETURN(formats::VerifiedReceipt v, formats::VerifyReceipt(bytes));
    Say(d.identity().serial_number + "  receipt " + fs::relative(w.path, dir).string().substr(0, 60) + "...");
    Say("            generation " + std::to_string(v.receipt.generation) + ", voucher " + v.receipt.voucher_id.substr(0, 19) +
        "..., signed with z (proof it holds Z) and with x (the factory key)");
    return v;
  };

  Step(9, "The owner collects receipts: a stick with a vouch-receipts/ folder comes back signed");
  Say("Each device signs with z and x that it applied its voucher (the proof of possession no CA could");
  Say("get); vouch cache import files them, vouch cache status reports who has enrolled.");
  for (auto& d : devices) VOUCH_RETURN_IF_ERROR(receipt_back(d, dir / "receipt-stick").status());

  // A stick in a device's life: the vouchers given, filed at their layout paths.
  auto carry = [&](const std::string& name, const std::vector<formats::Envelope>& envelopes) -> Result<fs::path> {
    fs::path medium = dir / name;
    for (const formats::Envelope& e : envelopes) {
      VOUCH_ASSIGN_OR_RETURN(formats::LayoutEntry entry, formats::LayoutEntryOf(e));
      VOUCH_RETURN_IF_ERROR(formats::FileEnvelope(e, entry.device_udf, medium.string()).status());
    }
    return medium;
  };
  DeviceState& first = devices[0];
  const std::string serial = first.identity().serial_number;

  Step(10, "Before its certificate expires, the owner renews " + serial + "'s: no new contribution, no new key");
  {
    VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> old_cert, LoadCertificates(first.CurrentDir() / "certificate.pem"));
    RenewalRequest rr;
    rr.device_key = first.identity().key.Public();
    rr.combined_key = first.current()->combined_key;
    rr.serial_number = serial;
    rr.domain_ca = owner_ca;
    rr.domain_ca_key = owner_key;
    rr.certificate_days = 365;
    rr.created_on = t0.Plus(1);
    VOUCH_ASSIGN_OR_RETURN(std::optional<Construction> made, ReadConstruction(old_cert[0]));
    rr.construction = made;
    // The owner signs its renewals itself, under the domain CA the device pinned.
    VOUCH_ASSIGN_OR_RETURN(formats::Issued renewal, formats::IssueRenewal(rr, formats::EnvelopeKind::kJws, {owner_key, {owner_ca}}));
    VOUCH_ASSIGN_OR_RETURN(fs::path medium, carry("renewal-stick", {renewal.envelope}));
    std::string key_before = first.current()->combined_key.Fingerprint();
    VOUCH_ASSIGN_OR_RETURN(device::EnrollReport rep, fetch(first, medium));
    VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> new_cert, LoadCertificates(first.CurrentDir() / "certificate.pem"));
    Say(serial + "  " + device::OutcomeName(rep.outcome) + " (" + rep.change + "), generation " + std::to_string(rep.generation) +
        ": key " + (first.current()->combined_key.Fingerprint() == key_before ? "unchanged" : "CHANGED (unexpected!)"));
    Say("            certificate valid until " + formats::FormatDateTime(new_cert[0].NotAfter()) + " (was " +
        formats::FormatDateTime(old_cert[0].NotAfter()) + ")");
  }

  Step(11, serial + " is sold: the new owner asks, the current owner signs, the device re-keys");
  Say("The new owner draws its own y' and seals it to X; the old owner signs under the domain CA the");
  Say("device pinned, and never learns y': only the device can compute z' = x + y'.");
  {
    VOUCH_ASSIGN_OR_RETURN(PrivateKey next_key, PrivateKey::Generate());
    VOUCH_ASSIGN_OR_RETURN(Certificate next_ca, SelfSign(next_key, Spec("Second Owner CA", "Second Corp", true)));
    DraftRequest to_next;
    to_next.device_key = first.identity().key.Public();
    to_next.serial_number = serial;
    to_next.domain_ca = next_ca;
    to_next.domain_ca_key = next_key;
    to_next.created_on = t0.Plus(2);
    VOUCH_ASSIGN_OR_RETURN(Draft draft, DraftVoucher(to_next));          // the new owner's request
    VOUCH_ASSIGN_OR_RETURN(formats::Envelope transfer,
                           formats::SignVoucher(draft.voucher, formats::EnvelopeKind::kJws, {owner_key, {owner_ca}}));
    // And, later, a voucher the old owner signs for itself: it no longer owns the device.
    DraftRequest back;
    back.device_key = first.identity().key.Public();
    back.serial_number = serial;
    back.domain_ca = owner_ca;
    back.domain_ca_key = owner_key;
    back.created_on = t0.Plus(3);
    VOUCH_ASSIGN_OR_RETURN(Draft late, DraftVoucher(back));
    VOUCH_ASSIGN_OR_RETURN(formats::Envelope stale,
                           formats::SignVoucher(late.voucher, formats::EnvelopeKind::kJws, {owner_key, {owner_ca}}));
    std::string key_before = first.current()->combined_key.Fingerprint();
    VOUCH_ASSIGN_OR_RETURN(fs::path medium, carry("transfer-stick", {transfer}));
    VOUCH_ASSIGN_OR_RETURN(device::EnrollReport rep, fetch(first, medium));
    Say(serial + "  " + device::OutcomeName(rep.outcome) + " (" + rep.change + "): owner " + first.current()->domain_ca.Subject() +
        ", key " + first.current()->combined_key.Fingerprint() + (first.current()->combined_key.Fingerprint() != key_before ? " (new)" : " (UNCHANGED!)"));
    VOUCH_ASSIGN_OR_RETURN(fs::path late_medium, carry("former-owner-stick", {stale}));
    VOUCH_ASSIGN_OR_RETURN(device::EnrollReport refused, fetch(first, late_medium));
    for (const auto& c : refused.candidates) {
      Say("the former owner's later voucher: " + std::string(c.status.ok() ? "accepted (unexpected!)" : CodeName(c.status.code())));
    }
    VOUCH_ASSIGN_OR_RETURN(formats::VerifiedReceipt returned, receipt_back(first, dir / "new-owner-stick"));
    Say(std::string("            its certificate for Z' chains to the new owner's CA: ") +
        (returned.receipt.certificate && returned.receipt.certificate->IssuedBy(next_ca) ? "yes" : "NO"));
  }

  std::cout << "\nDone. Look around: " << dir.string() << "\n"
            << "  vouch bundle list " << (stick / bundles[0].path.filename()).string() << "\n"
            << "  vouch-device show --state " << (dir / "device-1").string() << "\n";
  return Status::Ok();
}

}  // namespace

void AddDemoCommand(CLI::App& app, Action& action) {
  auto f = std::make_shared<DemoFlags>();
  auto* c = app.add_subcommand("demo", "Run the whole story end to end in a fresh folder: PKI, devices, vouchers, stick, enrollment");
  c->add_option("--dir", f->dir, "Folder to work in (created; must be empty). Default: a new temporary folder");
  c->add_option("--suite", f->suite, "Device key suite: p256, x25519 or x448")->capture_default_str();
  c->callback([&action, f] { action = [f] { return RunDemo(*f); }; });
}

}  // namespace vouch::tools
