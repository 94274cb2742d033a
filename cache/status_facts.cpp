#include "cache/status_facts.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <sstream>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "formats/layout.h"
#include "libvoucher/encoding.h"
#include "libvoucher/file.h"
#include "libvoucher/udf.h"

namespace vouch::cache {
namespace fs = std::filesystem;
namespace {

// A fleet of 100,000 devices with a few vouchers and receipts each stays well under this.
constexpr size_t kMaxFactsFile = 256 << 20;

std::optional<git::ObjectId> BlobOf(std::string_view hex) {
  if (hex.size() != 2 * git::ObjectId::kSize) return std::nullopt;
  auto raw = HexDecode(std::string(hex));
  if (!raw.ok() || raw->size() != git::ObjectId::kSize) return std::nullopt;
  uint8_t bytes[git::ObjectId::kSize];
  std::memcpy(bytes, raw->data(), git::ObjectId::kSize);
  return git::ObjectId(bytes);
}

std::optional<int64_t> Number(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  for (size_t at = 0; at <= line.size();) {
    size_t sp = line.find(' ', at);
    if (sp == std::string_view::npos) sp = line.size();
    out.push_back(line.substr(at, sp - at));
    at = sp + 1;
  }
  return out;
}

}  // namespace

StatusFacts StatusFacts::Load(const fs::path& cache) {
  StatusFacts f;
  f.path_ = cache / "vouch" / "status-facts";
  // Trusted only as ssh trusts its files: ours and writable by nobody else. Anyone else's
  // lines could say a certificate expires in a century or a voucher is newest; then the
  // facts are read again from the blobs (and the file rewritten by us).
  struct stat st {};
  if (::lstat(f.path_.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return f;
  }
  auto data = ReadFile(f.path_, kMaxFactsFile, /*follow_links=*/false);
  if (!data.ok()) return f;
  std::string_view text(reinterpret_cast<const char*>(data->data()), data->size());
  for (size_t at = 0; at < text.size();) {
    size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) break;  // a line cut short by a crash is not read
    std::vector<std::string_view> v = Fields(text.substr(at, nl - at));
    at = nl + 1;
    std::optional<git::ObjectId> blob = v.size() >= 2 ? BlobOf(v[1]) : std::nullopt;
    if (!blob) continue;
    if (v[0] == "v" && v.size() == 4) {
      auto created = Number(v[2]);
      auto not_after = v[3] == "-" ? std::optional<int64_t>(0) : Number(v[3]);
      if (!created || !not_after) continue;
      VoucherFacts facts{Instant{*created}, std::nullopt};
      if (v[3] != "-") facts.certificate_not_after = Instant{*not_after};
      f.vouchers_.emplace(*blob, facts);
    } else if (v[0] == "r" && v.size() == 5) {
      auto generation = Number(v[2]);
      auto time = Number(v[3]);
      // A voucher id is a canonical 260-bit UDF (it is printed; nothing else gets through).
      if (!generation || !time || formats::CanonicalUdf(v[4], udf::kContentBits) != v[4]) continue;
      f.receipts_.emplace(*blob, ReceiptFacts{*generation, Instant{*time}, std::string(v[4])});
    }
  }
  return f;
}

const VoucherFacts* StatusFacts::Voucher(const git::ObjectId& blob) const {
  auto it = vouchers_.find(blob);
  return it == vouchers_.end() ? nullptr : &it->second;
}

const ReceiptFacts* StatusFacts::Receipt(const git::ObjectId& blob) const {
  auto it = receipts_.find(blob);
  return it == receipts_.end() ? nullptr : &it->second;
}

void StatusFacts::Add(const git::ObjectId& blob, VoucherFacts f) {
  changed_ |= vouchers_.insert_or_assign(blob, std::move(f)).second;
}

void StatusFacts::Add(const git::ObjectId& blob, ReceiptFacts f) {
  changed_ |= receipts_.insert_or_assign(blob, std::move(f)).second;
}

Status StatusFacts::Save() const {
  if (!changed_) return Status::Ok();
  // Sorted by blob id, so that the same facts always make the same file.
  std::map<git::ObjectId, std::string> lines;
  for (const auto& [blob, f] : vouchers_) {
    lines[blob] = "v " + blob.Hex() + " " + std::to_string(f.created_on.micros) + " " +
                  (f.certificate_not_after ? std::to_string(f.certificate_not_after->micros) : std::string("-")) + "\n";
  }
  for (const auto& [blob, f] : receipts_) {
    lines[blob] = "r " + blob.Hex() + " " + std::to_string(f.generation) + " " + std::to_string(f.time.micros) + " " + f.voucher_id + "\n";
  }
  std::string out;
  out.reserve(lines.size() * 100);
  for (const auto& [blob, line] : lines) out += line;
  return WriteFileAtomic(path_, AsBytes(out));
}

}  // namespace vouch::cache
