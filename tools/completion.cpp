#include "tools/completion.h"

#include <vector>

namespace vouch::tools {
namespace {

struct Word {
  std::string name, description;
};

// One command of the tree, as the scripts need it: the words that may name it (its path, and
// the same path through aliases), its subcommands, its flags, which flags take a value, and
// whether it takes operands.
struct Command {
  std::vector<std::string> paths;
  std::vector<Word> subcommands, flags;
  std::vector<std::string> value_flags;
  bool operands = false;
};

std::string FirstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

void Collect(const CLI::App& app, const std::vector<std::string>& paths, std::vector<Command>& out) {
  Command c;
  c.paths = paths;
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_group().empty()) continue;  // hidden
    if (!o->nonpositional()) {
      c.operands = true;
      continue;
    }
    // As CLI11's help decides to show a value (Formatter::make_option_opts).
    bool takes_value = o->get_type_size() != 0 && !o->get_type_name().empty();
    for (const std::string& l : o->get_lnames()) {
      c.flags.push_back({"--" + l, FirstLine(o->get_description())});
      if (takes_value) c.value_flags.push_back("--" + l);
    }
    for (const std::string& s : o->get_snames()) {
      c.flags.push_back({"-" + s, FirstLine(o->get_description())});
      if (takes_value) c.value_flags.push_back("-" + s);
    }
  }
  std::vector<const CLI::App*> subs = app.get_subcommands([](const CLI::App*) { return true; });
  size_t at = out.size();
  out.push_back(c);
  for (const CLI::App* sub : subs) {
    std::vector<std::string> names{sub->get_name()};
    for (const std::string& a : sub->get_aliases()) names.push_back(a);
    std::vector<std::string> sub_paths;
    for (const std::string& n : names) {
      out[at].subcommands.push_back({n, FirstLine(sub->get_description())});
      for (const std::string& p : paths) sub_paths.push_back(p.empty() ? n : p + " " + n);
    }
    Collect(*sub, sub_paths, out);
  }
}

// 'text' for either shell: single quotes, a quote inside as '\''.
std::string Quote(std::string_view s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string Join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

std::vector<std::string> Names(const std::vector<Word>& words) {
  std::vector<std::string> names;
  for (const Word& w : words) names.push_back(w.name);
  return names;
}

std::string CasePattern(const Command& c) {
  std::string pattern;
  for (const std::string& p : c.paths) pattern += (pattern.empty() ? "" : "|") + Quote(p);
  return pattern;
}

// The `<fn>_spec PATH` function both scripts share: sets subs, opts, vals and pos for the
// command at PATH (and, for zsh, subd and optd: "name:description" pairs for _describe).
std::string SpecFunction(const std::string& fn, const std::vector<Command>& commands, bool zsh) {
  std::string s = fn + "_spec() {\n  case \"$1\" in\n";
  for (const Command& c : commands) {
    s += "    " + CasePattern(c) + ")\n";
    s += "      subs=" + Quote(Join(Names(c.subcommands))) + "\n";
    s += "      opts=" + Quote(Join(Names(c.flags))) + "\n";
    s += "      vals=" + Quote(Join(c.value_flags)) + "\n";
    s += std::string("      pos=") + (c.operands ? "1" : "0") + "\n";
    if (zsh) {
      auto described = [](const std::vector<Word>& words) {
        std::string a = "(";
        for (const Word& w : words) {
          std::string name;
          for (char ch : w.name) name += ch == ':' ? std::string("\\:") : std::string(1, ch);
          a += (a.size() > 1 ? " " : "") + Quote(name + ":" + w.description);
        }
        return a + ")";
      };
      s += "      subd=" + described(c.subcommands) + "\n";
      s += "      optd=" + described(c.flags) + "\n";
    }
    s += "      ;;\n";
  }
  s += "    *) subs='' opts='' vals='' pos=1";
  if (zsh) s += " subd=() optd=()";
  s += " ;;\n  esac\n}\n";
  return s;
}

// The walk both scripts share: the words before the cursor choose the command (a word that
// names a subcommand of the command so far descends into it; a flag that takes a value skips
// the word after it, unless that is a flag: CLI11 lets some values be left out, as
// `bundle create --cache`). Leaves cmdpath, and skip=1 when the cursor is on a flag's value.
std::string Walk(const std::string& fn, std::string_view first, std::string_view word) {
  return "  local cmdpath='' i w skip=0 subs opts vals pos\n"
         "  for ((i = " + std::string(first) + "; i < " + (first == "1" ? "COMP_CWORD" : "CURRENT") + "; i++)); do\n"
         "    w=" + std::string(word) + "\n"
         "    if ((skip)); then skip=0; [[ $w == -* ]] || continue; fi\n"
         "    " + fn + "_spec \"$cmdpath\"\n"
         "    case \" $vals \" in *\" $w \"*) skip=1; continue ;; esac\n"
         "    case \" $subs \" in *\" $w \"*) cmdpath=\"${cmdpath:+$cmdpath }$w\" ;; esac\n"
         "  done\n"
         "  " + fn + "_spec \"$cmdpath\"\n";
}

std::string Bash(const std::string& prog, const std::string& fn, const std::vector<Command>& commands) {
  std::string s = "# bash completion for " + prog + ", generated by `" + prog +
                  " --completion bash` from its command definitions: do not edit.\n";
  s += SpecFunction(fn, commands, /*zsh=*/false);
  s += fn + "() {\n  local cur=${COMP_WORDS[COMP_CWORD]}\n";
  s += Walk(fn, "1", "${COMP_WORDS[i]}");
  s += "  COMPREPLY=()\n"
       "  if [[ $cur == -* ]]; then\n"
       "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
       "  elif ((skip)); then\n"
       "    compopt -o filenames 2>/dev/null\n"
       "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
       "  else\n"
       "    COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
       "    if ((pos)); then\n"
       "      compopt -o filenames 2>/dev/null\n"
       "      COMPREPLY+=($(compgen -f -- \"$cur\"))\n"
       "    fi\n"
       "  fi\n"
       "  return 0\n}\n";
  s += "complete -F " + fn + " " + prog + "\n";
  return s;
}

std::string Zsh(const std::string& prog, const std::string& fn, const std::vector<Command>& commands) {
  std::string s = "#compdef " + prog + "\n# zsh completion for " + prog + ", generated by `" + prog +
                  " --completion zsh` from its command definitions: do not edit.\n";
  s += SpecFunction(fn, commands, /*zsh=*/true);
  s += fn + "() {\n  local -a subd optd\n";
  s += Walk(fn, "2", "${words[i]}");
  s += "  if [[ $PREFIX == -* ]]; then\n"
       "    _describe -t options option optd\n"
       "  elif ((skip)); then\n"
       "    _files\n"
       "  else\n"
       "    (( ${#subd} )) && _describe -t commands command subd\n"
       "    ((pos)) && _files\n"
       "  fi\n"
       "  return 0\n}\n";
  s += fn + " \"$@\"\n";
  return s;
}

}  // namespace

std::optional<std::string> CompletionScript(const CLI::App& app, std::string_view prog, std::string_view shell) {
  std::vector<Command> commands;
  Collect(app, {""}, commands);
  std::string fn = "_" + std::string(prog);
  for (char& c : fn) {
    if (c == '-') c = '_';
  }
  if (shell == "bash") return Bash(std::string(prog), fn, commands);
  if (shell == "zsh") return Zsh(std::string(prog), fn, commands);
  return std::nullopt;
}

}  // namespace vouch::tools
