// The one place vouch touches libzip. A Reader opens an archive from an open file
// descriptor with libzip's consistency checks and adds the structural checks libzip does
// not make (formats/bundle.md, "Reader rules"); a Writer produces the canonical stored
// archives bundles are made of.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"
#include "libvoucher/library_version.h"

typedef struct zip zip_t;
typedef struct zip_source zip_source_t;

namespace vouch::formats::zip {

struct EntryInfo {
  std::string name;
  uint64_t size = 0;       // uncompressed, as the headers declare
  uint64_t comp_size = 0;
  uint16_t method = 0;     // 0 stored, 8 deflate
  bool encrypted = false;
  bool symlink = false;    // Unix external attributes say S_IFLNK
  bool directory = false;  // name ends in '/' or attributes say S_IFDIR
};

class Reader {
 public:
  // Archives up to this size are read into memory whole, once.
  static constexpr uint64_t kReadWholeMax = 8 << 20;

  // `fd` stays the caller's; the reader works on its own duplicate. Refusals: kNotZip,
  // kTruncated, kTrailingData, kUnsupported (zip64, multi-disk, comments), kMalformed
  // (libzip finds headers inconsistent), kOverlap (entries do not tile the archive).
  static Result<Reader> Open(int fd, uint64_t file_size, const std::string& what);
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  uint64_t count() const { return entries_.size(); }
  const EntryInfo& entry(uint64_t i) const { return entries_[i]; }
  // Reads entry i once, never more than `expected` + 1 bytes, and refuses (kSizeMismatch)
  // unless exactly `expected` bytes come out and libzip's CRC check passes.
  Result<Bytes> Read(uint64_t i, uint64_t expected) const;

 private:
  Reader() = default;
  Status CheckTiling(uint64_t cd_offset) const;
  bool ReadAt(uint8_t* buf, size_t n, uint64_t off) const;  // from image_, else the file
  Result<zip_t*> OpenZip(int flags, int* ze) const;         // nullptr with *ze on failure
  Status ListEntries();                                     // entries_ from za_
  zip_t* za_ = nullptr;
  int fd_ = -1;  // our duplicate, for the tiling check's pread
  Bytes image_;  // the whole archive, when it is small
  std::string what_;
  std::vector<EntryInfo> entries_;
};

// Writes a stored archive with fixed times and attributes: the same entries in the same
// order always give the same bytes. Nothing is visible at `path` until Commit succeeds.
class Writer {
 public:
  static Result<Writer> Create(const std::filesystem::path& path);
  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;
  ~Writer();  // abandons an uncommitted archive

  Status Add(const std::string& name, Bytes data);
  Status Commit();  // builds the archive in memory, then WriteFileAtomic

 private:
  Writer() = default;
  zip_t* za_ = nullptr;
  zip_source_t* archive_ = nullptr;  // the archive's bytes, in memory
  std::filesystem::path path_;
  std::vector<std::unique_ptr<Bytes>> data_;  // libzip reads these at Commit
};

// libzip: LIBZIP_VERSION, and zip_libzip_version() at run time.
LinkedLibrary LibraryVersion();

}  // namespace vouch::formats::zip
