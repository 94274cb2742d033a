#include "device/fetch.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "device/protocol.h"
#include "formats/voucher_json.h"
#include "libvoucher/device_state.h"
#include "libvoucher/file.h"
#include "libvoucher/key.h"

#ifndef VOUCH_LIBEXECDIR
#define VOUCH_LIBEXECDIR "/usr/libexec/vouch"
#endif
// The same folder relative to the folder vouch-device is installed in ("../libexec/vouch"), or
// empty when meson's bindir or libexecdir is absolute (device/meson.build).
#ifndef VOUCH_LIBEXECDIR_FROM_BINDIR
#define VOUCH_LIBEXECDIR_FROM_BINDIR ""
#endif

namespace vouch::device {
namespace fs = std::filesystem;

namespace {

fs::path GitReaderBeside(const fs::path& reader) { return reader.parent_path() / "vouch-git-reader"; }

}  // namespace

// Every place looked in is fixed by where this executable is (its real path, through
// /proc/self/exe) or by the build: never by the environment, the working directory or a
// medium. Whoever can write there can replace vouch-device itself.
fs::path DefaultReader() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // A build tree: the reader is built beside vouch-device.
    fs::path beside = self.parent_path() / "vouch-medium-reader";
    if (fs::exists(beside, ec)) return beside;
    // An installed tree anywhere (a package unpacked into an image's root before it boots,
    // a prefix moved as a whole): <bindir>/../libexec/vouch.
    if (sizeof(VOUCH_LIBEXECDIR_FROM_BINDIR) > 1) {
      fs::path installed = self.parent_path() / VOUCH_LIBEXECDIR_FROM_BINDIR / "vouch-medium-reader";
      if (fs::exists(installed, ec)) return installed.lexically_normal();
    }
  }
  return fs::path(VOUCH_LIBEXECDIR) / "vouch-medium-reader";
}

