#include "device/reader/reader.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>

#include "device/protocol.h"
#include "formats/envelope.h"

namespace vouch::device::reader {
namespace {

// Writes records to the pipe; a failed write (the device went away) ends the reader.
class ProtocolSink : public Sink {
 public:
  ProtocolSink(int fd, size_t max_refusals) : fd_(fd), max_refusals_(max_refusals) {}

  void Voucher(const std::string& source, ByteView envelope, const std::optional<Bytes>& proof) override {
    auto rec = EncodeVoucher(source, envelope, proof);
    if (rec.ok()) Write(*rec);
  }
  void Refused(const std::string& source, const Status& why) override {
    if (refusals_++ < max_refusals_) Write(EncodeRefused(source, why));
    else tally_[why.code()]++;
  }
  void Note(const std::string& text) override { Write(EncodeNote(text)); }
  void GitCaches() override { Write(EncodeGit()); }

  void End() {
    for (const auto& [code, n] : tally_) Write(EncodeTally(code, n));
    Write(EncodeEnd());
  }

 private:
  void Write(const Bytes& b) {
    size_t off = 0;
    while (off < b.size()) {
      ssize_t n = ::write(fd_, b.data() + off, b.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ::_exit(1);
      off += static_cast<size_t>(n);
    }
  }
  int fd_;
  size_t max_refusals_, refusals_ = 0;
  std::map<Code, uint32_t> tally_;
};

}  // namespace

int Serve(const ReaderOptions& o, int out_fd) {
  std::signal(SIGPIPE, SIG_DFL);
  std::vector<Medium> media;
  SandboxOptions sandbox = o.sandbox;
  sandbox.output_fd = out_fd;
  for (const auto& path : o.media) {
    media.push_back(OpenMedium(path));
    if (media.back().fd >= 0) sandbox.read_roots.push_back(media.back().fd);
  }
  // Everything that reads files of its own (libgit2's settings, OpenSSL's configuration and
  // algorithm tables) is started while those files can still be read.
  if (o.git) o.git->prepare();
  ::tzset();  // libzip mktime()s entry times: the zone file is read now, not once confined
  (void)formats::VoucherId(formats::EnvelopeKind::kJws, Bytes{'{'});
  auto entered = EnterSandbox(sandbox);
  if (!entered.ok()) {
    std::fprintf(stderr, "vouch-medium-reader: %s\n", entered.status().message().c_str());
    return 1;
  }
  ProtocolSink sink(out_fd, o.max_refusals);
  // A layer the kernel or build did not offer is said, not hidden.
  for (const auto& m : entered->missing) sink.Note("the medium reader ran without " + m);
  ScanMedia(media, o.device_udf, o.limits, sink, o.git);
  sink.End();
  for (const auto& m : media) {
    if (m.fd >= 0) ::close(m.fd);
  }
  return 0;
}

}  // namespace vouch::device::reader
