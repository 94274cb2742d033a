// vouch issue | renew | request | sign: making enrolling vouchers, in one step or split between
// the owner (request: everything but the signature) and the manufacturer (sign: checks, signs),
// and renewals (a fresh certificate for the same Z). A transfer is a new owner's request signed
// by the current owner.
#include <unistd.h>

#include <functional>
#include <iostream>
#include <memory>

#include "formats/contribution.h"
#include "formats/device_uri.h"
#include "formats/devices_csv.h"
#include "formats/issuing.h"
#include "formats/request.h"
#include "formats/voucher_json.h"
#include "libvoucher/file.h"
#include "libvoucher/cogen.h"
#include "libvoucher/issue.h"
#include "libvoucher/suite.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace vouch::tools {
namespace {

struct SignerFlags {
  std::string key, cert, chain;
};

struct OutputFlags {
  std::string out, out_dir, format = "jws";
  bool force = false, json = false;
};

struct IssueFlags {
  std::string device_key, serial, device_uri, batch, domain_ca, domain_ca_key, expires_in, expires_on, assertion = "verified";
  std::vector<std::string> contributions;
  SignerFlags signer;
  OutputFlags output;
  unsigned jobs = 0;
  bool plain = false;
};

struct RenewFlags {
  std::string device_key, combined_key, previous_cert, serial, batch, domain_ca, domain_ca_key, expires_in, expires_on,
      assertion = "verified";
  SignerFlags signer;
  OutputFlags output;
  unsigned jobs = 0;
};

struct RequestFlags {
  std::string device_key, serial, device_uri, domain_ca, domain_ca_key, expires_in, expires_on, out, assertion = "verified";
  std::vector<std::string> contributions;
  bool no_certificate = false, force = false, plain = false;
};

struct ContributeFlags {
  std::string device_key, device_uri, out;
  bool force = false, json = false;
};

struct SignFlags {
  std::string request, device_key, devices;
  std::vector<std::string> owners;
  SignerFlags signer;
  OutputFlags output;
  bool plain = false;
};

void AddSignerFlags(CLI::App* c, SignerFlags& s) {
  c->add_option("--signer-key", s.key, "Signer's private key (PEM): P-256, P-384, Ed25519 or Ed448; CMS needs P-256 or P-384")->required();
  c->add_option("--signer-cert", s.cert, "Signer's certificate (PEM); a key the device trusts must be on its path")->required();
  c->add_option("--chain", s.chain, "Intermediate certificates to include (PEM), signer's issuer first");
}

void AddOutputFlags(CLI::App* c, OutputFlags& o) {
  auto* out = c->add_option("--out", o.out, "Write the voucher to this file");
  auto* dir = c->add_option("--out-dir", o.out_dir, "File the voucher under DIR at its layout path vouchers/../<ID>.<ext>");
  out->excludes(dir);
  c->add_option("--format", o.format, "Envelope: jws (.vjj), cms (.vcj) or cose (.vch, cBRSKI)")
      ->check(CLI::IsMember({"jws", "cms", "cose"}))
      ->capture_default_str();
  c->add_flag("--force", o.force, "Overwrite --out if it exists");
  c->add_flag("--json", o.json, "Print one JSON document");
}

Result<formats::EnvelopeKind> KindOf(const OutputFlags& o) {
  if (o.out.empty() && o.out_dir.empty()) return Error(Code::kUsage, "say where the voucher goes: --out FILE or --out-dir DIR");
  return *formats::KindFromName(o.format);
}

// --device-key takes the device's public key X; a refusal names the flag, so that a
// certificate or the wrong key file given there reads as what it is.
Result<PublicKey> DeviceKeyFlag(const std::string& path) {
  auto key = LoadPublicKey(path);
  if (!key.ok()) return key.status().Context("--device-key");
  return key;
}

// The device: --device-key and --serial, or --device-uri TEXT (formats/device_uri.md, what the
// device's QR code says), which carries both; CLI11 refuses the two forms together. Without
// `serial` (contribute) only the key is taken.
Status DeviceFromFlags(const std::string& key, const std::string* serial, const std::string& uri, DraftRequest& r) {
  if (!uri.empty()) {
    auto d = formats::DecodeDeviceUri(uri);
    if (!d.ok()) return d.status().Context("--device-uri");
    r.device_key = d->key;
    r.serial_number = d->serial;
    return Status::Ok();
  }
  if (key.empty() || (serial && serial->empty())) {
    return Error(Code::kUsage, serial ? "give --device-key and --serial, or --device-uri" : "give --device-key or --device-uri");
  }
  VOUCH_ASSIGN_OR_RETURN(r.device_key, DeviceKeyFlag(key));
  if (serial) r.serial_number = *serial;
  return Status::Ok();
}

// --device-uri with --device-key and --serial: one device, told one way.
void AddDeviceUriFlag(CLI::App* c, std::string& uri, CLI::Option* key, CLI::Option* serial) {
  auto* u = c->add_option("--device-uri", uri, "The device URI its QR code holds (VOUCH:V:1;K:...;;): key and serial in one");
  u->excludes(key);
  if (serial) u->excludes(serial);
}

// --contribution FILE...: other parties' sealed y_i for this device key, in the order given.
Status AddContributions(const std::vector<std::string>& files, DraftRequest& r) {
  for (const std::string& file : files) {
    VOUCH_ASSIGN_OR_RETURN(Bytes text, ReadFile(file, formats::kMaxContributionSize));
    auto c = formats::DecodeContribution(text);
    if (!c.ok()) return c.status().Context("--contribution " + file);
    VOUCH_RETURN_IF_ERROR(formats::CheckContributionFor(*c, r.device_key).Context("--contribution " + file));
    r.contributions.push_back(std::move(c->sealed));
  }
  return Status::Ok();
}

nlohmann::json ToJson(const formats::Issued& i) {
  // A plain voucher has neither key: null, not an empty string that reads as a key.
  auto key = [](const std::string& udf) { return udf.empty() ? nlohmann::json(nullptr) : nlohmann::json(udf); };
  return {{"path", i.path}, {"id", i.envelope.id}, {"device-key", key(i.device_udf)}, {"serial-number", i.serial_number},
          {"combined-key", key(i.combined_key)}};
}

void PrintIssued(const formats::Issued& i, bool json) {
  if (json) PrintJson(ToJson(i));
  else std::cout << i.path << "\n";
}

// --plain (formats/voucher.md, "Plain vouchers"): what an enrolling voucher needs and a plain
// one does not have is refused rather than ignored, so that no one believes a device key or a
// contribution went into a voucher that carries none.
Status CheckPlainFlags(const std::string& device_key, const std::vector<std::string>& contributions,
                       const std::string& domain_ca_key, const std::string& serial) {
  if (!device_key.empty() || !contributions.empty() || !domain_ca_key.empty()) {
    return Error(Code::kUsage, "a --plain voucher has no device key, contribution or certificate for Z: "
                               "drop --device-key, --contribution and --domain-ca-key");
  }
  if (serial.empty()) return Error(Code::kUsage, "a --plain voucher names its device by --serial alone: give --serial");
  return Status::Ok();
}

PlainRequest PlainOf(const DraftRequest& base, const std::string& serial) {
  PlainRequest p;
  p.serial_number = serial;
  p.domain_ca = base.domain_ca;
  p.created_on = base.created_on;
  p.expires_on = base.expires_on;
  p.assertion = base.assertion;
  return p;
}

formats::Destination DestinationOf(const OutputFlags& o) { return {o.out, o.out_dir, o.force}; }

Result<DraftRequest> BaseRequest(const std::string& domain_ca, const std::string& domain_ca_key,
                                 const std::string& expires_in, const std::string& expires_on,
                                 const std::string& assertion) {
  DraftRequest r;
  VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> ca, LoadCertificates(domain_ca));
  r.domain_ca = ca[0];
  if (!domain_ca_key.empty()) {
    auto k = LoadPrivateKey(domain_ca_key);
    if (!k.ok()) return k.status().Context("--domain-ca-key");
    r.domain_ca_key = *k;
  }
  VOUCH_ASSIGN_OR_RETURN(r.expires_on, ExpiryFromFlags(expires_in, expires_on, r.created_on));
  if (!IsKnownAssertion(assertion)) {
    return Error(Code::kUsage, "--assertion '" + assertion + "' is not verified, logged, proximity or agent-proximity");
  }
  r.assertion = assertion;
  return r;
}

