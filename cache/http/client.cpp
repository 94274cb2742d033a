#include "cache/http/client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <mutex>

namespace vouch::cache::http {
namespace {

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

// libcurl's global state is set up once, before any handle (it is not thread-safe itself).
void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// Where the body goes: a descriptor or memory, never past the cap.
struct Sink {
  int fd = -1;
  Bytes* memory = nullptr;
  uint64_t max = 0;
  uint64_t written = 0;
  bool over = false;
  bool io_failed = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  size_t len = size * n;
  if (len > s->max - s->written) {
    s->over = true;
    return 0;  // CURL_WRITEFUNC_ERROR: the transfer ends here
  }
  if (s->memory) {
    s->memory->insert(s->memory->end(), reinterpret_cast<uint8_t*>(data), reinterpret_cast<uint8_t*>(data) + len);
  } else {
    for (size_t done = 0; done < len;) {
      ssize_t w = ::write(s->fd, data + done, len - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        s->io_failed = true;
        return 0;
      }
      done += static_cast<size_t>(w);
    }
  }
  s->written += len;
  return len;
}

Result<uint64_t> Transfer(const std::string& url, Sink* sink, const Limits& limits) {
  std::string scheme = Lower(url.substr(0, url.find(':')));
  if (!IsHttpUrl(url)) return Error(Code::kUnsupported, Redact(url) + ": only http:// and https:// URLs are read");
  GlobalInit();
  std::unique_ptr<CURL, CurlFree> c(curl_easy_init());
  if (!c) return Error(Code::kInternal, "curl_easy_init failed");
  CURL* h = c.get();
  char error[CURL_ERROR_SIZE] = {0};
  std::string what = Redact(url) + ": ";
  long budget = limits.base_seconds + static_cast<long>(sink->max / (limits.min_rate_bytes ? limits.min_rate_bytes : 1));
  budget = std::min(budget, limits.max_seconds);
  if (limits.deadline) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(*limits.deadline - std::chrono::steady_clock::now()).count();
    if (left < 1) return Error(Code::kIo, what + "the run's time budget is spent");
    budget = std::min<long>(budget, static_cast<long>(left));
  }
  bool set = curl_easy_setopt(h, CURLOPT_URL, url.c_str()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
             // A redirect keeps the scheme: never from https down to http, never to file://.
             curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, scheme.c_str()) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_MAXREDIRS, limits.max_redirects) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, limits.connect_seconds) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, limits.low_speed_bytes) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, limits.low_speed_seconds) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_TIMEOUT, budget) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(sink->max)) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_USERAGENT, "vouch/1") == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_WRITEDATA, sink) == CURLE_OK;
  if (!set) return Error(Code::kInternal, "libcurl refused an option");
  CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  std::string why = error[0] ? std::string(error) : std::string(curl_easy_strerror(rc));
  if (sink->over || rc == CURLE_FILESIZE_EXCEEDED) {
    return Error(Code::kTooLarge, what + "more than " + std::to_string(sink->max) + " bytes, cut off");
  }
  if (sink->io_failed) return Error(Code::kIo, what + "cannot write the download");
  switch (rc) {
    case CURLE_OK:
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Error(Code::kUnsupported, what + "a redirect to another scheme (" + why + ")");
    case CURLE_TOO_MANY_REDIRECTS:
      return Error(Code::kTooLarge, what + "more than " + std::to_string(limits.max_redirects) + " redirects");
    case CURLE_HTTP_RETURNED_ERROR:
      return Error(status == 404 || status == 410 ? Code::kNotFound : Code::kIo, what + "HTTP status " + std::to_string(status));
    case CURLE_PARTIAL_FILE:  // fewer bytes than the Content-Length, the connection closed
      return Error(Code::kTruncated, what + "the body was cut short (" + why + ")");
    case CURLE_OPERATION_TIMEDOUT:
      return Error(Code::kIo, what + "timed out (" + why + ")");
    default:
      return Error(Code::kIo, what + why);
  }
  if (status != 200) return Error(Code::kIo, what + "HTTP status " + std::to_string(status) + ", not 200");
  return sink->written;
}

}  // namespace

std::chrono::steady_clock::time_point Deadline(long seconds) { return std::chrono::steady_clock::now() + std::chrono::seconds(seconds); }

std::string Redact(std::string_view url) {
  std::string out(url);
  size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    size_t host = scheme + 3;
    size_t end = out.find_first_of("/?#", host);
    size_t at = out.rfind('@', end == std::string::npos ? out.size() : end);
    if (at != std::string::npos && at >= host) out.replace(host, at - host, "***");
  }
  if (out.size() > 200) out = out.substr(0, 200) + "...";
  return out;
}

bool IsHttpUrl(std::string_view url) {
  std::string l = Lower(url.substr(0, 8));
  return l.rfind("http://", 0) == 0 || l.rfind("https://", 0) == 0;
}

std::string Join(std::string_view base, std::string_view path) {
  std::string out(base);
  if (out.empty() || out.back() != '/') out += '/';
  return out + std::string(path);
}

Result<uint64_t> Get(const std::string& url, int fd, uint64_t max_bytes, const Limits& limits) {
  Sink sink;
  sink.fd = fd;
  sink.max = max_bytes;
  return Transfer(url, &sink, limits);
}

Result<Bytes> GetBytes(const std::string& url, uint64_t max_bytes, const Limits& limits) {
  Bytes out;
  Sink sink;
  sink.memory = &out;
  sink.max = max_bytes;
  VOUCH_RETURN_IF_ERROR(Transfer(url, &sink, limits).status());
  return out;
}

LinkedLibrary LibraryVersion() { return {"libcurl", LIBCURL_VERSION, curl_version_info(CURLVERSION_NOW)->version}; }

}  // namespace vouch::cache::http
