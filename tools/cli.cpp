#include "tools/cli.h"

#include "tools/completion.h"

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <iostream>
#include <optional>
#include <string>

namespace vouch::tools {

static const char* Hint(Code code) {
  switch (code) {
    case Code::kExists: return "pass --force to overwrite, or choose another path";
    case Code::kUsage: return "see --help for the flags and an example";
    default: return nullptr;
  }
}

namespace {

// The code point of the well-formed UTF-8 sequence at s[i] and its length, or length 0 for an
// ill-formed one (overlong, surrogate, past U+10FFFF, cut short).
std::pair<uint32_t, size_t> DecodeUtf8(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (len == 0 || i + len > s.size()) return {0, 0};
  uint32_t cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xc0) != 0x80) return {0, 0};
    cp = (cp << 6) | (b(k) & 0x3f);
  }
  bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  if (overlong || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return {0, 0};
  return {cp, len};
}

// Code points a terminal acts on or that reorder what is shown: C1 controls, bidi controls,
// line and paragraph separators.
bool Invisible(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

}  // namespace

std::string Printable(std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
      continue;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c >= 0x80) {
      auto [cp, len] = DecodeUtf8(s, i);
      if (len > 0 && !Invisible(cp)) {
        out.append(s.substr(i, len));
        i += len;
        continue;
      }
      if (len > 0) {  // shown as \u{...}, whole
        char buf[16];
        std::snprintf(buf, sizeof buf, "\\u{%x}", cp);
        out += buf;
        i += len;
        continue;
      }
    }
    out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
    ++i;
  }
  return out;
}

void PrintError(std::string_view prog, const Status& status) {
  std::cerr << prog << ": error: " << Printable(status.message()) << " (" << CodeName(status.code()) << ")\n";
  if (const char* hint = Hint(status.code())) std::cerr << prog << ": hint: " << hint << "\n";
}

int ExitCode(const Status& status) {
  if (status.ok()) return kExitOk;
  return status.code() == Code::kUsage ? kExitUsage : kExitError;
}

namespace {

// A repeatable flag (--witness, --device, --expect, --trust) takes one value per occurrence:
// CLI11 would otherwise let `--witness W1 NOTE` swallow the positional NOTE as a second
// witness. Positionals keep taking many.
void OneValuePerFlag(CLI::App& app) {
  for (CLI::Option* o : app.get_options()) {
    if (o->nonpositional() && o->get_items_expected_max() > 1) o->allow_extra_args(false);
  }
  for (CLI::App* sub : app.get_subcommands({})) OneValuePerFlag(*sub);
}

}  // namespace

Status PrintRefusalJson(const Status& refusal) {
  PrintJson({{"result", "refused"}, {"code", CodeName(refusal.code())}, {"message", refusal.message()}});
  return refusal;
}

int Run(CLI::App& app, int argc, char** argv, const Action& action, std::string_view prog) {
  // libzip turns every entry's DOS time into a time_t with mktime(), and glibc, with TZ
  // unset, stats /etc/localtime on every such call: three system calls per entry, most of
  // a fetch from a shard of 800. vouch shows and compares UTC only, so a TZ it does not
  // read anyway is set once here (one the user set is kept).
  ::setenv("TZ", "UTC", /*overwrite=*/0);
  OneValuePerFlag(app);
  // `--completion bash|zsh`: the completion script generated from this very command tree
  // (tools/completion.h), for meson to install. Hidden: not a command a user runs.
  if (argc == 3 && std::string_view(argv[1]) == "--completion") {
    std::optional<std::string> script = CompletionScript(app, prog, argv[2]);
    if (!script) {
      PrintError(prog, Error(Code::kUsage, "--completion takes bash or zsh, not '" + std::string(argv[2]) + "'"));
      return kExitUsage;
    }
    std::cout << *script;
    return kExitOk;
  }
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

// Names on a medium need not be UTF-8; JSON must be. Bad bytes become U+FFFD rather than an
// exception that would lose the report of a fetch that did enroll.
std::string JsonText(const nlohmann::json& doc) {
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}
std::string JsonText(const nlohmann::ordered_json& doc) {
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void PrintJson(const nlohmann::json& doc) { std::cout << JsonText(doc) << "\n"; }


}  // namespace vouch::tools