// --batch FILE: one voucher per line of the devices file (`columns` 2 for issue, 3 for renew),
// on every core, progress on a terminal, one report line per voucher (or --json), the failed
// lines named. `run` is IssueBatch or RenewBatch with everything but the lines bound.
using BatchRun = std::function<std::vector<Result<formats::Issued>>(const std::vector<formats::DeviceLine>&,
                                                                    const formats::BatchOptions&)>;
Status RunBatch(const std::string& batch, int columns, const OutputFlags& output, unsigned jobs, const BatchRun& run) {
  if (output.out_dir.empty()) return Error(Code::kUsage, "--batch writes many vouchers: give --out-dir DIR");
  // The file is read, and its vouchers issued and reported, kBatchChunk lines at a time: a
  // fleet of a million is never all in memory (only the failures are kept, for --json).
  VOUCH_ASSIGN_OR_RETURN(formats::DevicesFile file, formats::DevicesFile::Open(batch, columns));
  constexpr size_t kBatchChunk = 4096;
  bool tty = ::isatty(STDERR_FILENO);
  size_t issued = 0, failed = 0, before = 0;
  formats::BatchOptions options;
  options.jobs = jobs;
  if (tty) options.progress = [&](size_t done, size_t) { std::cerr << "\rissued " << before + done << std::flush; };
  nlohmann::json failures = nlohmann::json::array();
  // --json: {"issued": [...], "failed": [...]}, the issued ones printed as they come.
  auto element = [](const nlohmann::json& e) {
    std::string text = JsonText(e), out = "    ";
    for (char c : text) {
      out += c;
      if (c == '\n') out += "    ";
    }
    return out;
  };
  if (output.json) std::cout << "{\n  \"issued\": [";
  for (;;) {
    VOUCH_ASSIGN_OR_RETURN(std::vector<formats::DeviceLine> lines, file.Next(kBatchChunk));
    if (lines.empty()) break;
    std::vector<Result<formats::Issued>> results = run(lines, options);
    before += lines.size();
    for (size_t i = 0; i < lines.size(); ++i) {
      if (results[i].ok()) {
        if (output.json) std::cout << (issued ? ",\n" : "\n") << element(ToJson(*results[i]));
        else std::cout << results[i]->path << "\n";
        ++issued;
      } else {
        ++failed;
        const Status& s = results[i].status();
        failures.push_back({{"line", lines[i].line}, {"serial-number", lines[i].serial},
                            {"code", CodeName(s.code())}, {"message", s.message()}});
        std::cerr << "vouch: " << batch << " line " << lines[i].line << ": " << s.message() << " (" << CodeName(s.code()) << ")\n";
      }
    }
  }
  if (tty && before) std::cerr << "\n";
  if (output.json) {
    std::cout << (issued ? "\n  ]" : "]") << ",\n  \"failed\": ";
    std::string text = JsonText(failures), indented;
    for (char c : text) {
      indented += c;
      if (c == '\n') indented += "  ";
    }
    std::cout << indented << "\n}\n";
  }
  std::cerr << "vouch: issued " << issued << " vouchers, " << failed << " failed\n";
  if (failed) return Error(Code::kMalformed, std::to_string(failed) + " of " + std::to_string(issued + failed) + " devices failed (see above)");
  return Status::Ok();
}

