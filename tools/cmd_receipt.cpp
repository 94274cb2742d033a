// vouch receipt verify: the owner's check of an enrollment receipt a device wrote
// (formats/receipt.md, DESIGN.md 9a).
#include <iostream>
#include <memory>

#include "formats/datetime.h"
#include "formats/receipt.h"
#include "formats/voucher_json.h"
#include "libvoucher/trust.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace vouch::tools {
namespace {

struct ReceiptVerifyFlags {
  std::string file, device_key, voucher, at;
  std::vector<std::string> trust;
  bool no_time = false, json = false;
};

// What the receipt was checked against, for the report.
struct Checked {
  bool device_key = false;
  std::optional<std::string> voucher_file;
  std::optional<Certificate> anchor;
};

// The receipt is for the voucher the owner issued: the same id, device key and Z.
Status CheckAgainstVoucher(const formats::Receipt& r, const std::string& file) {
  VOUCH_ASSIGN_OR_RETURN(Bytes raw, ReadInput(file, formats::kMaxVoucherSize));
  VOUCH_ASSIGN_OR_RETURN(formats::Envelope env, formats::Identify(std::move(raw)));
  if (env.id != r.voucher_id) {
    return Error(Code::kIdMismatch, "the receipt is for voucher " + r.voucher_id + ", not " + file + " (" + env.id + ")");
  }
  // Its signature was checked when it was issued; here it only says which keys it named.
  VOUCH_ASSIGN_OR_RETURN(Voucher v, formats::DecodeUnverified(env));
  if (!v.enrollment) return Error(Code::kUnsupported, file + " is not an enrolling voucher");
  if (v.enrollment->device_key != r.device_key) {
    return Error(Code::kWrongDevice, file + " is for device " + v.enrollment->device_key + ", the receipt for " + r.device_key);
  }
  if (v.enrollment->combined_key != r.combined_key.SpkiDer()) {
    return Error(Code::kCombinedKeyMismatch, "the receipt's combined key is not the one " + file + " names");
  }
  return Status::Ok();
}

Result<Checked> CheckReceipt(const ReceiptVerifyFlags& f, const formats::Receipt& r) {
  Checked c;
  if (!f.device_key.empty()) {
    auto x = LoadPublicKey(f.device_key);
    if (!x.ok()) return x.status().Context("--device-key");
    if (!(*x == r.device_public_key)) {
      return Error(Code::kWrongDevice, "the receipt is from device " + r.device_key + ", not " + f.device_key + " (" + x->Fingerprint() + ")");
    }
    c.device_key = true;
  }
  if (!f.voucher.empty()) {
    VOUCH_RETURN_IF_ERROR(CheckAgainstVoucher(r, f.voucher));
    c.voucher_file = f.voucher;
  }
  if (!f.trust.empty()) {
    VOUCH_ASSIGN_OR_RETURN(TimePolicy time, TimePolicyFromFlags(f.at, f.no_time));
    VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> anchors, LoadAnchors(f.trust));
    if (!r.certificate) return Error(Code::kCertificateMismatch, "the receipt carries no certificate for Z to check against --trust");
    VOUCH_ASSIGN_OR_RETURN(VerifiedPath path, VerifyPath(*r.certificate, {}, anchors, time));
    c.anchor = path.anchor;
  }
  return c;
}

void Print(const ReceiptVerifyFlags& f, const formats::VerifiedReceipt& v, const Checked& c) {
  const formats::Receipt& r = v.receipt;
  if (f.json) {
    nlohmann::ordered_json j;
    j["file"] = f.file;
    j["verified"] = true;
    j["id"] = v.id;
    j["device-key"] = r.device_key;
    j["serial-number"] = r.serial_number;
    j["voucher-id"] = r.voucher_id;
    j["combined-key"] = r.combined_key.Fingerprint();
    j["generation"] = r.generation;
    j["time"] = formats::FormatDateTime(r.time);
    j["certificate"] = r.certificate ? nlohmann::ordered_json(r.certificate->Subject()) : nullptr;
    j["device-key-checked"] = c.device_key;
    j["voucher-checked"] = c.voucher_file ? nlohmann::ordered_json(*c.voucher_file) : nullptr;
    j["anchor"] = c.anchor ? nlohmann::ordered_json(c.anchor->Subject()) : nullptr;
    std::cout << JsonText(j) << "\n";
    return;
  }
  std::cout << "verified: " << f.file << " (signed with z and with x)\n"
            << "  id:           " << v.id << "\n"
            << "  device:       " << r.device_key << (c.device_key ? " (is --device-key)" : "") << "\n"
            << "  serial:       " << Printable(r.serial_number) << "\n"
            << "  voucher:      " << r.voucher_id << (c.voucher_file ? " (is " + *c.voucher_file + ")" : "") << "\n"
            << "  combined key: " << r.combined_key.Fingerprint() << "\n"
            << "  generation:   " << r.generation << "\n"
            << "  applied on:   " << formats::FormatDateTime(r.time) << " (the device's clock)\n";
  if (r.certificate) {
    std::cout << "  certificate:  " << Printable(r.certificate->Subject())
              << (c.anchor ? " (chains to " + Printable(c.anchor->Subject()) + ")" : "") << "\n";
  }
}

