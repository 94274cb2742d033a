// vouch-medium-reader and, built from this file with VOUCH_GIT_READER, vouch-git-reader:
// started by vouch-device, never by hand. Read media for one device's vouchers inside their
// sandbox and write protocol records on standard output (device/reader/reader.h,
// device/protocol.md). The git reader reads only git caches, within what the medium reader
// left of the fetch's budgets (the device says what it was sent, and for how long it read).
#include <CLI/CLI.hpp>

#include <cstdlib>

#include "device/reader/reader.h"
#ifdef VOUCH_GIT_READER
#include "device/reader/git_caches.h"
#endif

int main(int argc, char** argv) {
  vouch::device::reader::ReaderOptions o;
#ifdef VOUCH_GIT_READER
  CLI::App app{"vouch-git-reader: the confined reader of git caches on media that vouch-device starts (not for use by hand)"};
  o.git = &vouch::device::reader::GitCacheReader();
  size_t sent = 0;
  uint64_t bytes = 0;
  int64_t ms = 0;
  app.add_option("--sent", sent, "Candidates the medium reader sent");
  app.add_option("--sent-bytes", bytes, "Their voucher and proof bytes");
  app.add_option("--elapsed-ms", ms, "Milliseconds the fetch has been reading");
#else
  CLI::App app{"vouch-medium-reader: the confined reader of media that vouch-device starts (not for use by hand)"};
#endif
  app.add_option("--udf", o.device_udf, "The device key's UDF")->required();
  app.add_option("MEDIUM", o.media, "Mount points, directories or .vbundle files")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
#ifdef VOUCH_GIT_READER
  // The fetch's budgets (scanner.h's Limits) are for both readers together.
  o.limits.max_vouchers -= std::min(sent, o.limits.max_vouchers);
  o.limits.max_bytes -= std::min(bytes, o.limits.max_bytes);
  o.limits.deadline -= std::min(std::chrono::milliseconds(std::max<int64_t>(0, ms)), o.limits.deadline);
#endif
  ::setenv("TZ", "UTC", 1);  // libzip mktime()s entry times; with TZ set glibc stats nothing
  return vouch::device::reader::Serve(o, 1);
}
