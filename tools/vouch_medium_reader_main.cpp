// vouch-medium-reader: started by vouch-device, never by hand. Reads media for one device's
// vouchers inside its sandbox and writes protocol records on standard output
// (device/reader/reader.h, device/protocol.md).
#include <CLI/CLI.hpp>

#include <cstdlib>

#include "device/reader/reader.h"

int main(int argc, char** argv) {
  vouch::device::reader::ReaderOptions o;
  CLI::App app{"vouch-medium-reader: the confined reader of media that vouch-device starts (not for use by hand)"};
  app.add_option("--udf", o.device_udf, "The device key's UDF")->required();
  app.add_option("MEDIUM", o.media, "Mount points, directories or .vbundle files")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  ::setenv("TZ", "UTC", 1);  // libzip mktime()s entry times; with TZ set glibc stats nothing
  return vouch::device::reader::Serve(o, 1);
}
