#include "formats/bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "formats/layout.h"
#include "formats/tlog/proof.h"
#include "formats/voucher_json.h"
#include "formats/zip/archive.h"
#include "libvoucher/udf.h"

namespace vouch::formats {
namespace fs = std::filesystem;

namespace {

// Names that would hurt an extractor, refused before anything else looks at them.
bool UnsafeName(const std::string& n) {
  return n.empty() || n[0] == '/' || n.find('\\') != std::string::npos || n.find('\0') != std::string::npos ||
         n == ".." || n.rfind("../", 0) == 0 || n.find("/../") != std::string::npos ||
         (n.size() >= 3 && n.compare(n.size() - 3, 3, "/..") == 0) || n.find(':') != std::string::npos;
}

// "vouchers/B5/SR/..." -> "B5" (depth 1) or "B5/SR" (depth 2): the shard a path belongs in.
std::string ShardOf(const std::string& layout_path, int depth) {
  return layout_path.substr(kLayoutRoot.size() + 1, depth == 1 ? 2 : 5);
}

// The newest created-on among the vouchers, as written; decoding is best effort (a voucher
// that does not decode is still carried, it just does not date the bundle).
std::string NewestCreatedOn(const std::vector<PackedVoucher>& vs) {
  std::string best_text = "1970-01-01T00:00:00Z";
  Instant best{};
  for (const auto& v : vs) {
    auto envelope = Identify(v.bytes);
    if (!envelope.ok()) continue;
    auto voucher = DecodeUnverified(*envelope);
    if (voucher.ok() && voucher->created_on > best) {
      best = voucher->created_on;
      best_text = voucher->created_on_text;
    }
  }
  return best_text;
}

Result<WrittenBundle> WriteOne(const fs::path& dir, std::vector<PackedVoucher> vs) {
  Manifest m;
  m.created_on = NewestCreatedOn(vs);
  for (const auto& v : vs) {
    VOUCH_ASSIGN_OR_RETURN(LayoutEntry e, ParseLayoutPath(v.path));
    m.entries.push_back({v.path, v.bytes.size(), e.voucher_id});
    // Right after its voucher, as the manifest's order (by path) puts it.
    if (v.proof) m.entries.push_back({ProofPath(e), v.proof->size(), e.voucher_id, true});
  }
  Bytes manifest = EncodeManifest(m);
  std::string id = BundleId(manifest);
  fs::path path = dir / (id + "." + std::string(kBundleExtension));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(Code::kIo, dir.string() + ": cannot create directory: " + ec.message());
  // Content-addressed: a file already there under its id is this bundle when it reads as
  // one, its id and every voucher checked; anything else of that name (a link, garbage, a
  // cut-short copy) is replaced, never trusted by its name.
  std::error_code st_ec;
  if (fs::symlink_status(path, st_ec).type() == fs::file_type::regular) {
    auto there = Bundle::Open(path);
    if (there.ok() && there->id() == id && there->ReadAll().ok()) return WrittenBundle{path, id, vs.size()};
  }
  VOUCH_ASSIGN_OR_RETURN(zip::Writer w, zip::Writer::Create(path));
  VOUCH_RETURN_IF_ERROR(w.Add(std::string(kManifestName), std::move(manifest)));
  for (auto& v : vs) {
    VOUCH_RETURN_IF_ERROR(w.Add(v.path, std::move(v.bytes)));
    if (v.proof) VOUCH_RETURN_IF_ERROR(w.Add(v.path + std::string(kProofSuffix), std::move(*v.proof)));
  }
  VOUCH_RETURN_IF_ERROR(w.Commit());
  return WrittenBundle{path, id, vs.size()};
}

}  // namespace

namespace {

// Sorts by path, drops repeats, checks each is a layout path its bytes match.
Status Prepare(std::vector<PackedVoucher>& vouchers) {
  std::sort(vouchers.begin(), vouchers.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  vouchers.erase(std::unique(vouchers.begin(), vouchers.end(), [](const auto& a, const auto& b) { return a.path == b.path; }),
                 vouchers.end());
  for (const auto& v : vouchers) {
    auto e = ParseLayoutPath(v.path);
    if (!e.ok()) return Error(Code::kUnsafePath, e.status().message());
    VOUCH_RETURN_IF_ERROR(CheckFiled(*e, v.bytes, v.path).status());
    if (v.proof && v.proof->size() > tlog::kMaxProofSize) {
      return Error(Code::kTooLarge, v.path + ": proof of " + std::to_string(v.proof->size()) + " bytes is over the cap of " +
                                        std::to_string(tlog::kMaxProofSize));
    }
  }
  return Status::Ok();
}

// Writes the shards of prepared vouchers (CutShards).
Result<std::vector<WrittenBundle>> WritePrefix(const fs::path& out_dir, std::vector<PackedVoucher> vouchers,
                                               size_t deep_shard_threshold) {
  std::vector<WrittenBundle> out;
  for (auto& [prefix, vs] : CutShards(std::move(vouchers), deep_shard_threshold)) {
    VOUCH_ASSIGN_OR_RETURN(WrittenBundle b, WriteOne(out_dir / std::string(kShardDirectory) / prefix, std::move(vs)));
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

Result<std::vector<WrittenBundle>> WriteBundles(const fs::path& out_dir, std::vector<PackedVoucher> vouchers,
                                               size_t shard_threshold, size_t deep_shard_threshold) {
  VOUCH_RETURN_IF_ERROR(Prepare(vouchers));
  std::vector<WrittenBundle> out;
  if (vouchers.size() <= shard_threshold) {
    VOUCH_ASSIGN_OR_RETURN(WrittenBundle b, WriteOne(out_dir, std::move(vouchers)));
    out.push_back(std::move(b));
    return out;
  }
  std::map<std::string, std::vector<PackedVoucher>> by_c1c2;
  for (auto& v : vouchers) by_c1c2[ShardOf(v.path, 1)].push_back(std::move(v));
  for (auto& [prefix, vs] : by_c1c2) {
    VOUCH_ASSIGN_OR_RETURN(std::vector<WrittenBundle> written, WritePrefix(out_dir, std::move(vs), deep_shard_threshold));
    for (auto& b : written) out.push_back(std::move(b));
  }
  return out;
}

Result<WrittenBundle> WriteShard(const fs::path& out_dir, std::string_view prefix, std::vector<PackedVoucher> vouchers) {
  if (prefix.size() != 2 && prefix.size() != 5) return Error(Code::kUnsafePath, "'" + std::string(prefix) + "' is not a shard prefix");
  VOUCH_RETURN_IF_ERROR(Prepare(vouchers));
  for (const auto& v : vouchers) {
    if (ShardOf(v.path, prefix.size() == 2 ? 1 : 2) != prefix) {
      return Error(Code::kUnsafePath, v.path + " is not under the shard prefix " + std::string(prefix));
    }
  }
  return WriteOne(out_dir / std::string(kShardDirectory) / std::string(prefix), std::move(vouchers));
}

std::map<std::string, std::vector<PackedVoucher>> CutShards(std::vector<PackedVoucher> vouchers, size_t deep_shard_threshold) {
  // Shard "B5", the layout's own first directory; a shard that would still hold more than
  // deep_shard_threshold is cut by the second one, "B5/SR".
  std::map<std::string, std::vector<PackedVoucher>> by_c1c2, shards;
  for (auto& v : vouchers) by_c1c2[ShardOf(v.path, 1)].push_back(std::move(v));
  for (auto& [prefix, vs] : by_c1c2) {
    if (vs.size() <= deep_shard_threshold) {
      shards[prefix] = std::move(vs);
      continue;
    }
    for (auto& v : vs) shards[ShardOf(v.path, 2)].push_back(std::move(v));
  }
  return shards;
}

Result<std::vector<std::string>> ShardPrefixes(std::string_view device_udf) {
  VOUCH_ASSIGN_OR_RETURN(std::string dir, DeviceDirectory(device_udf));
  return std::vector<std::string>{ShardOf(dir, 1), ShardOf(dir, 2)};
}

Bundle::Bundle() = default;
Bundle::Bundle(Bundle&&) noexcept = default;
Bundle& Bundle::operator=(Bundle&&) noexcept = default;
Bundle::~Bundle() = default;

Result<Bundle> Bundle::Open(const fs::path& path, const BundleLimits& limits) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ELOOP) return Error(Code::kSymlinkEntry, path.string() + ": is a symbolic link");
    return Error(errno == ENOENT ? Code::kNotFound : Code::kIo, path.string() + ": cannot open");
  }
  auto b = OpenFd(fd, path, limits);
  ::close(fd);
  return b;
}

Result<Bundle> Bundle::OpenFd(int fd, const fs::path& path, const BundleLimits& limits) {
  std::string what = path.string();
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return Error(Code::kIo, what + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > limits.max_file) {
    return Error(Code::kTooLarge, what + ": " + std::to_string(st.st_size) + " bytes is over the bundle cap");
  }
  auto reader = zip::Reader::Open(fd, static_cast<uint64_t>(st.st_size), what);
  if (!reader.ok()) return reader.status();
  Bundle b;
  b.reader_ = std::make_unique<zip::Reader>(std::move(*reader));
  b.path_ = path;
  const zip::Reader& r = *b.reader_;

  if (r.count() == 0 || r.entry(0).name != kManifestName) {
    return Error(Code::kManifestMissing, what + ": first entry is not " + std::string(kManifestName));
  }
  // Vouchers and their proofs: at most two entries per voucher (the manifest counts vouchers).
  if (r.count() - 1 > 2 * uint64_t{limits.max_entries}) {
    return Error(Code::kTooManyEntries, what + ": " + std::to_string(r.count() - 1) + " entries, over the cap of " +
                                            std::to_string(limits.max_entries) + " vouchers and their proofs");
  }
  std::set<std::string> names;
  for (uint64_t i = 0; i < r.count(); ++i) {
    const zip::EntryInfo& e = r.entry(i);
    std::string n = "'" + e.name.substr(0, 120) + "'";
    if (e.encrypted) return Error(Code::kEncrypted, what + ": entry " + n + " is encrypted");
    if (e.symlink) return Error(Code::kSymlinkEntry, what + ": entry " + n + " is a symbolic link");
    if (e.directory) return Error(Code::kDirectoryEntry, what + ": entry " + n + " is a directory");
    if (UnsafeName(e.name)) return Error(Code::kUnsafePath, what + ": entry name " + n + " is unsafe");
    if (!names.insert(e.name).second) return Error(Code::kDuplicateEntry, what + ": entry " + n + " appears twice");
    bool proof = i > 0 && IsProofPath(e.name);
    if (i > 0 && !(proof ? ParseProofPath(e.name) : ParseLayoutPath(e.name)).ok()) {
      return Error(Code::kUnsafePath, what + ": entry " + n + " is not a layout path or a proof path");
    }
    if (e.method != 0 && e.method != 8) return Error(Code::kUnsupported, what + ": entry " + n + " uses compression method " + std::to_string(e.method));
    if (i > 0 && e.size > (proof ? limits.max_proof : limits.max_voucher)) {
      return Error(Code::kTooLarge, what + ": entry " + n + " declares " + std::to_string(e.size) + " bytes, over the cap");
    }
  }
  uint64_t manifest_cap = ManifestCap(limits.max_entries);
  if (r.entry(0).size > manifest_cap) return Error(Code::kTooLarge, what + ": manifest is over its cap");
  VOUCH_ASSIGN_OR_RETURN(Bytes manifest_bytes, r.Read(0, r.entry(0).size));
  auto manifest = DecodeManifest(manifest_bytes, limits.max_entries, limits.max_voucher, limits.max_proof);
  if (!manifest.ok()) return manifest.status().Context(what);
  b.manifest_ = std::move(*manifest);
  if (b.manifest_.entries.size() != r.count() - 1) {
    return Error(Code::kManifestMismatch, what + ": manifest lists " + std::to_string(b.manifest_.entries.size()) +
                                              " vouchers, the archive holds " + std::to_string(r.count() - 1));
  }
  for (size_t i = 0; i < b.manifest_.entries.size(); ++i) {
    const ManifestEntry& m = b.manifest_.entries[i];
    const zip::EntryInfo& e = r.entry(i + 1);
    if (m.path != e.name) return Error(Code::kManifestMismatch, what + ": manifest entry " + std::to_string(i) + " is not the archive's");
    if (m.size != e.size) return Error(Code::kManifestMismatch, what + ": " + m.path + ": manifest and archive sizes differ");
  }
  b.id_ = BundleId(manifest_bytes);
  // A file named like a bundle id must be that bundle (DESIGN.md 7).
  std::string stem = path.stem().string();
  if (path.extension() == "." + std::string(kBundleExtension)) {
    auto named = udf::Udf::Parse(stem);
    if (named.ok() && named->bits() == udf::kContentBits && named->ToString() != b.id_) {
      return Error(Code::kNameMismatch, what + ": named as bundle " + stem.substr(0, 14) + "... but its manifest is " +
                                            b.id_.substr(0, 14) + "...");
    }
  }
  return b;
}

Status Bundle::CheckShard(std::string_view prefix) const {
  std::string want = std::string(kLayoutRoot) + "/" + std::string(prefix) + "/";
  for (const auto& e : manifest_.entries) {
    if (e.path.compare(0, want.size(), want) != 0) {
      return Error(Code::kManifestMismatch, path_.string() + ": shard " + std::string(prefix) + " holds " + e.path);
    }
  }
  return Status::Ok();
}

Result<PackedVoucher> Bundle::ReadEntry(size_t i) const {
  const ManifestEntry& m = manifest_.entries[i];
  VOUCH_ASSIGN_OR_RETURN(Bytes bytes, reader_->Read(i + 1, m.size));
  // The manifest's id for the entry was checked against its path when the bundle opened.
  VOUCH_ASSIGN_OR_RETURN(LayoutEntry filed, ParseLayoutPath(m.path));
  VOUCH_ASSIGN_OR_RETURN(Envelope e, CheckFiled(filed, std::move(bytes), path_.string() + ": " + m.path));
  PackedVoucher out{m.path, std::move(e.bytes)};
  // The manifest put a voucher's proof right after it, or nowhere. Its bytes are bound to
  // nothing but the check the judge makes (the leaf is the voucher), so none is made here.
  if (i + 1 < manifest_.entries.size() && manifest_.entries[i + 1].proof) {
    VOUCH_ASSIGN_OR_RETURN(Bytes proof, reader_->Read(i + 2, manifest_.entries[i + 1].size));
    out.proof = std::move(proof);
  }
  return out;
}

Result<std::vector<PackedVoucher>> Bundle::ReadDevice(std::string_view device_udf) const {
  VOUCH_ASSIGN_OR_RETURN(std::string dir, DeviceDirectory(device_udf));
  dir += "/";
  const auto& es = manifest_.entries;
  auto it = std::lower_bound(es.begin(), es.end(), dir, [](const ManifestEntry& e, const std::string& d) { return e.path < d; });
  std::vector<PackedVoucher> out;
  for (; it != es.end() && it->path.compare(0, dir.size(), dir) == 0; ++it) {
    if (it->proof) continue;  // read with its voucher
    VOUCH_ASSIGN_OR_RETURN(PackedVoucher v, ReadEntry(static_cast<size_t>(it - es.begin())));
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<PackedVoucher>> Bundle::ReadAll() const {
  std::vector<PackedVoucher> out;
  for (size_t i = 0; i < manifest_.entries.size(); ++i) {
    if (manifest_.entries[i].proof) continue;  // read with its voucher
    VOUCH_ASSIGN_OR_RETURN(PackedVoucher v, ReadEntry(i));
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace vouch::formats
