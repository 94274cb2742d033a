// vouch: the operators' tool (manufacturers, owners, mirrors, carriers).
#include <malloc.h>

#include "cache/git/library.h"
#include "cache/http/client.h"
#include "formats/cbor/cbor.h"
#include "formats/qr/qr_code.h"
#include "formats/qr/qr_image.h"
#include "formats/zip/archive.h"
#include "libvoucher/ossl/error.h"
#include "libvoucher/sodium/edwards25519.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/version.h"

int main(int argc, char** argv) {
  using namespace vouch::tools;
  // glibc gives each thread that allocates an arena of its own (up to 8 per core), and each
  // keeps what its thread freed: with the checks of an import on every core that was 27 MiB
  // of a 100,000-voucher import's peak (cache/cache.md, "Memory"). Two are as fast here.
  mallopt(M_ARENA_MAX, 2);
  CLI::App app{"vouch: issue, verify, bundle and mirror enrolling vouchers"};
  // Every library vouch links that can say its version, each asked through its own folder.
  app.set_version_flag("--version", [] {
    using namespace vouch;
    return VersionText("vouch", {ossl::LibraryVersion(), edwards25519::LibraryVersion(), formats::zip::LibraryVersion(),
                                 formats::cbor::LibraryVersion(), formats::qr::LibraryVersion(),
                                 formats::qr::PngLibraryVersion(), cache::git::LibraryVersion(),
                                 cache::http::LibraryVersion()});
  }, "Print the version, the suites supported and the libraries built with");
  app.require_subcommand(1);
  Action action;
  AddKeyCommands(app, action);
  AddIssueCommands(app, action);
  AddInspectCommands(app, action);
  AddBundleCommands(app, action);
  AddCacheCommands(app, action);
  AddLogCommands(app, action);
  AddReceiptCommands(app, action);
  AddPublishCommands(app, action);
  AddDemoCommand(app, action);
  return Run(app, argc, argv, action, "vouch");
}
