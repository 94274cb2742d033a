// The medium scanner over a directory tree the input describes: directories, files,
// symbolic links (some pointing outside, some in loops), FIFOs and bundle-named files, with
// names drawn from the layout's own vocabulary so the scanner's paths are reached.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "device/reader/git_caches.h"
#include "device/reader/scanner.h"

namespace {
// Discards what the scanner finds: the target is the scanner not crashing or hanging.
class Discard : public vouch::device::reader::Sink {
 public:
  void Voucher(const std::string&, vouch::ByteView, const std::optional<vouch::Bytes>&) override {}
  void Refused(const std::string&, const vouch::Status&) override {}
  void Note(const std::string&) override {}
};
}  // namespace

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string udf = "MB5S-R4AJ-3FBT-7NHO-T26Z-2E6Y-WFH4";
  static const char* names[] = {"vouchers", "B5", "SR", "MB5S-R4AJ-3FBT-7NHO-T26Z-2E6Y-WFH4", "vouch.vshards",
                                "x.vbundle", "c.git", "objects", "refs", "a", "..", "."};
  fs::path root = fs::temp_directory_path() / ("vouch-fuzz-medium-" + std::to_string(getpid()));
  std::error_code ec;
  fs::remove_all(root, ec);
  fs::create_directories(root / "m");
  fs::path cur = root / "m";
  for (size_t i = 0; i + 2 < size && i < 3 * 64; i += 3) {
    const char* name = names[data[i + 1] % (sizeof names / sizeof *names)];
    fs::path p = cur / name;
    switch (data[i] % 6) {
      case 0: fs::create_directory(p, ec); if (!ec && data[i + 2] & 1) cur = p; break;
      case 1: {  // file contents: the rest of the input, at most 4 KiB (bundles, vouchers, junk)
        // A new file only: opening an existing FIFO for writing would block the harness
        // (the first "hang" the fuzzer reported was this harness's, not the scanner's).
        int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
        if (fd >= 0) {
          ssize_t ignored = ::write(fd, data + i, std::min<size_t>(size - i, 4096));
          (void)ignored;
          ::close(fd);
        }
        break;
      }
      case 2: fs::create_symlink(data[i + 2] & 1 ? root : cur, p, ec); break;
      case 3: ::mkfifo(p.c_str(), 0644); break;
      case 4: cur = root / "m"; break;
      case 5: fs::create_symlink("/etc", p, ec); break;
    }
  }
  vouch::device::reader::Limits limits;
  limits.max_dirents = 10000;
  auto medium = vouch::device::reader::OpenMedium((root / "m").string());
  Discard sink;
  vouch::device::reader::ScanMedia({medium}, udf, limits, sink);
  // And as the git reader walks it, for the git caches the medium reader only reports.
  vouch::device::reader::ScanMedia({medium}, udf, limits, sink, &vouch::device::reader::GitCacheReader());
  if (medium.fd >= 0) ::close(medium.fd);
  fs::remove_all(root, ec);
  return 0;
}
