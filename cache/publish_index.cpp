#include "cache/publish_index.h"

#include <algorithm>
#include <charconv>

#include "formats/bundle.h"
#include "formats/layout.h"
#include "formats/manifest.h"
#include "libvoucher/udf.h"

namespace vouch::cache {
namespace {

bool Base32Char(char c) { return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'); }

// "B5" or "B5/SR": two layout prefix directories at most, nothing else (no "..", no '/'
// at either end, no lower case), so a shard path built from it stays in its folder.
bool ValidPrefix(std::string_view p) {
  if (p.size() != 2 && p.size() != 5) return false;
  if (!Base32Char(p[0]) || !Base32Char(p[1])) return false;
  return p.size() == 2 || (p[2] == '/' && Base32Char(p[3]) && Base32Char(p[4]));
}

// A decimal in [1, max], one spelling (no sign, no leading zero).
std::optional<uint64_t> Number(std::string_view s, uint64_t max) {
  if (s.empty() || s.size() > 20 || s[0] == '0') return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v == 0 || v > max) return std::nullopt;
  return v;
}

Status Bad(size_t line, const std::string& why) {
  return Error(Code::kMalformed, std::string(kIndexName) + " line " + std::to_string(line) + ": " + why);
}

// Entries in strict prefix order, and no c1c2 shard beside a c1c2/c3c4 cut of itself: a
// prefix has one current shard, whole or cut, never both (two readers would disagree).
Status CheckOrder(const std::vector<IndexEntry>& es, size_t line_of_last) {
  if (es.size() < 2) return Status::Ok();
  const std::string& a = es[es.size() - 2].prefix;
  const std::string& b = es.back().prefix;
  if (!(a < b)) return Bad(line_of_last, "prefix " + b + (a == b ? " repeated" : " out of order"));
  if (a.size() == 2 && b.compare(0, 2, a) == 0) return Bad(line_of_last, "prefix " + b + " beside its own c1c2 shard " + a);
  return Status::Ok();
}

}  // namespace

std::optional<IndexEntry> PublishIndex::ForDevice(std::string_view device_udf) const {
  auto prefixes = formats::ShardPrefixes(device_udf);
  if (!prefixes.ok()) return std::nullopt;
  for (const auto& p : *prefixes) {
    auto it = std::lower_bound(entries.begin(), entries.end(), p, [](const IndexEntry& e, const std::string& k) { return e.prefix < k; });
    if (it != entries.end() && it->prefix == p) return *it;
  }
  return std::nullopt;
}

std::string PublishIndex::ShardPath(const IndexEntry& e) {
  return std::string(formats::kShardDirectory) + "/" + e.prefix + "/" + e.id + "." + std::string(formats::kBundleExtension);
}

Result<Bytes> EncodeIndex(const PublishIndex& index) {
  std::string out = std::string(kIndexVersion) + " " + std::to_string(index.entries.size()) + "\n";
  for (const auto& e : index.entries) out += e.prefix + " " + std::to_string(e.vouchers) + " " + std::to_string(e.size) + " " + e.id + "\n";
  Bytes bytes(out.begin(), out.end());
  // What we write, we must read back: the writer cannot make an index its readers refuse.
  auto back = DecodeIndex(bytes);
  if (!back.ok()) return Error(Code::kInternal, "index would not read back: " + back.status().message());
  return bytes;
}

Result<PublishIndex> DecodeIndex(ByteView bytes) {
  if (bytes.size() > kMaxIndexSize) {
    return Error(Code::kTooLarge, std::string(kIndexName) + ": " + std::to_string(bytes.size()) + " bytes, over the cap of " +
                                      std::to_string(kMaxIndexSize));
  }
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  PublishIndex index;
  size_t line_no = 0, pos = 0;
  std::optional<uint64_t> declared;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      return Error(Code::kTruncated, std::string(kIndexName) + ": line " + std::to_string(line_no + 1) + " has no newline (cut short?)");
    }
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.size() > kMaxIndexLine) return Bad(line_no, "longer than " + std::to_string(kMaxIndexLine) + " bytes");
    // Fields separated by exactly one space; nothing else (no tab, no CR, no control byte).
    std::vector<std::string_view> f;
    size_t start = 0;
    for (size_t i = 0; i <= line.size(); ++i) {
      if (i == line.size() || line[i] == ' ') {
        f.push_back(line.substr(start, i - start));
        start = i + 1;
      } else if (static_cast<unsigned char>(line[i]) < 0x21 || static_cast<unsigned char>(line[i]) > 0x7e) {
        return Bad(line_no, "a byte outside printable ASCII");
      }
    }
    if (line_no == 1) {
      if (f.empty() || f[0] != kIndexVersion) {
        std::string v(f.empty() ? "" : f[0].substr(0, 40));
        return Error(f.size() == 2 && v.rfind("vouch-index/", 0) == 0 ? Code::kUnsupported : Code::kMalformed,
                     std::string(kIndexName) + ": version '" + v + "', this reader reads " + std::string(kIndexVersion));
      }
      if (f.size() != 2) return Bad(line_no, "the header is '" + std::string(kIndexVersion) + " <count>'");
      if (f[1] == "0") {
        declared = 0;
      } else {
        declared = Number(f[1], ~uint64_t{0});
        if (!declared) return Bad(line_no, "count is not a number");
      }
      if (*declared > kMaxIndexEntries) {
        return Error(Code::kTooLarge, std::string(kIndexName) + ": " + std::to_string(*declared) + " shards, over the cap of " +
                                          std::to_string(kMaxIndexEntries));
      }
      continue;
    }
    if (index.entries.size() == *declared) return Bad(line_no, "more lines than the header's count");
    if (f.size() != 4) return Bad(line_no, "not '<prefix> <vouchers> <bytes> <bundle id>'");
    IndexEntry e;
    if (!ValidPrefix(f[0])) return Bad(line_no, "prefix '" + std::string(f[0].substr(0, 40)) + "' is not a layout prefix");
    e.prefix = std::string(f[0]);
    auto vouchers = Number(f[1], kMaxShardVouchers);
    auto size = Number(f[2], kMaxShardSize);
    if (!vouchers) return Bad(line_no, "voucher count is not a number in 1.." + std::to_string(kMaxShardVouchers));
    if (!size) return Bad(line_no, "size is not a number in 1.." + std::to_string(kMaxShardSize));
    e.vouchers = *vouchers;
    e.size = *size;
    e.id = formats::CanonicalUdf(f[3], udf::kContentBits);
    if (e.id.empty() || e.id != f[3]) return Bad(line_no, "'" + std::string(f[3].substr(0, 80)) + "' is not a bundle id in its one spelling");
    index.entries.push_back(std::move(e));
    VOUCH_RETURN_IF_ERROR(CheckOrder(index.entries, line_no));
  }
  if (!declared) return Error(Code::kTruncated, std::string(kIndexName) + ": empty");
  if (index.entries.size() != *declared) {
    return Error(Code::kTruncated, std::string(kIndexName) + ": " + std::to_string(index.entries.size()) + " shards of the " +
                                       std::to_string(*declared) + " its header names (cut short?)");
  }
  return index;
}

}  // namespace vouch::cache
