// A small fleet for the cache's tests of receipts and status: devices with their factory keys,
// vouchers the manufacturer of test::Pki issues for them, and the receipts each device signs
// with the z it computes when it applies one (vouch::Evaluate, the device's own rules).
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "cache/sources.h"
#include "formats/envelope.h"
#include "formats/layout.h"
#include "formats/receipt.h"
#include "libvoucher/enroll.h"
#include "libvoucher/issue.h"
#include "pki.h"

namespace vouch::test {

struct FleetDevice {
  PrivateKey x;
  std::string udf;
  std::string serial;
};

struct FleetVoucher {
  formats::Envelope envelope;
  std::string path;  // layout path
  Voucher voucher;
};

inline void PutFile(const std::filesystem::path& file, ByteView bytes) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

struct Fleet {
  Pki pki = Pki::Make();

  FleetDevice Device(const std::string& serial) const {
    PrivateKey x = *PrivateKey::Generate();
    return {x, x.Public().Fingerprint(), serial};
  }

  // A voucher for `d`, its certificate for Z valid `certificate_days` (none: no certificate).
  FleetVoucher Issue(const FleetDevice& d, std::optional<int64_t> certificate_days = 3650, Instant created_on = Instant::Now()) const {
    DraftRequest r = pki.Request(d.x.Public(), d.serial);
    r.created_on = created_on;
    if (certificate_days) r.certificate_days = *certificate_days;
    else r.domain_ca_key.reset();
    auto draft = DraftVoucher(r);
    REQUIRE(draft.ok());
    auto env = formats::SignVoucher(draft->voucher, formats::EnvelopeKind::kJws, pki.Manufacturer());
    REQUIRE(env.ok());
    std::string path = formats::LayoutPath({d.udf, env->id, formats::EnvelopeKind::kJws});
    return {*env, path, draft->voucher};
  }

  // What the device computes applying `v` from the factory: z, Z and the certificate for Z.
  Enrolled Apply(const FleetDevice& d, const FleetVoucher& v) const {
    DeviceIdentity id{d.x, d.udf, d.serial, {pki.mfr_root}, true};
    auto decision = Evaluate(id, std::nullopt, Candidate{&v.voucher, v.envelope.id, pki.mfr_root, pki.mfr_signer}, Instant::Now());
    REQUIRE(decision.ok());
    REQUIRE(decision->enrolled);
    return *decision->enrolled;
  }

  // The receipt `d` writes after applying `applied` as generation `generation`, naming
  // `named` (the voucher applied, unless a test says otherwise).
  Bytes Receipt(const FleetDevice& d, const FleetVoucher& applied, int64_t generation, const FleetVoucher* named = nullptr) const {
    Enrolled e = Apply(d, applied);
    formats::Receipt r;
    r.device_key = d.udf;
    r.device_public_key = d.x.Public();
    r.serial_number = d.serial;
    r.voucher_id = (named ? named : &applied)->envelope.id;
    r.combined_key = e.combined_key;
    r.generation = generation;
    r.time = Instant::Now();
    r.certificate = e.certificate;
    auto signed_receipt = formats::SignReceipt(r, *e.z, d.x);
    REQUIRE(signed_receipt.ok());
    return *signed_receipt;
  }

  // Where a stick carries a receipt: vouch-receipts/<c1c2>/<c3c4>/<UDF>/<ID>.vrj.
  static std::filesystem::path OnStick(const std::filesystem::path& stick, const FleetDevice& d, ByteView receipt) {
    return stick / formats::kMediumReceiptRoot / *formats::ReceiptPath(d.udf, formats::ReceiptId(receipt));
  }
};

// A new cache at `path`, accepting only what `anchors` sign when there are any.
inline cache::Cache NewCache(const std::filesystem::path& path, const std::vector<Certificate>& anchors = {}) {
  auto c = cache::Cache::Init(path, anchors);
  REQUIRE(c.ok());
  return std::move(*c);
}

// Files each voucher at its layout path under `dir` (a tree to import, a stick).
inline void FileVouchers(const std::filesystem::path& dir, std::initializer_list<const FleetVoucher*> vouchers) {
  for (const FleetVoucher* v : vouchers) PutFile(dir / v->path, v->envelope.bytes);
}

struct FleetImport {
  cache::AddReport report;
  std::vector<cache::CandidateReport> unreadable;  // refused by the source reader
};

// `vouch cache import` in process: vouchers, bundles and receipts from files and directories.
inline FleetImport ImportAll(cache::Cache& c, const std::vector<std::string>& inputs) {
  auto reader = cache::SourceReader::Open(inputs, cache::SourceReader::kBatch, cache::SourceReader::Bundles::kRead,
                                          cache::SourceReader::Receipts::kRead);
  REQUIRE(reader.ok());
  auto r = c.Add([&](std::vector<cache::Offered>* b) { return reader->Next(b); }, "test");
  INFO(r.status().message());
  REQUIRE(r.ok());
  return {*r, reader->refused()};
}

}  // namespace vouch::test
