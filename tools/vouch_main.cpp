// vouch: the operators' tool (manufacturers, owners, mirrors, carriers).
#include <malloc.h>

#include "tools/cli.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  using namespace vouch::tools;
  // glibc gives each thread that allocates an arena of its own (up to 8 per core), and each
  // keeps what its thread freed: with the checks of an import on every core that was 27 MiB
  // of a 100,000-voucher import's peak (cache/cache.md, "Memory"). Two are as fast here.
  mallopt(M_ARENA_MAX, 2);
  CLI::App app{"vouch: issue, verify, bundle and mirror enrolling vouchers"};
  app.set_version_flag("--version", "vouch 0.1.0");
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
