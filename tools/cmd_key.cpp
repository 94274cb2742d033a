// vouch key new | show
#include <iostream>
#include <memory>

#include "libvoucher/encoding.h"
#include "libvoucher/key.h"
#include "libvoucher/suite.h"
#include "tools/commands.h"
#include "tools/qr_flags.h"

namespace vouch::tools {
namespace {

struct KeyNew {
  std::string out, public_out, suite = "p256";
  bool force = false, json = false;
};

struct KeyShow {
  std::string file, serial;
  bool json = false;
  QrFlags qr;
};

Status RunKeyNew(const KeyNew& o) {
  auto suite = ParseSuiteFlag(o.suite);
  if (!suite) return Error(Code::kUsage, "--suite '" + o.suite + "' is not p256, x25519 or x448");
  VOUCH_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::Generate(SuiteGroup(*suite)));
  Overwrite ow = o.force ? Overwrite::kYes : Overwrite::kNo;
  VOUCH_RETURN_IF_ERROR(SavePrivateKey(o.out, key, ow));
  if (!o.public_out.empty()) VOUCH_RETURN_IF_ERROR(SavePublicKey(o.public_out, key.Public(), ow));
  std::string udf = key.Public().Fingerprint();
  if (o.json) {
    nlohmann::json doc = {{"udf", udf}, {"suite", SuiteName(*suite)}, {"private_key", o.out}};
    if (!o.public_out.empty()) doc["public_key"] = o.public_out;
    PrintJson(doc);
  } else {
    std::cout << udf << "\n";
  }
  return Status::Ok();
}

Status RunKeyShow(const KeyShow& o) {
  // A private key file shows its public half; nothing secret is ever printed.
  VOUCH_ASSIGN_OR_RETURN(PublicKey pub, LoadPublicKey(o.file));
  if (o.qr.given() && o.serial.empty()) {
    return Error(Code::kUsage, "--qr, --qr-out and --uri need --serial: the device URI carries the serial the voucher names");
  }
  std::string uri;
  if (!o.serial.empty()) {
    VOUCH_ASSIGN_OR_RETURN(uri, DeviceUriOf(pub, o.serial));
  }
  if (o.json) {
    const std::string_view suite = SuiteName(SuiteOfGroup(pub.group()));
    nlohmann::json doc = {{"udf", pub.Fingerprint()},
                          {"suite", suite},
                          {"public_key_pem", pub.Pem()},
                          {"spki_der", Base64Encode(pub.SpkiDer())}};
    if (!uri.empty()) doc["uri"] = uri;
    if (!o.qr.qr_out.empty()) doc["qr-out"] = o.qr.qr_out;
    VOUCH_RETURN_IF_ERROR(o.qr.Emit(uri, /*json=*/true));
    PrintJson(doc);
  } else if (o.qr.given()) {
    return o.qr.Emit(uri);
  } else {
    std::cout << "udf:   " << pub.Fingerprint() << "\n"
              << "suite: " << SuiteName(SuiteOfGroup(pub.group())) << "\n"
              << pub.Pem();
  }
  return Status::Ok();
}

}  // namespace

void AddKeyCommands(CLI::App& app, Action& action) {
  auto* key = app.add_subcommand("key", "Create and show co-generation key pairs (P-256, Curve25519, Curve448)");
  key->require_subcommand(1);

  auto nw = std::make_shared<KeyNew>();
  auto* c = key->add_subcommand("new", "Generate a key pair; print the UDF fingerprint of its public key");
  c->add_option("--out", nw->out, "Private key file to write (PKCS#8 PEM, mode 0600)")->required();
  c->add_option("--public-out", nw->public_out, "Also write the public key (SPKI PEM) here");
  c->add_option("--suite", nw->suite, "p256, x25519 or x448 (DESIGN.md 3): the group vouchers for this key use")
      ->capture_default_str();
  c->add_flag("--force", nw->force, "Overwrite existing files");
  c->add_flag("--json", nw->json, "Print one JSON document");
  c->footer("An x25519 or x448 key is written as an X25519/X448 private key (usable by `openssl pkeyutl`) and\n"
            "published in Edwards form (an Ed25519/Ed448 public key), which Z = X + Y needs.\n"
            "Example:\n  vouch key new --out owner.key --public-out owner.pub\n  MB5S-R4AJ-3FBT-7NHO-T26Z-2E6Y-WFH4\n"
            "  vouch key new --suite x25519 --out dev.key --public-out dev.pub");
  c->callback([&action, nw] { action = [nw] { return RunKeyNew(*nw); }; });

  auto sh = std::make_shared<KeyShow>();
  c = key->add_subcommand("show", "Show the UDF, suite and public key of a key file (public or private)");
  c->add_option("FILE", sh->file, "Key file: PEM public or private key, or DER SubjectPublicKeyInfo")->required();
  c->add_option("--serial", sh->serial, "The device's serial number: --json then carries its device URI (\"uri\")");
  auto* json = c->add_flag("--json", sh->json, "Print one JSON document");
  sh->qr.Add(c, json);
  c->footer("--qr, --qr-out and --uri show the device URI (formats/device_uri.md): the key, its UDF and --serial,\n"
            "the text an owner scans and gives to `vouch issue --device-uri`.\n"
            "Examples:\n  vouch key show owner.key --json\n"
            "  vouch key show dev.pub --serial SN1 --qr\n"
            "  vouch key show dev.pub --serial SN1 --qr-out sn1.png");
  c->callback([&action, sh] { action = [sh] { return RunKeyShow(*sh); }; });
}

}  // namespace vouch::tools
