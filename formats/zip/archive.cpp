#include "formats/zip/archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <cstring>

#include "libvoucher/file.h"

namespace vouch::formats::zip {
namespace {

constexpr size_t kEocdSize = 22;         // end of central directory record, no comment
constexpr size_t kLocalHeaderSize = 30;  // fixed part of a local file header
constexpr uint16_t kDosDate1980 = (0 << 9) | (1 << 5) | 1;  // 1980-01-01, the DOS epoch

uint16_t Le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t Le32(const uint8_t* p) { return static_cast<uint32_t>(p[0] | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24); }

bool PreadAll(int fd, uint8_t* buf, size_t n, uint64_t off) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(off + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

std::string ZipErrorText(int ze) {
  zip_error_t e;
  zip_error_init_with_code(&e, ze);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}

// The end record must be the last 22 bytes: we write no comment and accept none, so a
// signature anywhere else means trailing bytes, and none at all means a cut-off archive.
// Returns the central directory's offset.
template <class ReadAt>
Result<uint64_t> CheckEndRecord(const ReadAt& read_at, uint64_t size, const std::string& what) {
  uint8_t head[4];
  if (size < kEocdSize || !read_at(head, 4, 0)) return Error(Code::kNotZip, what + ": not a ZIP archive");
  bool local = std::memcmp(head, "PK\3\4", 4) == 0, empty = std::memcmp(head, "PK\5\6", 4) == 0;
  if (!local && !empty) return Error(Code::kNotZip, what + ": not a ZIP archive");
  size_t tail_len = static_cast<size_t>(std::min<uint64_t>(size, 65536 + kEocdSize));
  Bytes tail(tail_len);
  if (!read_at(tail.data(), tail_len, size - tail_len)) return Error(Code::kIo, what + ": cannot read");
  const uint8_t* eocd = tail.data() + tail_len - kEocdSize;
  if (std::memcmp(eocd, "PK\5\6", 4) != 0) {
    for (size_t i = tail_len - kEocdSize; i-- > 0;) {
      if (std::memcmp(tail.data() + i, "PK\5\6", 4) == 0) {
        return Error(Code::kTrailingData, what + ": " + std::to_string(tail_len - kEocdSize - i) +
                                              " bytes after the end of the archive");
      }
    }
    return Error(Code::kTruncated, what + ": archive is cut short (no end record)");
  }
  uint16_t disk = Le16(eocd + 4), cd_disk = Le16(eocd + 6), n_disk = Le16(eocd + 8), n = Le16(eocd + 10);
  uint32_t cd_size = Le32(eocd + 12), cd_offset = Le32(eocd + 16);
  if (disk != 0 || cd_disk != 0 || n_disk != n) return Error(Code::kUnsupported, what + ": multi-disk archive");
  if (n == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
    return Error(Code::kUnsupported, what + ": zip64 archive (bundles are under 4 GiB and 65,535 entries)");
  }
  if (uint64_t(cd_offset) + cd_size + kEocdSize != size) {
    return Error(Code::kTruncated, what + ": central directory does not end at the end record");
  }
  return uint64_t(cd_offset);
}

}  // namespace

Reader::Reader(Reader&& o) noexcept { *this = std::move(o); }
Reader& Reader::operator=(Reader&& o) noexcept {
  std::swap(za_, o.za_);
  std::swap(fd_, o.fd_);
  std::swap(image_, o.image_);  // a vector's buffer stays where libzip's source points
  what_ = std::move(o.what_);
  entries_ = std::move(o.entries_);
  return *this;
}
Reader::~Reader() {
  if (za_) zip_discard(za_);
  if (fd_ >= 0) ::close(fd_);
}

bool Reader::ReadAt(uint8_t* buf, size_t n, uint64_t off) const {
  if (image_.empty()) return PreadAll(fd_, buf, n, off);
  if (off > image_.size() || n > image_.size() - off) return false;
  std::memcpy(buf, image_.data() + off, n);
  return true;
}

Result<zip_t*> Reader::OpenZip(int flags, int* ze) const {
  if (!image_.empty()) {
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(image_.data(), image_.size(), 0, &err);
    zip_t* za = src ? zip_open_from_source(src, flags, &err) : nullptr;
    *ze = zip_error_code_zip(&err);
    zip_error_fini(&err);
    if (!za && src) zip_source_free(src);
    return za;
  }
  int zfd = ::dup(fd_);  // libzip owns this one
  if (zfd < 0) return Error(Code::kIo, what_ + ": cannot duplicate descriptor");
  zip_t* za = zip_fdopen(zfd, flags, ze);
  if (!za) ::close(zfd);
  return za;
}

Result<Reader> Reader::Open(int fd, uint64_t file_size, const std::string& what) {
  Reader r;
  r.what_ = what;
  r.fd_ = ::dup(fd);
  if (r.fd_ < 0) return Error(Code::kIo, what + ": cannot duplicate descriptor");
  // A small archive is read whole, once: libzip and the checks below then make no system
  // call per entry (they made six, which for a shard of 800 vouchers was most of a fetch).
  if (file_size > 0 && file_size <= kReadWholeMax) {
    r.image_.resize(static_cast<size_t>(file_size));
    if (!PreadAll(r.fd_, r.image_.data(), r.image_.size(), 0)) return Error(Code::kTruncated, what + ": shorter than it was");
  }
  VOUCH_ASSIGN_OR_RETURN(uint64_t cd_offset,
                         CheckEndRecord([&](uint8_t* b, size_t n, uint64_t off) { return r.ReadAt(b, n, off); }, file_size, what));
  // The strict open first: libzip's ZIP_CHECKCONS compares every local header with its
  // central record and refuses duplicate names. An archive it accepts, the lenient open
  // accepts too, so our own checks then say what they would have said after that one, and
  // libzip reads the central directory once, not twice.
  int strict_ze = 0, ze = 0;
  VOUCH_ASSIGN_OR_RETURN(r.za_, r.OpenZip(ZIP_RDONLY | ZIP_CHECKCONS, &strict_ze));
  if (r.za_) {
    VOUCH_RETURN_IF_ERROR(r.ListEntries());
    VOUCH_RETURN_IF_ERROR(r.CheckTiling(cd_offset));
    return r;
  }
  // Refused: a lenient open, so that our own checks can say precisely what is wrong (libzip's
  // consistency check reports every problem as "inconsistent"); else the strict open's word.
  VOUCH_ASSIGN_OR_RETURN(r.za_, r.OpenZip(ZIP_RDONLY, &ze));
  if (!r.za_) {
    Code code = ze == ZIP_ER_NOZIP ? Code::kNotZip : ze == ZIP_ER_MEMORY ? Code::kTooLarge : Code::kMalformed;
    return Error(code, what + ": " + ZipErrorText(ze));
  }
  VOUCH_RETURN_IF_ERROR(r.ListEntries());
  VOUCH_RETURN_IF_ERROR(r.CheckTiling(cd_offset));
  Code code = strict_ze == ZIP_ER_EXISTS ? Code::kDuplicateEntry : Code::kMalformed;
  return Error(code, what + ": " + (strict_ze == ZIP_ER_EXISTS ? "two entries have one name" : ZipErrorText(strict_ze)));
}

// Every entry's name, sizes, method, encryption and kind, as the central directory says.
Status Reader::ListEntries() {
  zip_int64_t n = zip_get_num_entries(za_, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za_, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW, &st) != 0) {
      return Error(Code::kMalformed, what_ + ": entry " + std::to_string(i) + " does not stat");
    }
    EntryInfo e;
    e.name = st.name ? st.name : "";
    e.size = st.size;
    e.comp_size = st.comp_size;
    e.method = st.comp_method;
    e.encrypted = st.encryption_method != ZIP_EM_NONE;
    zip_uint8_t opsys = 0;
    zip_uint32_t attr = 0;
    if (zip_file_get_external_attributes(za_, static_cast<zip_uint64_t>(i), 0, &opsys, &attr) == 0 &&
        opsys == ZIP_OPSYS_UNIX) {
      uint32_t mode = attr >> 16;
      e.symlink = (mode & S_IFMT) == S_IFLNK;
      e.directory = (mode & S_IFMT) == S_IFDIR;
    }
    if (!e.name.empty() && e.name.back() == '/') e.directory = true;
    entries_.push_back(std::move(e));
  }
  return Status::Ok();
}

