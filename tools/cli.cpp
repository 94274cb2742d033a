#include "tools/cli.h"

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