namespace {

class Reader {
 public:
  ~Reader() {
    if (out_ >= 0) ::close(out_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }

  Status Start(const fs::path& exe, const std::string& udf, const std::vector<std::string>& media,
               const std::vector<std::string>& options = {}) {
    std::vector<std::string> args = {exe.string(), "--udf", udf};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("--");
    args.insert(args.end(), media.begin(), media.end());
    // A clean environment: the reader needs none of ours, and must not be steered by it.
    std::vector<std::string> env = {"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"};
    // Sanitizer runs keep their options, but the reader checks no leaks: LeakSanitizer would
    // read its suppressions file at exit, which the confined reader may not open.
    if (const char* v = ::getenv("ASAN_OPTIONS")) env.push_back(std::string("ASAN_OPTIONS=") + v + ":detect_leaks=0");
    if (const char* v = ::getenv("UBSAN_OPTIONS")) env.push_back(std::string("UBSAN_OPTIONS=") + v);
    // Everything the child needs is built before fork: it only dups, closes and execs.
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return Error(Code::kReaderFailed, std::string("cannot make a pipe: ") + std::strerror(errno));
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    // The reader's stderr is not the operator's terminal: a compromised reader could write
    // raw escapes to it or read keystrokes from it. Only sanitizer runs (tests) keep it, so
    // that reports are seen.
    bool keep_stderr = ::getenv("ASAN_OPTIONS") || ::getenv("UBSAN_OPTIONS");
    pid_ = ::fork();
    if (pid_ < 0) {
      ::close(p[0]);
      ::close(p[1]);
      if (null >= 0) ::close(null);
      return Error(Code::kReaderFailed, std::string("cannot start the medium reader: ") + std::strerror(errno));
    }
    if (pid_ == 0) {
      if (null < 0 || ::dup2(null, 0) < 0) ::_exit(127);
      if (!keep_stderr && ::dup2(null, 2) < 0) ::_exit(127);
      // dup2 onto itself keeps close-on-exec: the pipe may already be fd 1.
      if (p[1] == 1 ? ::fcntl(1, F_SETFD, 0) < 0 : ::dup2(p[1], 1) < 0) ::_exit(127);
      // Nothing of ours crosses the exec; without close_range, close them one by one.
      if (::syscall(SYS_close_range, 3, ~0U, 0) != 0) {
        for (int fd = 3; fd < 65536; ++fd) ::close(fd);
      }
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the reader does not outlive the device's fetch
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(p[1]);
    if (null >= 0) ::close(null);
    out_ = p[0];
    return Status::Ok();
  }

  // Reads and dispatches records until the reader ends or `until` passes. Returns the
  // failure, if the reader failed.
  Status Run(Judge& judge, std::chrono::steady_clock::time_point until, std::chrono::milliseconds deadline,
             size_t& no_medium) {
    Decoder decoder;
    std::vector<uint8_t> buf(64 * 1024);
    Status broken;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        ::kill(pid_, SIGKILL);
        Wait();
        return Error(Code::kReaderFailed, "the medium reader did not finish within " +
                                              std::to_string(deadline.count() / 1000) + " s and was killed");
      }
      struct pollfd pfd{out_, POLLIN, 0};
      int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) continue;
      ssize_t n = ::read(out_, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (!broken.ok()) continue;  // drain, then report
      decoder.Append(ByteView(buf.data(), static_cast<size_t>(n)));
      for (;;) {
        auto rec = decoder.Next();
        if (!rec.ok()) {
          broken = rec.status();
          ::kill(pid_, SIGKILL);
          break;
        }
        if (!*rec) break;
        if ((*rec)->type == RecordType::kGit && !git_allowed_) {
          broken = Error(Code::kReaderFailed, "medium reader broke its protocol: a git record from the git reader");
          ::kill(pid_, SIGKILL);
          break;
        }
        Dispatch(**rec, judge, no_medium);
      }
    }
    // The pipe closed, but a reader that closed it on purpose may sleep on: the deadline holds
    // until it has exited.
    int status = 0;
    if (!WaitUntil(until, status)) {
      return Error(Code::kReaderFailed, "the medium reader did not finish within " +
                                            std::to_string(deadline.count() / 1000) + " s and was killed");
    }
    if (!broken.ok()) return broken;
    if (WIFSIGNALED(status)) {
      int sig = WTERMSIG(status);
      std::string why = sig == SIGXCPU ? " (its CPU limit)" : sig == SIGSYS ? " (a forbidden system call)" : "";
      return Error(Code::kReaderFailed, "the medium reader was killed by signal " + std::to_string(sig) + why);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return Error(Code::kReaderFailed, "the medium reader failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
    }
    if (!decoder.ended() || decoder.buffered() > 0) return Error(Code::kReaderFailed, "the medium reader ended without its end record");
    return Status::Ok();
  }

  // What the reader sent that the git reader's budgets count (device/protocol.md).
  bool saw_git() const { return saw_git_; }
  size_t sent() const { return sent_; }
  uint64_t sent_bytes() const { return sent_bytes_; }
  void ForbidGit() { git_allowed_ = false; }

 private:
  void Dispatch(Record& rec, Judge& judge, size_t& no_medium) {
    switch (rec.type) {
      case RecordType::kVoucher:
      case RecordType::kLogged:
        ++sent_;
        sent_bytes_ += rec.envelope.size() + (rec.proof ? rec.proof->size() : 0);
        judge.Consider(std::move(rec.source), std::move(rec.envelope), std::move(rec.proof));
        break;
      case RecordType::kRefused:
        if (rec.status.code() == Code::kNoMedium) ++no_medium;
        judge.Refuse(std::move(rec.source), rec.status);
        break;
      case RecordType::kNote: judge.Note(std::move(rec.text)); break;
      case RecordType::kTally: judge.Tally(rec.status.code(), rec.count); break;
      case RecordType::kGit: saw_git_ = true; break;
      case RecordType::kEnd: break;
    }
  }

  // Waits for the reader until `until`; then kills it. False when it had to be killed.
  bool WaitUntil(std::chrono::steady_clock::time_point until, int& status) {
    // A reader that closed its pipe is usually exiting: look again soon, then less often
    // (50 us doubling to 2 ms), so that a fetch does not wait a whole poll for it.
    useconds_t pause = 50;
    for (;;) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return true;
      }
      if (r < 0 && errno != EINTR) return false;
      if (std::chrono::steady_clock::now() >= until) {
        ::kill(pid_, SIGKILL);
        Wait();
        return false;
      }
      ::usleep(pause);
      pause = std::min<useconds_t>(pause * 2, 2000);
    }
  }

  int Wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  bool git_allowed_ = true, saw_git_ = false;
  size_t sent_ = 0;
  uint64_t sent_bytes_ = 0;
};