// Entries must tile [0, cd_offset) back to back in central-directory order: each local
// header where the previous entry's data ends, naming the entry the central directory names
// there, with no data descriptor. Overlapping entries (the "better zip bomb") and hidden
// gaps both break the tiling. These are checks on fixed header fields, not a second ZIP
// reader: every byte vouch uses is read through libzip.
Status Reader::CheckTiling(uint64_t cd_offset) const {
  uint64_t off = 0;
  for (const auto& e : entries_) {
    uint8_t h[kLocalHeaderSize];
    if (off + kLocalHeaderSize > cd_offset || !ReadAt(h, sizeof h, off) || std::memcmp(h, "PK\3\4", 4) != 0) {
      return Error(Code::kOverlap, what_ + ": entry " + e.name.substr(0, 80) + " is not where the previous one ends");
    }
    uint16_t flags = Le16(h + 6), name_len = Le16(h + 26), extra_len = Le16(h + 28);
    if (flags & 0x0008) return Error(Code::kUnsupported, what_ + ": entry uses a data descriptor");
    std::string name(name_len, '\0');
    if (!ReadAt(reinterpret_cast<uint8_t*>(name.data()), name_len, off + kLocalHeaderSize) || name != e.name) {
      return Error(Code::kOverlap, what_ + ": entries overlap or leave gaps (at " + e.name.substr(0, 80) + ")");
    }
    off += kLocalHeaderSize + name_len + extra_len + e.comp_size;
  }
  if (off != cd_offset) return Error(Code::kOverlap, what_ + ": entries overlap or leave gaps before the central directory");
  return Status::Ok();
}

