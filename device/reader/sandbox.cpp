#include "device/reader/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>

namespace vouch::device::reader {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

Status Fail(const std::string& what) {
  return Error(Code::kInternal, "sandbox: " + what + ": " + std::strerror(errno));
}

Status Limit(int resource, rlim_t value, const char* name) {
  struct rlimit rl{value, value};
  if (::setrlimit(resource, &rl) != 0) return Fail(std::string("setrlimit ") + name);
  return Status::Ok();
}

Status Limits(const SandboxOptions& o, SandboxReport& report) {
  VOUCH_RETURN_IF_ERROR(Limit(RLIMIT_CORE, 0, "core"));
  // No file may grow. stderr may be a regular file (a log, a test's err.txt): a write to it
  // fails with EFBIG instead of killing the reader with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  if (!kSanitized) VOUCH_RETURN_IF_ERROR(Limit(RLIMIT_FSIZE, 0, "fsize"));  // sanitizer reports must reach stderr
  VOUCH_RETURN_IF_ERROR(Limit(RLIMIT_NOFILE, static_cast<rlim_t>(o.max_descriptors), "nofile"));
  // LeakSanitizer stops the world with a clone() at exit, which RLIMIT_NPROC would refuse.
  if (!kSanitized) VOUCH_RETURN_IF_ERROR(Limit(RLIMIT_NPROC, 0, "nproc"));
  VOUCH_RETURN_IF_ERROR(Limit(RLIMIT_MEMLOCK, 0, "memlock"));
  VOUCH_RETURN_IF_ERROR(Limit(RLIMIT_MSGQUEUE, 0, "msgqueue"));
  // The soft limit sends SIGXCPU, which kills; the hard limit one second later SIGKILLs.
  struct rlimit cpu{static_cast<rlim_t>(o.cpu_seconds), static_cast<rlim_t>(o.cpu_seconds + 1)};
  if (::setrlimit(RLIMIT_CPU, &cpu) != 0) return Fail("setrlimit cpu");
  if (kSanitized) {
    report.missing.push_back("memory cap (sanitizer build)");
  } else {
    VOUCH_RETURN_IF_ERROR(Limit(RLIMIT_DATA, static_cast<rlim_t>(o.memory_bytes), "data"));
    report.memory_cap = true;
  }
  return Status::Ok();
}

Status DropUser(const SandboxOptions& o, SandboxReport& report) {
  if (::geteuid() != 0) return Status::Ok();  // already unprivileged (tests, a user's shell)
  uid_t uid = 65534;
  gid_t gid = 65534;
  if (const struct passwd* pw = ::getpwnam(o.user.c_str())) {
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  if (uid == 0 || gid == 0) return Error(Code::kInternal, "sandbox: user " + o.user + " is root");
  if (::setgroups(0, nullptr) != 0) return Fail("setgroups");
  if (::setresgid(gid, gid, gid) != 0) return Fail("setresgid");
  if (::setresuid(uid, uid, uid) != 0) return Fail("setresuid");
  if (::setuid(0) == 0) return Error(Code::kInternal, "sandbox: could take root back");
  // Changing uid made the process non-dumpable, which makes /proc/self root's; libgit2 is
  // given /proc/self/fd/N paths, so the reader must own its /proc entry again.
  if (::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) return Fail("prctl dumpable");
  report.dropped_user = true;
  return Status::Ok();
}

// Landlock rights this code knows; newer kernels take older rulesets unchanged.
constexpr uint64_t kFsTruncate = 1ULL << 14;   // ABI 3
constexpr uint64_t kFsIoctlDev = 1ULL << 15;   // ABI 5

Status Landlock(const SandboxOptions& o, SandboxReport& report) {
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) {
    report.missing.push_back("landlock (kernel)");
    return Status::Ok();
  }
  uint64_t handled = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
                     LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                     LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                     LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                     LANDLOCK_ACCESS_FS_MAKE_SYM;
  if (abi >= 2) handled |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) handled |= kFsTruncate;
  if (abi >= 5) handled |= kFsIoctlDev;
  struct landlock_ruleset_attr attr{};
  attr.handled_access_fs = handled;
  int ruleset = static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0));
  if (ruleset < 0) return Fail("landlock_create_ruleset");
  std::unique_ptr<int, void (*)(int*)> owned(&ruleset, [](int* fd) { ::close(*fd); });
  for (int root : o.read_roots) {
    struct stat st;
    if (::fstat(root, &st) != 0) continue;
    struct landlock_path_beneath_attr beneath{};
    beneath.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | (S_ISDIR(st.st_mode) ? LANDLOCK_ACCESS_FS_READ_DIR : 0);
    beneath.parent_fd = root;
    if (::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0) return Fail("landlock_add_rule");
  }
  if (kSanitized) {
    // LeakSanitizer reads /proc/self/maps (and the like) at exit.
    int proc = ::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct landlock_path_beneath_attr beneath{};
    beneath.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    beneath.parent_fd = proc;
    if (proc < 0 || ::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0) {
      return Fail("landlock_add_rule /proc");
    }
    ::close(proc);
  }
  if (::syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) return Fail("landlock_restrict_self");
  report.landlock_abi = static_cast<int>(abi);
  return Status::Ok();
}

