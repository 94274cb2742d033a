#include "cache/sources.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "formats/bundle.h"
#include "formats/envelope.h"
#include "formats/receipt.h"
#include "formats/voucher_json.h"
#include "libvoucher/file.h"
#include "libvoucher/parallel.h"

namespace vouch::cache {
namespace fs = std::filesystem;

struct Listing {
  std::vector<std::string> files, bundles, receipts, dirs;
  std::vector<CandidateReport> refused;

  void Take(Listing&& o) {
    Append(&files, &o.files);
    Append(&bundles, &o.bundles);
    Append(&receipts, &o.receipts);
    Append(&dirs, &o.dirs);
    refused.insert(refused.end(), o.refused.begin(), o.refused.end());
  }
  static void Append(std::vector<std::string>* to, std::vector<std::string>* from) {
    to->insert(to->end(), std::make_move_iterator(from->begin()), std::make_move_iterator(from->end()));
    from->clear();
  }
};


namespace {

// A layout is 5 levels deep and a shard set 3 more; far deeper is a hostile tree.
constexpr int kMaxDepth = 64;

bool IsBundle(std::string_view name) { return name.size() > 8 && name.substr(name.size() - 8) == ".vbundle"; }

bool IsVoucher(std::string_view name) {
  size_t dot = name.rfind('.');
  return dot != std::string_view::npos && formats::KindFromExtension(name.substr(dot)).has_value();
}

bool IsReceipt(std::string_view name) {
  size_t dot = name.rfind('.');
  return dot != std::string_view::npos && name.substr(dot + 1) == formats::kReceiptExtension;
}

// Lists one directory, never following a link. readdir's d_type spares a stat per entry,
// which on a tree of 100,000 one-voucher directories is much of the walk.
Status ListDirectory(const std::string& path, Listing* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Error(Code::kIo, path + ": cannot open directory");
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return Error(Code::kIo, path + ": cannot read directory");
  }
  std::unique_ptr<DIR, int (*)(DIR*)> dir(d, ::closedir);
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    unsigned char type = e->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
    }
    if (type == DT_DIR) out->dirs.push_back(path + "/" + e->d_name);
    else if (type == DT_REG && IsBundle(name)) out->bundles.push_back(path + "/" + e->d_name);
    else if (type == DT_REG && IsVoucher(name)) out->files.push_back(path + "/" + e->d_name);
    else if (type == DT_REG && IsReceipt(name)) out->receipts.push_back(path + "/" + e->d_name);
  }
  return Status::Ok();
}

// Everything below `path`, depth first.
Status Walk(const std::string& path, int depth, Listing* out) {
  Listing here;
  VOUCH_RETURN_IF_ERROR(ListDirectory(path, &here));
  std::vector<std::string> dirs;
  Listing::Append(&dirs, &here.dirs);
  out->Take(std::move(here));
  for (const auto& d : dirs) {
    if (depth + 1 > kMaxDepth) {
      out->refused.push_back({d, "", "", Error(Code::kTooLarge, "directories nested over " + std::to_string(kMaxDepth) + " deep"), false, false});
      continue;
    }
    VOUCH_RETURN_IF_ERROR(Walk(d, depth + 1, out));
  }
  return Status::Ok();
}

// Opening directories is most of listing a big tree, and it is all system calls: the
// levels near the top are listed here until there are enough subtrees to walk in parallel.
// Those subtrees are left in `frontier` (with their depth), walked later a few at a time
// (SourceReader::Next), so that a tree of a million vouchers is never listed into memory.
Status ExpandTop(const std::string& root, Listing* out, std::vector<std::pair<std::string, int>>* frontier_out) {
  std::vector<std::string> frontier = {root};
  int depth = 0;
  constexpr size_t kEnough = 64;
  while (!frontier.empty() && frontier.size() < kEnough && depth < kMaxDepth) {
    Listing level;
    for (const auto& d : frontier) VOUCH_RETURN_IF_ERROR(ListDirectory(d, &level));
    frontier.clear();
    Listing::Append(&frontier, &level.dirs);
    out->Take(std::move(level));
    ++depth;
  }
  for (auto& d : frontier) frontier_out->emplace_back(std::move(d), depth);
  return Status::Ok();
}

}  // namespace

