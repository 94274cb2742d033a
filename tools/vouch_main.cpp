// vouch: the operators' tool (manufacturers, owners, mirrors, carriers).
#include "tools/cli.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  using namespace vouch::tools;
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
