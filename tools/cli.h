// The command-line boundary shared by `vouch` and `vouch-device`: one place that turns a
// Status into words on stderr and an exit code (DESIGN.md section 11: 0 success, 2 usage,
// 1 error; vouch-device adds 3 and 4 in its own main).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>

#include "libvoucher/status.h"

namespace vouch::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// What a subcommand does once its flags are parsed; main runs it and reports the Status.
using Action = std::function<Status()>;

// Prints "<prog>: error: <message> (<code>)" and, where one helps, a "hint:" line.
void PrintError(std::string_view prog, const Status& status);
int ExitCode(const Status& status);

// Parses argv, runs the chosen action, reports. `action` is set by the subcommand callbacks.
int Run(CLI::App& app, int argc, char** argv, const Action& action, std::string_view prog);

// For --json: a refusal as the one JSON document, {"result": "refused", "code", "message"},
// so scripts read it from stdout as well as stderr. Returns `refusal`.
Status PrintRefusalJson(const Status& refusal);

// One JSON document on stdout (for --json); bytes that are not UTF-8 become U+FFFD.
void PrintJson(const nlohmann::json& doc);
std::string JsonText(const nlohmann::json& doc);
std::string JsonText(const nlohmann::ordered_json& doc);

// Text for a terminal line: control characters, backslashes and bytes that are not UTF-8
// escaped (\n, \x1b), so a name on a medium cannot forge or hide report lines.
std::string Printable(std::string_view s);

}  // namespace vouch::tools