Status RunReceiptVerify(const ReceiptVerifyFlags& f) {
  if (f.trust.empty() && f.device_key.empty() && f.voucher.empty()) {
    return Error(Code::kUsage, "give --trust, --device-key or --voucher: a receipt checked against nothing proves only "
                               "that someone holds two keys");
  }
  if (f.trust.empty() && (!f.at.empty() || f.no_time)) return Error(Code::kUsage, "--at and --no-time go with --trust");
  auto checked = [&]() -> Result<std::pair<formats::VerifiedReceipt, Checked>> {
    VOUCH_ASSIGN_OR_RETURN(Bytes raw, ReadInput(f.file, formats::kMaxReceiptSize));
    VOUCH_ASSIGN_OR_RETURN(formats::VerifiedReceipt v, formats::VerifyReceipt(raw));
    VOUCH_ASSIGN_OR_RETURN(Checked c, CheckReceipt(f, v.receipt));
    return std::make_pair(std::move(v), std::move(c));
  }();
  if (!checked.ok()) {
    if (f.json) {
      PrintJson({{"file", f.file}, {"verified", false}, {"code", CodeName(checked.status().code())},
                 {"message", checked.status().message()}});
    }
    return checked.status().Context(f.file);
  }
  Print(f, checked->first, checked->second);
  return Status::Ok();
}

}  // namespace

void AddReceiptCommands(CLI::App& app, Action& action) {
  auto* receipt = app.add_subcommand("receipt", "Enrollment receipts devices bring back on sticks");
  receipt->require_subcommand(1);
  auto f = std::make_shared<ReceiptVerifyFlags>();
  auto* c = receipt->add_subcommand("verify", "Check a receipt's two signatures (z and x) and who its keys are");
  c->add_option("FILE", f->file, "Receipt file (.vrj), e.g. from a stick's vouch-receipts/ folder")->required();
  c->add_option("--trust", f->trust, "Domain CA certificates (PEM): the receipt's certificate for Z must chain to one");
  c->add_option("--device-key", f->device_key, "The device's factory key X (PEM): the receipt must be from it");
  c->add_option("--voucher", f->voucher, "The voucher it answers: same id, device key and combined key");
  c->add_option("--at", f->at, "With --trust: check validity at this instant (RFC 3339) instead of now");
  c->add_flag("--no-time", f->no_time, "With --trust: skip validity periods");
  c->add_flag("--json", f->json, "Print one JSON document");
  c->footer("A receipt is signed with z, so its device holds the private key of the combined key Z (the proof of\n"
            "possession a CA could not get when it certified Z), and with x, the factory key. The signatures say\n"
            "only that someone holds both keys: give at least one of --device-key, --voucher, --trust to say whose.\n"
            "Exit status: 0 verified, 1 refused (bad-signature, wrong-device, id-mismatch, combined-key-mismatch,\n"
            "certificate-mismatch, untrusted-signer, ...), 2 usage.\n"
            "Examples:\n"
            "  vouch receipt verify /media/usb0/vouch-receipts/B5/SR/MB5S-.../MC3Q-....vrj --trust owner-ca.pem\n"
            "  vouch receipt verify r.vrj --device-key sn1.pub --voucher sn1.vjj --trust owner-ca.pem --json");
  c->callback([&action, f] { action = [f] { return RunReceiptVerify(*f); }; });
}

}  // namespace vouch::tools