Status RunIssuePlain(const IssueFlags& f) {
  if (!f.batch.empty()) {
    return Error(Code::kUsage, "--plain does not go with --batch: issue plain vouchers one at a time with --serial");
  }
  VOUCH_RETURN_IF_ERROR(CheckPlainFlags(f.device_key, f.contributions, f.domain_ca_key, f.serial));
  if (!f.device_uri.empty()) return Error(Code::kUsage, "a plain voucher names no device key: give --serial, not --device-uri");
  VOUCH_ASSIGN_OR_RETURN(formats::EnvelopeKind kind, KindOf(f.output));
  VOUCH_ASSIGN_OR_RETURN(formats::Signer signer, LoadSigner(f.signer.key, f.signer.cert, f.signer.chain));
  VOUCH_ASSIGN_OR_RETURN(DraftRequest base, BaseRequest(f.domain_ca, "", f.expires_in, f.expires_on, f.assertion));
  VOUCH_ASSIGN_OR_RETURN(formats::Issued i, formats::IssuePlain(PlainOf(base, f.serial), kind, signer));
  VOUCH_ASSIGN_OR_RETURN(i.path, formats::WriteIssued(i.envelope, i.filed_under, DestinationOf(f.output)));
  PrintIssued(i, f.output.json);
  return Status::Ok();
}

