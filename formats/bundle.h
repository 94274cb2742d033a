// Bundles: `<BUNDLE-ID>.vbundle`, a ZIP of vouchers at their layout paths behind a manifest
// (DESIGN.md section 7). Spec page: formats/bundle.md.
//
// Large exports are cut into shards by layout prefix, so a device opens only the one shard
// that can hold its vouchers (DESIGN.md section 10): over kShardThreshold vouchers one bundle
// per c1c2, `vouch.vshards/<c1c2>/<BUNDLE-ID>.vbundle`, and a c1c2 shard that would still
// hold over kShardThreshold is cut by c3c4, `vouch.vshards/<c1c2>/<c3c4>/<BUNDLE-ID>.vbundle`.
// (c1 takes only 4 values: the type byte 0x60 leaves 2 bits of it to the digest, so there
// are 128 c1c2 shards, each cut into up to 1,024.)
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "formats/manifest.h"
#include "libvoucher/status.h"

namespace vouch::formats {
namespace zip {
class Reader;
}

inline constexpr size_t kShardThreshold = 4096;
inline constexpr std::string_view kShardDirectory = "vouch.vshards";

struct BundleLimits {
  size_t max_entries = 16384;           // vouchers in one bundle (each may have its proof)
  uint64_t max_voucher = 64 * 1024;     // bytes of one voucher
  uint64_t max_proof = 64 * 1024;       // bytes of one proof (tlog::kMaxProofSize)
  uint64_t max_file = 1ull << 30;       // bytes of one bundle file
};

// A voucher to pack or found: its layout path, envelope bytes and, when it has one, its
// transparency log proof (the bytes of `<path>.tlog-proof`, not checked here: the judge
// checks a proof against its policy; formats/layout.md, "Proofs beside vouchers").
struct PackedVoucher {
  std::string path;
  Bytes bytes;
  std::optional<Bytes> proof = std::nullopt;
};

// The shard directories under kShardDirectory that can hold a device's vouchers: its
// c1c2 and its c1c2/c3c4 ("B5", "B5/SR"), the layout's own first directories.
Result<std::vector<std::string>> ShardPrefixes(std::string_view device_udf);

// The shard each voucher goes in (`vouchers` sorted by layout path, each path a layout path):
// "B5" for its c1c2, or "B5/SR" when that c1c2 holds more than `deep_shard_threshold`. What
// WriteBundles cuts a large export into, and what `vouch publish` always cuts (cache/publish.md).
std::map<std::string, std::vector<PackedVoucher>> CutShards(std::vector<PackedVoucher> vouchers,
                                                           size_t deep_shard_threshold = kShardThreshold);

struct WrittenBundle {
  std::filesystem::path path;
  std::string id;
  size_t count = 0;
};

// Writes `vouchers` (any order; duplicates by path dropped) under `out_dir`: one bundle, or
// shards when there are more than `shard_threshold` (cut deeper where one c1c2 shard would
// hold more than `deep_shard_threshold`). Deterministic: created-on is the newest
// voucher's created-on, and the ZIP carries no times of its own. Paths must be layout paths
// whose ids match the bytes (kUnsafePath, kIdMismatch otherwise); a voucher's proof, when
// it has one, is written right after it at its proof path (kTooLarge over the proof cap).
Result<std::vector<WrittenBundle>> WriteBundles(const std::filesystem::path& out_dir, std::vector<PackedVoucher> vouchers,
                                               size_t shard_threshold = kShardThreshold,
                                               size_t deep_shard_threshold = kShardThreshold);

// One shard, for writers that hand over a shard at a time so as not to hold every voucher
// at once (cache/export.cpp, which cuts as CutShards does): `vouchers`, all filed under
// `prefix` ("B5" or "B5/SR"; kUnsafePath otherwise), become the bundle
// `out_dir/vouch.vshards/<prefix>/<BUNDLE-ID>.vbundle`.
Result<WrittenBundle> WriteShard(const std::filesystem::path& out_dir, std::string_view prefix,
                                 std::vector<PackedVoucher> vouchers);

class Bundle {
 public:
  // Opens and checks everything but the vouchers' own bytes (formats/bundle.md, reader
  // rules); reads only the manifest. Refusals carry the codes listed there.
  static Result<Bundle> Open(const std::filesystem::path& path, const BundleLimits& limits = {});
  // The same for a file already opened (the caller keeps `fd`); `path` names it and is
  // checked against the manifest's id like a file name.
  static Result<Bundle> OpenFd(int fd, const std::filesystem::path& path, const BundleLimits& limits = {});

  const std::string& id() const { return id_; }
  const Manifest& manifest() const { return manifest_; }
  const std::filesystem::path& path() const { return path_; }

  Bundle(Bundle&&) noexcept;
  Bundle& operator=(Bundle&&) noexcept;
  ~Bundle();

  // A bundle found in the shard directory `prefix` (ShardPrefixes) holds only vouchers
  // filed under that prefix: kManifestMismatch otherwise (formats/bundle.md, "Shards").
  Status CheckShard(std::string_view prefix) const;

  // Reads the vouchers filed under one device, each once, checked against its size and id
  // (kIdMismatch refuses the bundle), each with its proof when the bundle holds one. Reads
  // no other entry.
  Result<std::vector<PackedVoucher>> ReadDevice(std::string_view device_udf) const;
  // Reads and checks every voucher, with its proof.
  Result<std::vector<PackedVoucher>> ReadAll() const;

 private:
  Result<PackedVoucher> ReadEntry(size_t manifest_index) const;  // a voucher and its proof
  std::filesystem::path path_;
  std::string id_;
  Manifest manifest_;
  std::unique_ptr<zip::Reader> reader_;  // the ZIP boundary stays in formats/zip/
  Bundle();
};

}  // namespace vouch::formats