// libseccomp's SCMP_A0..SCMP_A5 macros are C compound literals; this is the same in C++.
scmp_arg_cmp Arg(unsigned int arg, scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) {
  return scmp_arg_cmp{arg, op, a, b};
}

Status Seccomp(const SandboxOptions& o, SandboxReport& report) {
  if (kSanitized) {
    report.missing.push_back("seccomp (sanitizer build)");
    return Status::Ok();
  }
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  if (!ctx) return Error(Code::kInternal, "sandbox: seccomp_init failed");
  std::unique_ptr<void, void (*)(void*)> owned(ctx, [](void* c) { seccomp_release(c); });
  int rc = 0;
  auto allow = [&](const char* name) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr != __NR_SCMP_ERROR && rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
  };
  // What reading directories, ZIP and git, hashing and writing records takes, and what the C
  // and C++ runtimes do on the way (allocation, time, abort).
  for (const char* name :
       {"read", "pread64", "readv", "preadv", "lseek", "close", "fstat", "newfstatat", "stat", "lstat", "statx",
        "fstatfs", "statfs", "getdents64", "getdents", "munmap", "mremap", "brk", "madvise", "futex", "exit",
        "exit_group", "rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "sigaltstack", "restart_syscall",
        "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep", "getpid", "gettid",
        "getppid", "getuid", "geteuid", "getgid", "getegid", "getrandom", "dup", "dup2", "dup3", "readlink",
        "readlinkat", "getcwd", "access", "faccessat", "faccessat2", "uname", "sched_yield", "sched_getaffinity",
        "getrlimit", "close_range", "fadvise64", "set_robust_list", "rseq", "membarrier"}) {
    allow(name);
  }
  // Writes go to the pipe and to stderr only.
  for (int fd : {o.output_fd, 2}) {
    for (const char* name : {"write", "writev"}) {
      int nr = seccomp_syscall_resolve_name(name);
      if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, Arg(0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(fd)));
    }
  }
  // Opens for reading only; no file is created, truncated or opened for writing.
  constexpr scmp_datum_t kWriteFlags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | 020000000 /* __O_TMPFILE */;
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1, Arg(2, SCMP_CMP_MASKED_EQ, kWriteFlags, 0));
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1, Arg(1, SCMP_CMP_MASKED_EQ, kWriteFlags, 0));
  // Memory, never executable.
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, Arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, Arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
  // Its own limits only (prlimit64 on pid 0), and no fcntl that signals (F_SETOWN, F_SETSIG),
  // locks or leases: another process must not be touched.
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1, Arg(0, SCMP_CMP_EQ, 0));
  for (scmp_datum_t cmd : {F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC}) {
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, Arg(1, SCMP_CMP_EQ, cmd));
  }
  // abort() signals itself, and nothing else.
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, Arg(0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid())));
  // What no reader has a reason to try is fatal, so an exploit's first step ends it.
  for (const char* name : {"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto", "sendmsg",
                           "execve", "execveat", "fork", "vfork", "clone", "clone3", "ptrace", "process_vm_readv",
                           "process_vm_writev", "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "bpf",
                           "perf_event_open", "kexec_load", "init_module", "finit_module", "keyctl", "add_key",
                           "userfaultfd", "io_uring_setup", "setuid", "setgid", "setresuid", "setresgid", "setgroups"}) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr != __NR_SCMP_ERROR && rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0);
  }
  if (rc != 0) return Error(Code::kInternal, std::string("sandbox: seccomp rule: ") + std::strerror(-rc));
  rc = seccomp_load(ctx);
  if (rc != 0) return Error(Code::kInternal, std::string("sandbox: seccomp_load: ") + std::strerror(-rc));
  report.seccomp = true;
  return Status::Ok();
}

}  // namespace

Result<SandboxReport> EnterSandbox(const SandboxOptions& o) {
  SandboxReport report;
  VOUCH_RETURN_IF_ERROR(Limits(o, report));
  VOUCH_RETURN_IF_ERROR(DropUser(o, report));
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Fail("no_new_privs");
  VOUCH_RETURN_IF_ERROR(Landlock(o, report));
  VOUCH_RETURN_IF_ERROR(Seccomp(o, report));
  return report;
}

}  // namespace vouch::device::reader