Status RunIssue(const IssueFlags& f) {
  if (f.plain) return RunIssuePlain(f);
  VOUCH_ASSIGN_OR_RETURN(formats::EnvelopeKind kind, KindOf(f.output));
  VOUCH_ASSIGN_OR_RETURN(formats::Signer signer, LoadSigner(f.signer.key, f.signer.cert, f.signer.chain));
  VOUCH_ASSIGN_OR_RETURN(DraftRequest r, BaseRequest(f.domain_ca, f.domain_ca_key, f.expires_in, f.expires_on, f.assertion));
  if (!f.batch.empty()) {
    if (!f.device_key.empty() || !f.serial.empty() || !f.device_uri.empty()) {
      return Error(Code::kUsage, "--batch takes serials and keys from its file, not --device-key/--serial/--device-uri");
    }
    if (!f.contributions.empty()) return Error(Code::kUsage, "--contribution is sealed to one device key; it does not go with --batch");
    return RunBatch(f.batch, 2, f.output, f.jobs, [&](const auto& lines, const auto& options) {
      return formats::IssueBatch(lines, r, kind, signer, f.output.out_dir, options);
    });
  }
  if (f.device_key.empty() && f.serial.empty() && f.device_uri.empty()) {
    return Error(Code::kUsage, "give --device-key and --serial, or --device-uri (or --batch FILE)");
  }
  VOUCH_RETURN_IF_ERROR(DeviceFromFlags(f.device_key, &f.serial, f.device_uri, r));
  VOUCH_RETURN_IF_ERROR(AddContributions(f.contributions, r));
  VOUCH_ASSIGN_OR_RETURN(formats::Issued i, formats::IssueVoucher(r, kind, signer));
  VOUCH_ASSIGN_OR_RETURN(i.path, formats::WriteIssued(i.envelope, i.filed_under, DestinationOf(f.output)));
  if (f.output.json) PrintJson(ToJson(i));
  else std::cout << i.path << "\n";
  return Status::Ok();
}

Status RunRenew(const RenewFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(formats::EnvelopeKind kind, KindOf(f.output));
  VOUCH_ASSIGN_OR_RETURN(formats::Signer signer, LoadSigner(f.signer.key, f.signer.cert, f.signer.chain));
  // The fields a renewal shares with a fresh voucher, read by the one reader of them.
  VOUCH_ASSIGN_OR_RETURN(DraftRequest base, BaseRequest(f.domain_ca, f.domain_ca_key, f.expires_in, f.expires_on, f.assertion));
  RenewalRequest r;
  r.domain_ca = base.domain_ca;
  r.domain_ca_key = *base.domain_ca_key;
  r.created_on = base.created_on;
  r.expires_on = base.expires_on;
  r.assertion = base.assertion;
  if (!f.previous_cert.empty()) {
    // The construction of the certificate being renewed travels on (DESIGN.md 3b).
    VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> previous, LoadCertificates(f.previous_cert));
    auto made = ReadConstruction(previous[0]);
    if (!made.ok()) return made.status().Context("--previous-cert");
    if (!*made) return Error(Code::kUsage, "--previous-cert " + f.previous_cert + " carries no construction to renew");
    r.construction = **made;
  }
  if (!f.batch.empty()) {
    if (!f.device_key.empty() || !f.combined_key.empty() || !f.serial.empty() || !f.previous_cert.empty()) {
      return Error(Code::kUsage, "--batch takes serials and keys from its file, not --device-key/--combined-key/--serial/--previous-cert");
    }
    return RunBatch(f.batch, 3, f.output, f.jobs, [&](const auto& lines, const auto& options) {
      return formats::RenewBatch(lines, r, kind, signer, f.output.out_dir, options);
    });
  }
  if (f.device_key.empty() || f.combined_key.empty() || f.serial.empty()) {
    return Error(Code::kUsage, "give --device-key, --combined-key and --serial (or --batch FILE)");
  }
  VOUCH_ASSIGN_OR_RETURN(r.device_key, DeviceKeyFlag(f.device_key));
  auto z = LoadPublicKey(f.combined_key);
  if (!z.ok()) return z.status().Context("--combined-key");
  r.combined_key = *z;
  r.serial_number = f.serial;
  VOUCH_ASSIGN_OR_RETURN(formats::Issued i, formats::IssueRenewal(r, kind, signer));
  VOUCH_ASSIGN_OR_RETURN(i.path, formats::WriteIssued(i.envelope, i.filed_under, DestinationOf(f.output)));
  if (f.output.json) PrintJson(ToJson(i));
  else std::cout << i.path << "\n";
  return Status::Ok();
}