Result<SourceReader> SourceReader::Open(const std::vector<std::string>& inputs, size_t batch, Bundles bundles,
                                        Receipts receipts) {
  SourceReader r;
  const bool take_receipts = receipts == Receipts::kRead;
  r.batch_ = std::max<size_t>(1, batch);
  r.take_bundles_ = bundles == Bundles::kRead;
  r.take_receipts_ = take_receipts;
  for (const auto& in : inputs) {
    std::error_code ec;
    auto st = fs::symlink_status(in, ec);
    if (ec || !fs::exists(st)) return Error(Code::kNotFound, in + ": no such file or directory");
    if (fs::is_directory(st)) {
      Listing l;
      VOUCH_RETURN_IF_ERROR(ExpandTop(in, &l, &r.unwalked_));
      r.Keep(std::move(l));
    } else if (IsBundle(in)) {
      if (bundles == Bundles::kRead) r.bundles_.push_back(in);
    } else if (take_receipts && IsReceipt(in)) {
      r.receipts_.push_back(in);
    } else {
      r.files_.push_back(in);  // named on the command line: taken whatever its extension
    }
  }
  return r;
}

void SourceReader::Keep(Listing&& l) {
  Listing::Append(&files_, &l.files);
  if (take_bundles_) Listing::Append(&bundles_, &l.bundles);
  if (take_receipts_) Listing::Append(&receipts_, &l.receipts);
  refused_.insert(refused_.end(), l.refused.begin(), l.refused.end());
}

Status SourceReader::WalkSome() {
  // Voucher files read are forgotten; a few subtrees walked in parallel refill the list.
  files_.erase(files_.begin(), files_.begin() + static_cast<std::ptrdiff_t>(next_file_));
  next_file_ = 0;
  size_t n = std::min(unwalked_.size(), kWalkGroup);
  std::vector<Listing> parts(n);
  std::vector<Status> status(n);
  ParallelFor(n, [&](size_t i) { status[i] = Walk(unwalked_[i].first, unwalked_[i].second, &parts[i]); }, /*grain=*/1);
  unwalked_.erase(unwalked_.begin(), unwalked_.begin() + static_cast<std::ptrdiff_t>(n));
  for (size_t i = 0; i < n; ++i) {
    VOUCH_RETURN_IF_ERROR(status[i]);
    Keep(std::move(parts[i]));
  }
  return Status::Ok();
}

Result<bool> SourceReader::Next(std::vector<Offered>* batch) {
  batch->clear();
  while (next_file_ == files_.size() && !unwalked_.empty()) VOUCH_RETURN_IF_ERROR(WalkSome());
  if (next_file_ < files_.size()) {
    ReadFiles(files_, &next_file_, formats::kMaxVoucherSize, Offered::Kind::kVoucher, batch);
    return true;
  }
  if (next_receipt_ < receipts_.size()) {
    ReadFiles(receipts_, &next_receipt_, formats::kMaxReceiptSize, Offered::Kind::kReceipt, batch);
    return true;
  }
  if (next_bundle_ == bundles_.size()) return false;
  // Whole bundles until the batch is full: a shard set has many small ones. They are read
  // several at a time while their files total at most kGroupBytes (one can be 1 GiB).
  while (next_bundle_ < bundles_.size() && batch->size() < batch_) {
    size_t n = 0;
    uint64_t bytes = 0;
    while (next_bundle_ + n < bundles_.size() && n < kGroup) {
      std::error_code ec;
      uint64_t size = fs::file_size(bundles_[next_bundle_ + n], ec);
      if (n > 0 && (ec || bytes + size > kGroupBytes)) break;
      bytes += ec ? 0 : size;
      ++n;
    }
    std::vector<Result<std::vector<formats::PackedVoucher>>> read(n, Result<std::vector<formats::PackedVoucher>>(std::vector<formats::PackedVoucher>()));
    ParallelFor(n, [&](size_t i) {
      auto b = formats::Bundle::Open(bundles_[next_bundle_ + i]);
      read[i] = b.ok() ? b->ReadAll() : Result<std::vector<formats::PackedVoucher>>(b.status());
    }, /*grain=*/1);
    for (size_t i = 0; i < n; ++i) {
      const std::string& p = bundles_[next_bundle_ + i];
      if (!read[i].ok()) {
        refused_.push_back({p, "", "", read[i].status(), false, false});
        continue;
      }
      for (auto& v : *read[i]) batch->push_back({p + ":" + v.path, v.path, std::move(v.bytes)});
    }
    next_bundle_ += n;
  }
  return true;
}

void SourceReader::ReadFiles(const std::vector<std::string>& files, size_t* next, size_t cap, Offered::Kind kind,
                             std::vector<Offered>* batch) {
  size_t n = std::min(batch_, files.size() - *next);
  std::vector<Result<Bytes>> read(n, Result<Bytes>(Bytes()));
  ParallelFor(n, [&](size_t i) { read[i] = ReadFile(files[*next + i], cap, false); });
  for (size_t i = 0; i < n; ++i) {
    const std::string& f = files[*next + i];
    if (!read[i].ok()) refused_.push_back({f, "", "", read[i].status(), false, false});
    else batch->push_back({f, "", std::move(*read[i]), kind});
  }
  *next += n;
}

}  // namespace vouch::cache
