// Subcommand registration for `vouch`. Each Add* function declares its flags on `app` and,
// when its subcommand is chosen, stores what to run in `action`. Commands stay thin: they
// parse flags, call the libraries, and print.
#pragma once

#include "tools/cli.h"

namespace vouch::tools {

void AddKeyCommands(CLI::App& app, Action& action);
void AddIssueCommands(CLI::App& app, Action& action);
void AddInspectCommands(CLI::App& app, Action& action);
void AddBundleCommands(CLI::App& app, Action& action);
void AddDemoCommand(CLI::App& app, Action& action);
void AddCacheCommands(CLI::App& app, Action& action);
void AddLogCommands(CLI::App& app, Action& action);
void AddReceiptCommands(CLI::App& app, Action& action);
void AddPublishCommands(CLI::App& app, Action& action);  // publish, fetch (a static mirror)

}  // namespace vouch::tools