Status RunRequest(const RequestFlags& f) {
  if (f.plain) {
    VOUCH_RETURN_IF_ERROR(CheckPlainFlags(f.device_key, f.contributions, "", f.serial));
    if (!f.device_uri.empty()) return Error(Code::kUsage, "--plain requests name no device key: give --serial, not --device-uri");
    if (f.no_certificate) return Error(Code::kUsage, "a --plain voucher certifies nothing: drop --no-certificate");
  } else if (f.device_key.empty() && f.device_uri.empty()) {
    return Error(Code::kUsage, "give --device-key and --serial, or --device-uri (or --plain for a voucher without enrollment)");
  }
  VOUCH_ASSIGN_OR_RETURN(DraftRequest r, BaseRequest(f.domain_ca, f.domain_ca_key, f.expires_in, f.expires_on, f.assertion));
  if (f.plain) {
    // The domain CA key signs the request: it proves the requester holds the domain it pins.
    VOUCH_ASSIGN_OR_RETURN(Voucher plain, DraftPlain(PlainOf(r, f.serial)));
    VOUCH_ASSIGN_OR_RETURN(Bytes request, formats::EncodePlainRequest(plain, {*r.domain_ca_key, {r.domain_ca}}));
    VOUCH_RETURN_IF_ERROR(WriteFileAtomic(f.out, request, 0644, f.force ? Overwrite::kYes : Overwrite::kNo));
    std::cout << f.out << "\n";
    return Status::Ok();
  }
  VOUCH_RETURN_IF_ERROR(DeviceFromFlags(f.device_key, &f.serial, f.device_uri, r));
  VOUCH_RETURN_IF_ERROR(AddContributions(f.contributions, r));
  formats::Signer owner{*r.domain_ca_key, {r.domain_ca}};
  if (f.no_certificate) r.domain_ca_key.reset();
  VOUCH_ASSIGN_OR_RETURN(Draft draft, DraftVoucher(r));
  VOUCH_ASSIGN_OR_RETURN(Bytes request, formats::EncodeRequest(draft, owner));
  VOUCH_RETURN_IF_ERROR(WriteFileAtomic(f.out, request, 0644, f.force ? Overwrite::kYes : Overwrite::kNo));
  std::cout << f.out << "\n";
  return Status::Ok();
}

Status RunContribute(const ContributeFlags& f) {
  DraftRequest r;
  VOUCH_RETURN_IF_ERROR(DeviceFromFlags(f.device_key, nullptr, f.device_uri, r));
  const PublicKey& device = r.device_key;
  formats::ContributionFile file;
  file.device_key = device.Fingerprint();
  file.suite = std::string(SuiteName(SuiteOfGroup(device.group())));
  std::string udf;
  {
    // y_i is drawn, sealed to X and dropped here: no one, this party included, sees it again.
    VOUCH_ASSIGN_OR_RETURN(cogen::Contribution c, cogen::Contribute(device));
    VOUCH_ASSIGN_OR_RETURN(file.sealed, cogen::Seal(device, file.device_key, c.y));
    udf = c.y.Public().Fingerprint();
  }
  VOUCH_RETURN_IF_ERROR(WriteFileAtomic(f.out, formats::EncodeContribution(file), 0644, f.force ? Overwrite::kYes : Overwrite::kNo));
  if (f.json) {
    PrintJson({{"path", f.out}, {"device-key", file.device_key}, {"suite", file.suite}, {"contribution-key", udf}});
  } else {
    std::cout << f.out << "\n";
  }
  return Status::Ok();
}

// The device key the manufacturer has on record for this request.
Result<PublicKey> DeviceKeyFor(const SignFlags& f, const Voucher& v) {
  if (!f.device_key.empty()) return DeviceKeyFlag(f.device_key);
  VOUCH_ASSIGN_OR_RETURN(Bytes text, ReadFile(f.devices, formats::kMaxDevicesFileSize));
  VOUCH_ASSIGN_OR_RETURN(std::vector<formats::DeviceLine> lines, formats::ParseDevicesCsv(AsChars(text)));
  for (const auto& l : lines) {
    if (l.status.ok() && l.serial == v.serial_number) return PublicKey::Parse(AsBytes(l.key_text));
  }
  return Error(Code::kWrongSerial, "serial '" + v.serial_number + "' is not in " + f.devices);
}

// A plain request names no device key: what is on record to check is its serial, when the
// signer keeps a devices file.
Status SerialOnRecord(const std::string& devices, const std::string& serial) {
  VOUCH_ASSIGN_OR_RETURN(Bytes text, ReadFile(devices, formats::kMaxDevicesFileSize));
  VOUCH_ASSIGN_OR_RETURN(std::vector<formats::DeviceLine> lines, formats::ParseDevicesCsv(AsChars(text)));
  for (const auto& l : lines) {
    // A URI line that did not decode carries its raw text as the serial: it records nothing.
    if (l.status.ok() && l.serial == serial) return Status::Ok();
  }
  return Error(Code::kWrongSerial, "serial '" + serial + "' is not in " + devices);
}

