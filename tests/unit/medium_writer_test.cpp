// Writing receipts to a medium someone else controls (device/medium_writer.h) and making them
// from a device's state (device/enrollment_receipt.h). Each hostile medium is built here as
// the carrier of a stick could build it; after each refusal the test checks what is on disk.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "device/enrollment_receipt.h"
#include "device/judge.h"
#include "device/medium_writer.h"
#include "formats/envelope.h"
#include "formats/receipt.h"
#include "libvoucher/device_state.h"
#include "libvoucher/file.h"
#include "libvoucher/issue.h"
#include "pki.h"
#include "testutil.h"

namespace vouch::device {
namespace {
namespace fs = std::filesystem;

constexpr size_t kCap = 1024;
const Bytes kBytes = ToBytes("{\"a receipt\":1}");
constexpr const char* kPath = "AB/CD/DEVICE/receipt.vrj";

// Every name below `dir`, relative ("AB", "AB/CD", ...), links not followed.
std::vector<std::string> Tree(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    names.push_back(it->path().lexically_relative(dir).string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string Content(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Code CodeOf(const Status& s) { return s.code(); }

// Runs `write` where `dir` cannot be written: a read-only bind mount of it when this process
// may mount (root in CI containers: EROFS, what a stick mounted ro gives), else a 0555 mode
// (which root would ignore, so a root that may not mount drops to nobody first). In a child,
// so the mount and the ids go with it; returns the code's number, or -1.
int InReadOnly(const fs::path& dir, const std::function<Code()>& write) {
  pid_t pid = ::fork();
  if (pid == 0) {
    bool ro = false;
    if (::geteuid() == 0 && ::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
        ::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) == 0) {
      ro = ::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
    }
    if (!ro) {
      ::chmod(dir.c_str(), 0555);
      if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(100);
    }
    ::_exit(static_cast<int>(write()));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::chmod(dir.c_str(), 0755);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("The medium writer makes the path and writes the bytes once", "[medium-writer]") {
  test::TempDir tmp;
  fs::create_directory(tmp / "root");
  const mode_t umask = ::umask(077);  // the systemd unit's
  Status written = WriteNewFile(tmp / "root", kPath, kBytes, kCap);
  ::umask(umask);
  REQUIRE(written.ok());
  CHECK(Content(tmp / "root" / kPath) == "{\"a receipt\":1}");
  CHECK(Tree(tmp / "root") == std::vector<std::string>{"AB", "AB/CD", "AB/CD/DEVICE", "AB/CD/DEVICE/receipt.vrj"});
  struct stat st;
  REQUIRE(::stat((tmp / "root" / kPath).c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);
  REQUIRE(::stat((tmp / "root/AB/CD").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0755);
  CHECK(Tree(tmp.path()).size() == 5);  // nothing beside the root
}

TEST_CASE("The medium writer never replaces an existing file, and leaves it unchanged", "[medium-writer]") {
  test::TempDir tmp;
  fs::create_directories(tmp / "root/AB/CD/DEVICE");
  std::ofstream(tmp / "root" / kPath) << "the first one";
  CHECK(CodeOf(WriteNewFile(tmp / "root", kPath, kBytes, kCap)) == Code::kExists);
  CHECK(Content(tmp / "root" / kPath) == "the first one");
  CHECK(Tree(tmp / "root").size() == 4);  // no temporary file left
}

TEST_CASE("The medium writer refuses a FIFO, a directory or a link at the final name without opening it", "[medium-writer]") {
  test::TempDir tmp;
  fs::create_directories(tmp / "root/AB/CD/DEVICE");
  REQUIRE(::mkfifo((tmp / "root" / kPath).c_str(), 0644) == 0);
  CHECK(CodeOf(WriteNewFile(tmp / "root", kPath, kBytes, kCap)) == Code::kExists);  // and did not block on it
  CHECK(fs::is_fifo(tmp / "root" / kPath));
  fs::remove(tmp / "root" / kPath);
  fs::create_directory(tmp / "root" / kPath);
  CHECK(CodeOf(WriteNewFile(tmp / "root", kPath, kBytes, kCap)) == Code::kExists);
  fs::remove(tmp / "root" / kPath);
  std::ofstream(tmp / "elsewhere") << "not the stick's";
  fs::create_symlink(tmp / "elsewhere", tmp / "root" / kPath);
  CHECK(CodeOf(WriteNewFile(tmp / "root", kPath, kBytes, kCap)) == Code::kSymlinkEntry);
  CHECK(Content(tmp / "elsewhere") == "not the stick's");
  CHECK(Tree(tmp / "root/AB/CD/DEVICE") == std::vector<std::string>{"receipt.vrj"});
}

TEST_CASE("The medium writer refuses a root that is a link or not a directory", "[medium-writer]") {
  test::TempDir tmp;
  fs::create_directory(tmp / "outside");
  fs::create_directory_symlink(tmp / "outside", tmp / "root");
  CHECK(CodeOf(WriteNewFile(tmp / "root", kPath, kBytes, kCap)) == Code::kSymlinkEntry);
  CHECK(fs::is_empty(tmp / "outside"));
  std::ofstream(tmp / "file") << "x";
  CHECK(CodeOf(WriteNewFile(tmp / "file", kPath, kBytes, kCap)) == Code::kIo);
  CHECK(CodeOf(WriteNewFile(tmp / "missing", kPath, kBytes, kCap)) == Code::kIo);
  CHECK_FALSE(fs::exists(tmp / "missing"));
}

TEST_CASE("The medium writer never follows a link at an intermediate directory", "[medium-writer]") {
  test::TempDir tmp;
  fs::create_directories(tmp / "root/AB");
  fs::create_directory(tmp / "outside");
  for (const char* linked : {"root/AB/CD", "root/AB"}) {
    CAPTURE(linked);
    fs::remove_all(tmp / "root");
    fs::create_directories(tmp / "root/AB");
    if (std::string(linked) == "root/AB") fs::remove(tmp / "root/AB");
    fs::create_directory_symlink(tmp / "outside", tmp / linked);
    CHECK(CodeOf(WriteNewFile(tmp / "root", kPath, kBytes, kCap)) == Code::kSymlinkEntry);
    CHECK(fs::is_empty(tmp / "outside"));
  }
  // A file, or a FIFO, where a directory belongs: not a directory, and never opened.
  fs::remove_all(tmp / "root");
  fs::create_directories(tmp / "root/AB");
  REQUIRE(::mkfifo((tmp / "root/AB/CD").c_str(), 0644) == 0);
  CHECK(CodeOf(WriteNewFile(tmp / "root", kPath, kBytes, kCap)) == Code::kIo);
  CHECK(Tree(tmp / "root") == std::vector<std::string>{"AB", "AB/CD"});
}

TEST_CASE("The medium writer on a read-only directory is an io error and leaves nothing", "[medium-writer]") {
  test::TempDir tmp;
  fs::create_directories(tmp / "root/AB/CD/DEVICE");
  ::chmod(tmp.path().c_str(), 0755);  // nobody may reach it, if the test drops to nobody
  int code = InReadOnly(tmp / "root", [&] { return WriteNewFile(tmp / "root", kPath, kBytes, kCap).code(); });
  CHECK(code == static_cast<int>(Code::kIo));
  CHECK(Tree(tmp / "root") == std::vector<std::string>{"AB", "AB/CD", "AB/CD/DEVICE"});
  // And where a directory is still to be made.
  fs::remove_all(tmp / "root/AB");
  code = InReadOnly(tmp / "root", [&] { return WriteNewFile(tmp / "root", kPath, kBytes, kCap).code(); });
  CHECK(code == static_cast<int>(Code::kIo));
  CHECK(Tree(tmp / "root").empty());
}

TEST_CASE("The medium writer refuses bytes over its cap and paths that are not plain names", "[medium-writer]") {
  test::TempDir tmp;
  fs::create_directory(tmp / "root");
  CHECK(CodeOf(WriteNewFile(tmp / "root", kPath, Bytes(kCap + 1, 'x'), kCap)) == Code::kTooLarge);
  for (const char* bad : {"../escape.vrj", "AB/../../escape.vrj", "/abs.vrj", "AB//x.vrj", "AB/./x.vrj", "", "AB/"}) {
    CAPTURE(bad);
    CHECK(CodeOf(WriteNewFile(tmp / "root", bad, kBytes, kCap)) == Code::kUsage);
  }
  CHECK(Tree(tmp.path()) == std::vector<std::string>{"root"});
}

namespace {

struct EnrolledDevice {
  test::TempDir tmp;
  test::Pki pki = test::Pki::Make();
  fs::path state = tmp / "state";

  explicit EnrolledDevice(Group g) {
    InitOptions o;
    o.group = g;
    o.serial_number = "SN-7";
    o.anchors = {pki.mfr_root};
    o.trusted_clock = true;
    DeviceState device = *DeviceState::Init(state, o);
    DraftRequest r = pki.Request(device.identity().key.Public(), "SN-7");
    Bytes env = formats::SignVoucher(DraftVoucher(r)->voucher, formats::EnvelopeKind::kJws, pki.Manufacturer())->bytes;
    REQUIRE(Enroll(device, {{"test", env}}, false)->outcome == EnrollReport::Outcome::kEnrolled);
  }
};

}  // namespace

TEST_CASE("A device that has not enrolled makes no receipt", "[device-receipt]") {
  test::TempDir tmp;
  test::Pki pki = test::Pki::Make();
  InitOptions o;
  o.serial_number = "SN-7";
  o.anchors = {pki.mfr_root};
  DeviceState device = *DeviceState::Init(tmp / "state", o);
  CHECK(MakeReceipt(device).status().code() == Code::kNotFound);
  fs::create_directory(tmp / "out");
  CHECK(WriteReceipt(tmp / "state", tmp / "out").status().code() == Code::kNotFound);
  CHECK(fs::is_empty(tmp / "out"));
}

TEST_CASE("An enrolled device's receipt verifies and says what its state says, in every suite", "[device-receipt]") {
  for (Group g : {Group::kP256, Group::kEd25519, Group::kEd448}) {
    CAPTURE(GroupName(g));
    EnrolledDevice d(g);
    DeviceState state = *DeviceState::Open(d.state);
    auto v = formats::VerifyReceipt(*MakeReceipt(state));
    REQUIRE(v.ok());
    CHECK(v->receipt.device_key == state.identity().udf);
    CHECK(v->receipt.voucher_id == state.current()->voucher_id);
    CHECK(v->receipt.combined_key == state.current()->combined_key);
    CHECK(v->receipt.generation == 1);
    CHECK(v->receipt.time == state.current()->applied_on);
    CHECK(v->receipt.serial_number == "SN-7");
    REQUIRE(v->receipt.certificate);
    fs::create_directory(d.tmp / "out");
    auto w = WriteReceipt(d.state, d.tmp / "out");
    REQUIRE(w.ok());
    CHECK(w->path == (d.tmp / "out" / *formats::ReceiptPath(state.identity().udf, w->id)).string());
    auto again = formats::VerifyReceipt(*ReadFile(w->path, formats::kMaxReceiptSize));
    REQUIRE(again.ok());
    CHECK(again->id == w->id);
    // EdDSA is deterministic: the same receipt again has the same name, and is left as it is.
    // ES256 signatures are randomized (OpenSSL 3.0 has no RFC 6979), so a P-256 device's second
    // receipt is a second file with the same payload.
    auto second = WriteReceipt(d.state, d.tmp / "out");
    if (g == Group::kP256) {
      REQUIRE(second.ok());
      CHECK(second->id != w->id);
      CHECK(formats::VerifyReceipt(*ReadFile(second->path, formats::kMaxReceiptSize))->receipt.generation == 1);
    } else {
      CHECK(second.status().code() == Code::kExists);
    }
  }
}

TEST_CASE("Receipts go only to media with a real vouch-receipts folder", "[device-receipt]") {
  EnrolledDevice d(Group::kP256);
  fs::create_directories(d.tmp / "asks/vouch-receipts");
  fs::create_directories(d.tmp / "silent");
  fs::create_directories(d.tmp / "linked");
  fs::create_directories(d.tmp / "elsewhere");
  fs::create_directory_symlink(d.tmp / "elsewhere", d.tmp / "linked/vouch-receipts");
  auto results = WriteReceiptsToMedia(d.state, {(d.tmp / "asks").string(), (d.tmp / "silent").string(),
                                                (d.tmp / "linked").string(), (d.tmp / "missing").string()});
  REQUIRE(results.size() == 2);
  CHECK(results[0].medium == (d.tmp / "asks").string());
  REQUIRE(results[0].written);
  CHECK(fs::exists(results[0].written->path));
  CHECK(results[1].medium == (d.tmp / "linked").string());
  CHECK_FALSE(results[1].written);
  CHECK(results[1].status.code() == Code::kSymlinkEntry);
  CHECK(fs::is_empty(d.tmp / "elsewhere"));
  CHECK(Tree(d.tmp / "silent").empty());
}

}  // namespace vouch::device
