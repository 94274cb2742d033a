#include "cache/status_facts.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <random>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "formats/layout.h"
#include "libvoucher/udf.h"

namespace vouch::cache {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kHeader = "vouch-status-facts 2\n";
// The longest sound line is some 200 bytes (a receipt's); anything longer is damage.
constexpr size_t kMaxLine = 512;
// A device's tree is capped at 1 MiB (cache/cache.md, "Bounds"): some 13,000 files.
constexpr size_t kMaxLinesPerDevice = 16384;
constexpr size_t kReadChunk = 64 << 10;
constexpr size_t kWriteChunk = 1 << 20;

std::string Crc(std::string_view text) {
  uLong c = crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size()));
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08lx", c & 0xffffffffUL);
  return hex;
}

std::string Sealed(std::string line) { return line + " " + Crc(line) + "\n"; }

std::optional<int64_t> Number(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::string_view FirstField(std::string_view line) { return line.substr(0, line.find(' ')); }

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  for (size_t at = 0; at <= line.size() && out.size() < 8;) {
    size_t sp = line.find(' ', at);
    if (sp == std::string_view::npos) sp = line.size();
    out.push_back(line.substr(at, sp - at));
    at = sp + 1;
  }
  return out;
}

bool ReadAt(int fd, uint64_t at, size_t n, std::string* out) {
  out->resize(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, out->data() + got, n - got, static_cast<off_t>(at + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  out->resize(got);
  return got == n;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::string FactsLine(std::string_view device, const git::ObjectId& blob, const VoucherFacts& f) {
  return Sealed(std::string(device) + " v " + blob.Hex() + " " + std::to_string(f.created_on.micros) + " " +
                (f.certificate_not_after ? std::to_string(f.certificate_not_after->micros) : std::string("-")));
}

std::string FactsLine(std::string_view device, const git::ObjectId& blob, const ReceiptFacts& f) {
  return Sealed(std::string(device) + " r " + blob.Hex() + " " + std::to_string(f.generation) + " " + std::to_string(f.time.micros) + " " +
                f.voucher_id);
}

StatusFacts StatusFacts::Open(const fs::path& cache) {
  StatusFacts f;
  f.path_ = cache / "vouch" / "status-facts";
  // Anyone else's lines could say a certificate expires in a century or a voucher is newest;
  // then the facts are read again from the blobs (and the file rewritten by us).
  UniqueFd fd(::open(f.path_.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return f;
  }
  std::string head;
  // An older file (sorted by blob, no header) is read no more: rewritten in this layout.
  if (!ReadAt(fd.get(), 0, kHeader.size(), &head) || head != kHeader) return f;
  f.in_ = std::move(fd);
  f.size_ = static_cast<uint64_t>(st.st_size);
  f.header_end_ = f.read_at_ = f.buffer_at_ = f.clean_end_ = kHeader.size();
  return f;
}

StatusFacts::~StatusFacts() {
  if (out_.get() >= 0) {
    out_.reset();
    ::unlink(out_path_.c_str());
  }
}

bool StatusFacts::NextLine(std::string* out) {
  bool damaged = false;
  for (;;) {
    size_t pos = static_cast<size_t>(read_at_ - buffer_at_);
    size_t nl = buffer_.find('\n', pos);
    if (nl != std::string::npos) {
      size_t length = nl - pos;
      read_at_ += length + 1;
      // An over-long line comes back empty: one line of damage, not a reason to stop.
      if (damaged || length > kMaxLine) out->clear();
      else out->assign(buffer_, pos, length);
      return true;
    }
    if (buffer_.size() - pos > kMaxLine) {  // no newline within a line's length: damage up to the next one
      damaged = true;
      read_at_ = buffer_at_ + buffer_.size();
    }
    // Refill: keep the unread part, read on (no further than the size the file had when opened).
    pos = static_cast<size_t>(read_at_ - buffer_at_);
    buffer_.erase(0, pos);
    buffer_at_ = read_at_;
    const uint64_t end = buffer_at_ + buffer_.size();
    if (end >= size_) return false;  // what is left has no newline: a line cut short by a crash
    std::string more;
    ReadAt(in_.get(), end, static_cast<size_t>(std::min<uint64_t>(kReadChunk, size_ - end)), &more);
    if (more.empty()) return false;
    buffer_ += more;
  }
}

bool StatusFacts::Parse(std::string_view text, std::string_view device, DeviceFacts* into) const {
  size_t last = text.rfind(' ');
  if (last == std::string_view::npos || text.substr(last + 1) != Crc(text.substr(0, last))) return false;
  std::vector<std::string_view> v = Fields(text.substr(0, last));
  if (v.size() < 3 || v[0] != device || v[2].size() != 2 * git::ObjectId::kSize) return false;
  auto blob = git::ObjectId::FromHex(std::string(v[2]));
  if (!blob.ok() || blob->Hex() != v[2]) return false;
  if (v[1] == "v" && v.size() == 5) {
    auto created = Number(v[3]);
    auto not_after = v[4] == "-" ? std::optional<int64_t>(0) : Number(v[4]);
    if (!created || !not_after) return false;
    VoucherFacts f{Instant{*created}, std::nullopt};
    if (v[4] != "-") f.certificate_not_after = Instant{*not_after};
    into->vouchers.insert_or_assign(*blob, f);
    return true;
  }
  if (v[1] == "r" && v.size() == 6) {
    auto generation = Number(v[3]);
    auto time = Number(v[4]);
    // A voucher id is a canonical 260-bit UDF (it is printed; nothing else gets through).
    if (!generation || !time || formats::CanonicalUdf(v[5], udf::kContentBits) != v[5]) return false;
    into->receipts.insert_or_assign(*blob, ReceiptFacts{*generation, Instant{*time}, std::string(v[5])});
    return true;
  }
  return false;
}

DeviceFacts StatusFacts::Take(std::string_view device) {
  DeviceFacts f;
  if (in_.get() < 0) return f;
  size_t count = 0;
  for (;;) {
    if (!pending_) {
      std::string line;
      const uint64_t at = read_at_;
      if (!NextLine(&line)) break;
      pending_ = std::move(line);
      pending_at_ = at;
    }
    const std::string_view udf = FirstField(*pending_);
    if (udf > device) break;  // a later device's: kept for it
    // Lines of devices not walked (none in a sound file: the branch only grows) or out of
    // order, and damaged lines, are dropped; the file is then rewritten without them.
    if (udf == device && count < kMaxLinesPerDevice && Parse(*pending_, device, &f)) {
      f.lines += *pending_;
      f.lines += '\n';
      ++count;
    } else {
      f.clean = false;
    }
    pending_.reset();
  }
  f.end = pending_ ? pending_at_ : read_at_;
  return f;
}

void StatusFacts::Put(const DeviceFacts& taken, std::string_view lines) {
  put_any_ = true;
  if (failed_) return;
  if (out_.get() < 0 && in_.get() >= 0 && taken.clean && lines == taken.lines) {
    clean_end_ = taken.end;
    return;
  }
  if (out_.get() < 0) StartWriting();
  Write(lines);
}

void StatusFacts::StartWriting() {
  std::random_device rd;
  out_path_ = path_.parent_path() / (".status-facts.tmp-" + std::to_string(rd()));
  out_.reset(::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (out_.get() < 0 || ::fchmod(out_.get(), 0644) != 0) {
    failed_ = true;
    if (out_.get() >= 0) {
      out_.reset();
      ::unlink(out_path_.c_str());
    }
    return;
  }
  if (in_.get() < 0) {
    Write(kHeader);
    return;
  }
  // What is unchanged so far is copied as it is, a chunk at a time.
  std::string chunk;
  for (uint64_t at = 0; at < clean_end_ && !failed_; at += chunk.size()) {
    if (!ReadAt(in_.get(), at, static_cast<size_t>(std::min<uint64_t>(kWriteChunk, clean_end_ - at)), &chunk)) failed_ = true;
    else Write(chunk);
  }
}

void StatusFacts::Write(std::string_view text) {
  if (failed_) return;
  out_buffer_ += text;
  if (out_buffer_.size() < kWriteChunk) return;
  if (!WriteAll(out_.get(), out_buffer_)) failed_ = true;
  out_buffer_.clear();
}

Status StatusFacts::Save() {
  if (!failed_ && out_.get() < 0) {
    if (in_.get() >= 0 ? clean_end_ == size_ : !put_any_) return Status::Ok();  // nothing would change
    StartWriting();  // lines past the last device walked are dropped
  }
  bool ok = !failed_ && WriteAll(out_.get(), out_buffer_) && ::fsync(out_.get()) == 0;
  out_buffer_.clear();
  if (out_.get() >= 0 && ::close(out_.release()) != 0) ok = false;
  if (!ok || ::rename(out_path_.c_str(), path_.c_str()) != 0) {
    ::unlink(out_path_.c_str());
    return Error(Code::kIo, path_.string() + ": cannot rewrite");
  }
  return SyncDirectory(path_.parent_path());
}

DeviceFacts StatusFacts::Find(std::string_view device) {
  DeviceFacts f;
  if (in_.get() < 0) return f;
  // Every line that starts before lo is of an earlier device; the device's first line starts
  // at or before the first line start after hi (the file is sorted; where it is not, a line
  // missed is read again from its blob).
  uint64_t lo = header_end_, hi = size_;
  std::string chunk;
  while (hi - lo > 4 * kMaxLine) {
    const uint64_t mid = lo + (hi - lo) / 2;
    ReadAt(in_.get(), mid, 2 * kMaxLine + 2, &chunk);
    const size_t nl = chunk.find('\n');
    const size_t nl2 = nl == std::string::npos ? nl : chunk.find('\n', nl + 1);
    if (nl2 == std::string::npos || mid + nl + 1 >= hi) {
      hi = mid;
      continue;
    }
    if (FirstField(std::string_view(chunk).substr(nl + 1, nl2 - nl - 1)) < device) lo = mid + nl2 + 1;
    else hi = mid;
  }
  read_at_ = buffer_at_ = lo;
  buffer_.clear();
  pending_.reset();
  const uint64_t scan_end = hi + 2 * kMaxLine + 2;
  size_t count = 0;
  std::string line;
  while (NextLine(&line)) {
    const std::string_view udf = FirstField(line);
    if (udf > device) break;
    if (udf == device) {
      if (count++ >= kMaxLinesPerDevice) break;
      Parse(line, device, &f);
    } else if (read_at_ > scan_end) {
      break;  // past where the device would start: not in the file
    }
  }
  return f;
}

}  // namespace vouch::cache