// vouch sign --plain: the request's signature by the domain certificate it pins (OpenRequest),
// --owner, the voucher written as vouch writes it, the serial on record (--devices) and
// created-on against the clock; nothing else is there to check. Signing a plain voucher is opted into: it pins an owner for a serial with no
// device key behind it, which a pipeline that signs enrolling requests must not do unasked.
Status SignPlain(const SignFlags& f, const formats::OpenedRequest& req, formats::EnvelopeKind kind,
                 const formats::Signer& signer) {
  if (req.voucher.enrollment) {
    return Error(Code::kUsage, f.request + ": the request's voucher has a vouch-enroll:enrollment; sign it without --plain");
  }
  // A pledge refuses members it does not know and times in any form but whole seconds in Z
  // (formats/voucher.md), and the exact bytes are signed: they must be what vouch writes.
  auto canonical = formats::EncodeVoucher(req.voucher);
  if (!canonical.ok() || *canonical != req.voucher_json) {
    return Error(Code::kMalformed, f.request + ": the plain voucher is not written as vouch writes one "
                                               "(RFC 8366 leaves only, times YYYY-MM-DDTHH:MM:SSZ); a BRSKI pledge could refuse it");
  }
  if (!f.devices.empty()) VOUCH_RETURN_IF_ERROR(SerialOnRecord(f.devices, req.voucher.serial_number).Context(f.request));
  VOUCH_RETURN_IF_ERROR(CheckCreatedOnForSigning(req.voucher, Instant::Now()).Context(f.request));
  VOUCH_ASSIGN_OR_RETURN(formats::Envelope envelope, formats::SignVoucherJson(req.voucher_json, kind, signer));
  formats::Issued i = formats::Describe(std::move(envelope), req.voucher);
  VOUCH_ASSIGN_OR_RETURN(i.path, formats::WriteIssued(i.envelope, i.filed_under, DestinationOf(f.output)));
  PrintIssued(i, f.output.json);
  return Status::Ok();
}

Status RunSign(const SignFlags& f) {
  if (f.plain) {
    if (!f.device_key.empty()) return Error(Code::kUsage, "a --plain voucher has no device key: drop --device-key (--devices checks the serial)");
    } else if (f.device_key.empty() == f.devices.empty()) {
    return Error(Code::kUsage, "give the device key on record: --device-key PUB or --devices FILE");
  }
  VOUCH_ASSIGN_OR_RETURN(formats::EnvelopeKind kind, KindOf(f.output));
  VOUCH_ASSIGN_OR_RETURN(formats::Signer signer, LoadSigner(f.signer.key, f.signer.cert, f.signer.chain));
  VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> owners, LoadAnchors(f.owners));
  VOUCH_ASSIGN_OR_RETURN(Bytes raw, ReadFile(f.request, formats::kMaxVoucherSize));
  auto req = formats::OpenRequest(raw, owners, TimePolicy::Now());
  if (!req.ok()) return req.status().Context(f.request);
  if (f.plain) return SignPlain(f, *req, kind, signer);
  if (!req->contribution) {
    return Error(Code::kUsage, f.request + ": the request is for a plain voucher (no vouch-enroll:enrollment); sign it with --plain");
  }
  VOUCH_ASSIGN_OR_RETURN(PublicKey device, DeviceKeyFor(f, req->voucher));
  VOUCH_RETURN_IF_ERROR(CheckDraft(req->voucher, device, *req->contribution).Context(f.request));
  // DESIGN.md 5: the owner chose created-on; a date far ahead would outrank every genuine
  // voucher on devices without a clock, so the signer judges it against its own clock.
  VOUCH_RETURN_IF_ERROR(CheckCreatedOnForSigning(req->voucher, Instant::Now()).Context(f.request));
  // The owner's voucher is signed byte for byte as the request carries it (in COSE, the same
  // voucher in YANG-CBOR).
  VOUCH_ASSIGN_OR_RETURN(formats::Envelope envelope, formats::SignVoucherJson(req->voucher_json, kind, signer));
  formats::Issued i = formats::Describe(std::move(envelope), req->voucher);
  VOUCH_ASSIGN_OR_RETURN(i.path, formats::WriteIssued(i.envelope, i.filed_under, DestinationOf(f.output)));
  PrintIssued(i, f.output.json);
  return Status::Ok();
}

}  // namespace

