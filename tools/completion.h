// Shell completion scripts generated from the CLI11 command definitions themselves, so they
// cannot drift from the commands: `vouch --completion bash|zsh` (and vouch-device) prints
// one, and meson writes them at build time with the built programs (tools/meson.build).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace vouch::tools {

// A bash (`complete -F`) or zsh (#compdef) script completing `prog`'s subcommands at every
// level, each command's flags (after "-"), and file names where a flag takes a value or the
// command takes operands. nullopt for a shell other than "bash" or "zsh".
std::optional<std::string> CompletionScript(const CLI::App& app, std::string_view prog, std::string_view shell);

}  // namespace vouch::tools
