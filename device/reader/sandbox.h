// The medium reader's confinement (DESIGN.md section 9, "The confined reader").
//
// The reader parses ZIP and git from a stick that may have been built to exploit exactly
// that, so it runs as if it were already compromised: once it has opened the media it
// gives up everything it does not need to read them and write one pipe.
//
//  1. resource limits: no core dumps, no files written (FSIZE 0), few descriptors, no new
//     processes, CPU seconds and a data-segment cap (memory), so a bomb ends in a kill;
//  2. a dedicated user: root drops to `vouch-reader` (or nobody) with no groups, and cannot
//     read the device's state (0700, root);
//  3. no_new_privs, then Landlock (where the kernel has it): the only files it may open
//     are below the media it was given, read-only;
//  4. seccomp (libseccomp): an allow-list of system calls; no sockets, no exec, no fork,
//     no ptrace (those kill the process); no open for writing, no executable mappings;
//     writes only to its output and to stderr; anything else fails with EPERM.
//
// Sanitizer builds skip the memory, file-size and process caps and seccomp, and let Landlock read
// /proc: ASan reserves terabytes of address space, and LeakSanitizer clones, ptraces and
// reads /proc/self/maps at exit. The gcc build, the one shipped, tests all of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "libvoucher/status.h"

namespace vouch::device::reader {

struct SandboxOptions {
  std::vector<int> read_roots;        // open media: the only hierarchies left readable
  int output_fd = 1;                  // the pipe to the device
  uint64_t memory_bytes = 80ull << 20;  // RLIMIT_DATA
  int cpu_seconds = 15;               // RLIMIT_CPU
  int max_descriptors = 64;           // RLIMIT_NOFILE
  std::string user = "vouch-reader";  // dropped to when started as root; nobody if absent
};

// What was put in place; `missing` names layers the kernel or build did not offer.
struct SandboxReport {
  bool dropped_user = false;
  int landlock_abi = 0;
  bool seccomp = false;
  bool memory_cap = false;
  std::vector<std::string> missing;
};

// Enters the sandbox; irreversible. Fails (kInternal) only when a layer that is available
// could not be put in place: the caller must then not read the media.
Result<SandboxReport> EnterSandbox(const SandboxOptions& options);

}  // namespace vouch::device::reader
