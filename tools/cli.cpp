#include "tools/cli.h"

#include <cstdlib>
#include <iostream>

namespace vouch::tools {

static const char* Hint(Code code) {
  switch (code) {
    case Code::kExists: return "pass --force to overwrite, or choose another path";
    case Code::kUsage: return "see --help for the flags and an example";
    default: return nullptr;
  }
}

void PrintError(std::string_view prog, const Status& status) {
  std::cerr << prog << ": error: " << status.message() << " (" << CodeName(status.code()) << ")\n";
  if (const char* hint = Hint(status.code())) std::cerr << prog << ": hint: " << hint << "\n";
}

int ExitCode(const Status& status) {
  if (status.ok()) return kExitOk;
  return status.code() == Code::kUsage ? kExitUsage : kExitError;
}

int Run(CLI::App& app, int argc, char** argv, const Action& action, std::string_view prog) {
  // libzip turns every entry's DOS time into a time_t with mktime(), and glibc, with TZ
  // unset, stats /etc/localtime on every such call: three system calls per entry, most of
  // a fetch from a shard of 800. vouch shows and compares UTC only, so a TZ it does not
  // read anyway is set once here (one the user set is kept).
  ::setenv("TZ", "UTC", /*overwrite=*/0);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << prog << ": error: " << e.what() << " (usage)\n";
    std::cerr << prog << ": hint: run '" << prog << " --help'\n";
    return kExitUsage;
  }
  if (!action) {
    std::cerr << app.help();
    return kExitUsage;
  }
  // Library code reports failures as Status; an exception reaching here is a bug (a
  // third-party library throwing on input we failed to check), reported, not a crash.
  Status s;
  try {
    s = action();
  } catch (const std::exception& e) {
    s = Error(Code::kInternal, std::string("unexpected exception: ") + e.what());
  }
  if (!s.ok()) PrintError(prog, s);
  return ExitCode(s);
}

void PrintJson(const nlohmann::json& doc) { std::cout << doc.dump(2) << "\n"; }

}  // namespace vouch::tools