Result<Bytes> Reader::Read(uint64_t i, uint64_t expected) const {
  const EntryInfo& e = entries_[i];
  if (e.size != expected) {
    return Error(Code::kSizeMismatch, what_ + ": " + e.name + " declares " + std::to_string(e.size) + " bytes, not " +
                                          std::to_string(expected));
  }
  zip_file_t* f = zip_fopen_index(za_, i, 0);
  if (!f) return Error(Code::kMalformed, what_ + ": " + e.name + ": " + zip_strerror(za_));
  Bytes out(static_cast<size_t>(expected) + 1);
  size_t got = 0;
  bool failed = false;
  while (got < out.size()) {
    zip_int64_t n = zip_fread(f, out.data() + got, out.size() - got);
    if (n < 0) { failed = true; break; }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  std::string why = failed ? zip_file_strerror(f) : "";
  bool crc = failed && zip_error_code_zip(zip_file_get_error(f)) == ZIP_ER_CRC;
  zip_fclose(f);
  if (crc) return Error(Code::kCorruptEntry, what_ + ": " + e.name + ": data does not match its CRC");
  // libzip stops at the declared size and checks the CRC there; data that inflates past it,
  // or a CRC that does not match, is an entry whose headers lie about its data.
  if (failed || got != expected) {
    return Error(Code::kSizeMismatch, what_ + ": " + e.name + ": data is not the " + std::to_string(expected) +
                                          " bytes declared" + (why.empty() ? "" : " (" + why + ")"));
  }
  out.resize(got);
  return out;
}

Writer::Writer(Writer&& o) noexcept { *this = std::move(o); }
Writer& Writer::operator=(Writer&& o) noexcept {
  std::swap(za_, o.za_);
  std::swap(archive_, o.archive_);
  path_ = std::move(o.path_);
  data_ = std::move(o.data_);
  return *this;
}
Writer::~Writer() {
  if (za_) zip_discard(za_);
  if (archive_) zip_source_free(archive_);
}

Result<Writer> Writer::Create(const std::filesystem::path& path) {
  Writer w;
  w.path_ = path;
  // The archive is built in memory and written with one call, atomically: libzip writing
  // a file makes a system call or two per header and per seek (500,000 for 100,000
  // vouchers), and writes its own temporary file besides.
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  w.za_ = src ? zip_open_from_source(src, ZIP_TRUNCATE, &err) : nullptr;
  if (!w.za_) {
    if (src) zip_source_free(src);
    Status s = Error(Code::kInternal, "zip archive in memory: " + std::string(zip_error_strerror(&err)));
    zip_error_fini(&err);
    return s;
  }
  zip_error_fini(&err);
  zip_source_keep(src);  // outlives zip_close, which writes the archive into it
  w.archive_ = src;
  return w;
}

Status Writer::Add(const std::string& name, Bytes data) {
  data_.push_back(std::make_unique<Bytes>(std::move(data)));
  const Bytes& d = *data_.back();
  zip_source_t* src = zip_source_buffer(za_, d.data(), d.size(), 0);
  if (!src) return Error(Code::kInternal, "zip source: " + std::string(zip_strerror(za_)));
  zip_int64_t i = zip_file_add(za_, name.c_str(), src, ZIP_FL_ENC_UTF_8);
  if (i < 0) {
    zip_source_free(src);
    return Error(Code::kInternal, "zip add " + name + ": " + zip_strerror(za_));
  }
  auto idx = static_cast<zip_uint64_t>(i);
  // Fixed metadata: stored, the DOS epoch, a plain 0644 Unix file.
  if (zip_set_file_compression(za_, idx, ZIP_CM_STORE, 0) != 0 || zip_file_set_dostime(za_, idx, 0, kDosDate1980, 0) != 0 ||
      zip_file_set_external_attributes(za_, idx, 0, ZIP_OPSYS_UNIX, (S_IFREG | 0644u) << 16) != 0) {
    return Error(Code::kInternal, "zip metadata " + name + ": " + zip_strerror(za_));
  }
  return Status::Ok();
}

Status Writer::Commit() {
  if (zip_close(za_) != 0) return Error(Code::kInternal, path_.string() + ": " + zip_strerror(za_));
  za_ = nullptr;
  data_.clear();
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_source_stat(archive_, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) || zip_source_open(archive_) != 0) {
    return Error(Code::kInternal, path_.string() + ": archive not readable from memory");
  }
  Bytes bytes(static_cast<size_t>(st.size));
  zip_int64_t got = zip_source_read(archive_, bytes.data(), bytes.size());
  zip_source_close(archive_);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size) return Error(Code::kInternal, path_.string() + ": short archive read");
  return WriteFileAtomic(path_, bytes);
}

LinkedLibrary LibraryVersion() { return {"libzip", LIBZIP_VERSION, zip_libzip_version()}; }

}  // namespace vouch::formats::zip