void AddIssueCommands(CLI::App& app, Action& action) {
  auto fi = std::make_shared<IssueFlags>();
  auto* c = app.add_subcommand("issue", "Issue enrolling vouchers: draw y, encrypt it to the device, sign");
  auto* key = c->add_option("--device-key", fi->device_key, "Device public key X (PEM or DER)");
  auto* serial = c->add_option("--serial", fi->serial, "Device serial number");
  AddDeviceUriFlag(c, fi->device_uri, key, serial);
  c->add_option("--batch", fi->batch, "CSV of devices, one 'serial,public key' per line (key: base64 DER or quoted PEM), or one device URI");
  c->add_option("--jobs", fi->jobs, "Worker threads for --batch (default: all cores)");
  AddSignerFlags(c, fi->signer);
  c->add_option("--domain-ca", fi->domain_ca, "Owner's domain CA certificate, pinned in the voucher")->required();
  c->add_option("--domain-ca-key", fi->domain_ca_key, "Its private key: also issue a certificate for Z");
  c->add_option("--expires-in", fi->expires_in, "Validity, e.g. 30d, 12h (default: never expires)");
  c->add_option("--expires-on", fi->expires_on, "Expiry instant, RFC 3339");
  c->add_option("--assertion", fi->assertion, "verified | logged | proximity | agent-proximity")->capture_default_str();
  c->add_option("--contribution", fi->contributions,
                 "A contribution sealed to this device by another party (`vouch contribute`); repeatable");
  c->add_flag("--plain", fi->plain, "A plain RFC 8366 voucher for a BRSKI pledge: --serial and --domain-ca only, no enrollment; needs --out");
  AddOutputFlags(c, fi->output);
  c->footer(
      "Z is X plus the owner's own fresh contribution plus every --contribution, so no one can compute z\n"
      "unless the factory and every contributor collude. The suite is the device key's (p256, x25519, x448).\n"
      "Examples:\n"
      "  vouch issue --device-key dev.pub --serial SN1 --signer-key mfr.key --signer-cert mfr.pem \\\n"
      "              --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --expires-in 30d --out sn1.vjj\n"
      "  vouch issue --device-uri \"$(zbarimg --raw -q sn1.png)\" --signer-key mfr.key --signer-cert mfr.pem \\\n"
      "              --domain-ca owner-ca.pem --out sn1.vjj\n"
      "  vouch issue --batch fleet.csv --signer-key mfr.key --signer-cert mfr.pem --domain-ca owner-ca.pem --out-dir stick/\n"
      "  vouch issue --plain --serial SN1 --domain-ca owner-ca.pem --signer-key mfr.key --signer-cert mfr.pem \\\n"
      "              --format cms --out sn1.vcj\n"
      "Times are whole seconds (created-on is now, truncated): a device takes at most one voucher per second of\n"
      "created-on, so two vouchers for one device issued within one second do not both apply.\n"
      "--plain vouchers carry no vouch-enroll:enrollment: BRSKI pledges take them, vouch-device refuses them,\n"
      "and --out-dir files them under the UDF of their serial (no device key to file them by; no --batch).");
  c->callback([&action, fi] { action = [fi] { return RunIssue(*fi); }; });

  auto fn = std::make_shared<RenewFlags>();
  c = app.add_subcommand("renew", "Renew a device's certificate for Z: no new contribution, no key change");
  c->add_option("--device-key", fn->device_key, "Device public key X (PEM or DER)");
  c->add_option("--combined-key", fn->combined_key, "The device's current combined key Z (PEM or DER; its z.pub)");
  c->add_option("--serial", fn->serial, "Device serial number");
  c->add_option("--previous-cert", fn->previous_cert, "The certificate being renewed: its construction (how Z was made) is copied");
  c->add_option("--batch", fn->batch, "CSV of devices, one 'serial,device key,combined key' per line (keys: base64 DER or quoted PEM)");
  c->add_option("--jobs", fn->jobs, "Worker threads for --batch (default: all cores)");
  AddSignerFlags(c, fn->signer);
  c->add_option("--domain-ca", fn->domain_ca, "The owner's domain CA certificate the device has pinned")->required();
  c->add_option("--domain-ca-key", fn->domain_ca_key, "Its private key: issues the new certificate for Z")->required();
  c->add_option("--expires-in", fn->expires_in, "Validity of the voucher, e.g. 30d (default: never expires)");
  c->add_option("--expires-on", fn->expires_on, "Expiry instant, RFC 3339");
  c->add_option("--assertion", fn->assertion, "verified | logged | proximity | agent-proximity")->capture_default_str();
  AddOutputFlags(c, fn->output);
  c->footer(
      "Like an ACME renewal, without re-keying: the device keeps z and installs the new certificate as a\n"
      "new generation, under the same ordering, time and ownership rules as any voucher. A renewal for a Z\n"
      "that is not the device's current key, or that pins another owner, is refused by the device.\n"
      "Signed by the owner (--signer-key owner-ca.key --signer-cert owner-ca.pem) or the manufacturer.\n"
      "Example:\n"
      "  vouch renew --device-key dev.pub --combined-key z.pub --serial SN1 --previous-cert sn1-z.pem \\\n"
      "              --domain-ca owner-ca.pem --domain-ca-key owner-ca.key \\\n"
      "              --signer-key owner-ca.key --signer-cert owner-ca.pem --out-dir stick/");
  c->callback([&action, fn] { action = [fn] { return RunRenew(*fn); }; });

  auto fr = std::make_shared<RequestFlags>();
  c = app.add_subcommand("request", "Owner: prepare a voucher for a manufacturer to sign (y stays encrypted to the device)");
  key = c->add_option("--device-key", fr->device_key, "Device public key X (PEM or DER); not with --plain");
  serial = c->add_option("--serial", fr->serial, "Device serial number");
  AddDeviceUriFlag(c, fr->device_uri, key, serial);
  c->add_flag("--plain", fr->plain, "Request a plain RFC 8366 voucher (no enrollment, no device key) for a BRSKI pledge");
  c->add_option("--domain-ca", fr->domain_ca, "Owner's domain CA certificate")->required();
  c->add_option("--domain-ca-key", fr->domain_ca_key, "Its key: signs the request and certifies Z")->required();
  c->add_flag("--no-certificate", fr->no_certificate, "Do not issue a certificate for Z");
  c->add_option("--expires-in", fr->expires_in, "Validity, e.g. 30d (default: never expires)");
  c->add_option("--expires-on", fr->expires_on, "Expiry instant, RFC 3339");
  c->add_option("--assertion", fr->assertion, "verified | logged | proximity | agent-proximity")->capture_default_str();
  c->add_option("--out", fr->out, "Request file to write (.vrq)")->required();
  c->add_option("--contribution", fr->contributions,
                 "A contribution sealed to this device by another party (`vouch contribute`); repeatable");
  c->add_flag("--force", fr->force, "Overwrite --out");
  c->footer("Examples:\n  vouch request --device-key dev.pub --serial SN1 --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out sn1.vrq\n"
            "  vouch request --device-uri 'VOUCH:V:1;K:...;F:...;S:SN1;;' --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out sn1.vrq\n"
            "  vouch request --plain --serial SN1 --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out sn1.vrq\n"
            "A --plain request carries no contribution-key; the signer signs it only with `vouch sign --plain`.");
  c->callback([&action, fr] { action = [fr] { return RunRequest(*fr); }; });

  auto fc = std::make_shared<ContributeFlags>();
  c = app.add_subcommand("contribute", "Draw a secret contribution y for a device, seal it to the device key, keep nothing");
  key = c->add_option("--device-key", fc->device_key, "Device public key X (PEM or DER)");
  AddDeviceUriFlag(c, fc->device_uri, key, nullptr);
  c->add_option("--out", fc->out, "Contribution file to write (.vcon)")->required();
  c->add_flag("--force", fc->force, "Overwrite --out");
  c->add_flag("--json", fc->json, "Print one JSON document");
  c->footer("For an escrow, a second administrator or a hardware module: the file carries Y and y sealed to X,\n"
            "and whoever issues the voucher adds it with --contribution. y is never written anywhere else.\n"
            "--device-uri takes the device's QR code text instead of --device-key; its serial is not used.\n"
            "Example:\n  vouch contribute --device-key dev.pub --out escrow.vcon\n"
            "  vouch issue --device-key dev.pub --serial SN1 --contribution escrow.vcon ...");
  c->callback([&action, fc] { action = [fc] { return RunContribute(*fc); }; });

  auto fs = std::make_shared<SignFlags>();
  c = app.add_subcommand("sign", "Manufacturer: check an owner's request against the device on record, then sign it");
  c->add_option("--request", fs->request, "Request file from `vouch request`")->required();
  c->add_option("--device-key", fs->device_key, "Device public key on record");
  c->add_option("--devices", fs->devices, "Devices on record, CSV 'serial,public key' (looked up by serial)");
  c->add_option("--owner", fs->owners, "Accept requests only from these domain CA certificates");
  c->add_flag("--plain", fs->plain, "Sign a plain request (no enrollment): checks the owner's signature, the serial in --devices if given, created-on");
  AddSignerFlags(c, fs->signer);
  AddOutputFlags(c, fs->output);
  c->footer("Example:\n  vouch sign --request sn1.vrq --device-key dev.pub --signer-key mfr.key --signer-cert mfr.pem --out sn1.vjj\n"
            "Transfer to a new owner (DESIGN.md 9): the new owner writes the request with its own domain CA and fresh\n"
            "contributions; the current owner signs it under the domain CA the device has pinned:\n"
            "  vouch sign --request to-new.vrq --device-key dev.pub --signer-key old-ca.key --signer-cert old-ca.pem --out t.vjj\n"
            "A plain request (`vouch request --plain`) is signed only when asked, and only to --out:\n"
            "  vouch sign --plain --request sn1.vrq --devices fleet.csv --signer-key mfr.key --signer-cert mfr.pem --out sn1.vjj");
  c->callback([&action, fs] { action = [fs] { return RunSign(*fs); }; });
}

}  // namespace vouch::tools