// The git reader, after a medium reader that saw git caches: the same media, the same judge,
// the same deadline, and the budgets the first one left.
Status ReadGitCaches(const fs::path& exe, const std::string& udf, const std::vector<std::string>& media, const Reader& first,
                     Judge& judge, std::chrono::steady_clock::time_point started, std::chrono::steady_clock::time_point until,
                     std::chrono::milliseconds deadline) {
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  Reader git;
  git.ForbidGit();
  VOUCH_RETURN_IF_ERROR(git.Start(exe, udf, media,
                                  {"--sent", std::to_string(first.sent()), "--sent-bytes", std::to_string(first.sent_bytes()),
                                   "--elapsed-ms", std::to_string(elapsed.count())}));
  size_t no_medium = 0;  // said by the first reader already
  return git.Run(judge, until, deadline, no_medium);
}

}  // namespace

Result<EnrollReport> Fetch(const fs::path& state_dir, const std::vector<std::string>& media, const FetchOptions& o) {
  // The reader starts before this process reads the device key: it needs only the public UDF.
  VOUCH_ASSIGN_OR_RETURN(PublicKey device_pub, LoadPublicKey(state_dir / "device.pub"));
  const fs::path reader_exe = o.reader.empty() ? DefaultReader() : o.reader;
  const auto started = std::chrono::steady_clock::now();
  const auto until = started + o.deadline;
  Reader reader;
  VOUCH_RETURN_IF_ERROR(reader.Start(reader_exe, device_pub.Fingerprint(), media));

  VOUCH_ASSIGN_OR_RETURN(DeviceState snapshot, DeviceState::Open(state_dir));
  if (snapshot.identity().udf != device_pub.Fingerprint()) {
    return Error(Code::kMalformed, state_dir.string() + ": device.pub is not the public half of device.key");
  }
  // A policy the device cannot read is a broken state, not a device without a policy.
  VOUCH_RETURN_IF_ERROR(LogPolicyOf(snapshot).status());
  Judge judge(snapshot, o.judge);
  size_t no_medium = 0;
  Status read = reader.Run(judge, until, o.deadline, no_medium);
  if (read.ok() && reader.saw_git()) {
    const fs::path git_exe = o.git_reader.empty() ? GitReaderBeside(reader_exe) : o.git_reader;
    read = ReadGitCaches(git_exe, device_pub.Fingerprint(), media, reader, judge, started, until, o.deadline);
  }
  if (read.ok() && no_medium == media.size() && !media.empty()) {
    return Error(Code::kNoMedium, (media.size() == 1 ? media[0] + ": no such medium" : "none of the media exist"));
  }
  if (!read.ok()) judge.Abandon(read);

  // Decide again under the lock, against the state as it is now (device/judge.h).
  VOUCH_ASSIGN_OR_RETURN(StateLock lock, StateLock::Acquire(state_dir, o.lock_timeout_ms));
  VOUCH_ASSIGN_OR_RETURN(DeviceState fresh, DeviceState::Open(state_dir));
  return judge.Finish(fresh, o.dry_run);
}

Result<EnrollReport> AcceptFile(const fs::path& state_dir, const std::string& file, bool dry_run,
                                const std::string& proof_file) {
  VOUCH_ASSIGN_OR_RETURN(StateLock lock, StateLock::Acquire(state_dir));
  VOUCH_ASSIGN_OR_RETURN(DeviceState state, DeviceState::Open(state_dir));
  VOUCH_RETURN_IF_ERROR(LogPolicyOf(state).status());
  auto refused = [&](const Status& why) {
    EnrollReport r;
    r.outcome = EnrollReport::Outcome::kAllRefused;
    r.candidates.push_back({file, "", "", why, false, false});
    r.generation = state.generation();
    return r;
  };
  auto raw = ReadFile(file, formats::kMaxVoucherSize);
  if (!raw.ok() && raw.status().code() == Code::kTooLarge) return refused(raw.status());
  if (!raw.ok()) return raw.status();
  // The proof named, else the one beside the file, else none (a device without a log
  // policy ignores it either way).
  std::optional<Bytes> proof;
  const std::string beside = file + std::string(formats::tlog::kProofExtension);
  const std::string& proof_path = proof_file.empty() ? beside : proof_file;
  std::error_code ec;
  if (!proof_file.empty() || fs::exists(beside, ec)) {
    auto read = ReadFile(proof_path, formats::tlog::kMaxProofSize);
    if (!read.ok() && read.status().code() == Code::kTooLarge) return refused(read.status().Context("log proof"));
    if (!read.ok()) return read.status();
    proof = std::move(*read);
  }
  return Enroll(state, {{file, std::move(*raw), std::move(proof)}}, dry_run);
}

}  // namespace vouch::device
