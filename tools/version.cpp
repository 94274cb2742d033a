#include "tools/version.h"

#include "libvoucher/suite.h"

#ifndef VOUCH_VERSION
#error "VOUCH_VERSION is set by tools/meson.build from the project's version"
#endif

namespace vouch::tools {

std::string_view ProjectVersion() { return VOUCH_VERSION; }

std::string VersionText(std::string_view prog, const std::vector<LinkedLibrary>& libraries) {
  std::string out = std::string(prog) + " " + std::string(ProjectVersion()) + "\nsuites:\n";
  for (Suite s : kSuites) {
    std::string flag(SuiteFlag(s));
    out += "  " + flag + std::string(flag.size() < 8 ? 8 - flag.size() : 1, ' ') + std::string(SuiteName(s)) + "\n";
  }
  out += "built with:\n";
  for (const LinkedLibrary& l : libraries) {
    out += "  " + l.name + " " + l.built;
    if (!l.running.empty() && l.running != l.built) out += " (running " + l.running + ")";
    out += "\n";
  }
  out.pop_back();  // CLI11 adds the last newline
  return out;
}

}  // namespace vouch::tools
