// The HTTP(S) boundary (cache/http/client.h) against servers on 127.0.0.1 that answer what a
// hostile one would: silence, a body cut short, a body past its cap, a status other than
// 200, a redirect to another scheme. Each ends with its code, in bounded time.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "cache/http/client.h"
#include "loopback_server.h"

using namespace vouch;

namespace {

// Answers every connection with `response` (then, with `endless`, bytes until the reader
// hangs up), after holding it silent for `silent_ms`.
class CannedServer {
 public:
  explicit CannedServer(std::string response, bool endless = false, int silent_ms = 0)
      : server_([response = std::move(response), endless, silent_ms](int c, const std::string&) {
          if (silent_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(silent_ms));
          test::LoopbackServer::Send(c, response);
          std::string chunk(65536, 'A');
          while (endless && test::LoopbackServer::Send(c, chunk)) {
          }
        }) {}
  std::string Url(const std::string& path = "/vouch.index") const { return server_.Url(path); }

 private:
  test::LoopbackServer server_;
};

}  // namespace

TEST_CASE("a body is read whole when it is 200 and within its cap", "[http]") {
  CannedServer s("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  auto r = cache::http::GetBytes(s.Url(), 5);
  REQUIRE(r.ok());
  CHECK(std::string(r->begin(), r->end()) == "hello");
}

TEST_CASE("a body over its cap is cut off, declared or not", "[http]") {
  {
    CannedServer s("HTTP/1.0 200 OK\r\nContent-Length: 100000000\r\n\r\n", true);
    auto r = cache::http::GetBytes(s.Url(), 1000);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kTooLarge);
  }
  {
    CannedServer s("HTTP/1.0 200 OK\r\n\r\n", true);  // no length: the body ends when the server stops
    auto r = cache::http::GetBytes(s.Url(), 1 << 20);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kTooLarge);
  }
}

TEST_CASE("a body shorter than its Content-Length is truncated", "[http]") {
  CannedServer s("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nonly this");
  auto r = cache::http::GetBytes(s.Url(), 1000);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kTruncated);
}

TEST_CASE("statuses other than 200 are refused: 404 as not-found", "[http]") {
  {
    CannedServer s("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    CHECK(cache::http::GetBytes(s.Url(), 1000).status().code() == Code::kNotFound);
  }
  {
    CannedServer s("HTTP/1.0 500 Oops\r\nContent-Length: 0\r\n\r\n");
    CHECK(cache::http::GetBytes(s.Url(), 1000).status().code() == Code::kIo);
  }
  {
    CannedServer s("HTTP/1.0 206 Partial\r\nContent-Length: 2\r\n\r\nhi");
    CHECK(cache::http::GetBytes(s.Url(), 1000).status().code() == Code::kIo);
  }
}

TEST_CASE("only http and https, and redirects only to the scheme it started with", "[http]") {
  for (std::string url : {"file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/", "dict://127.0.0.1/", "/etc/passwd"}) {
    INFO(url);
    CHECK(cache::http::GetBytes(url, 1000).status().code() == Code::kUnsupported);
  }
  {
    CannedServer s("HTTP/1.0 302 Found\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n\r\n");
    CHECK(cache::http::GetBytes(s.Url(), 1 << 20).status().code() == Code::kUnsupported);
  }
  {
    CannedServer s("HTTP/1.0 302 Found\r\nLocation: https://127.0.0.1:1/x\r\nContent-Length: 0\r\n\r\n");
    CHECK(cache::http::GetBytes(s.Url(), 1 << 20).status().code() == Code::kUnsupported);
  }
}

TEST_CASE("a server that stops sending ends the transfer after the low-speed time", "[http]") {
  CannedServer s("", false, 4000);
  cache::http::Limits limits;
  limits.low_speed_seconds = 1;
  auto start = std::chrono::steady_clock::now();
  auto r = cache::http::GetBytes(s.Url(), 1000, limits);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kIo);
  CHECK_THAT(r.status().message(), Catch::Contains("timed out"));
  CHECK(seconds < 3.5);
}

TEST_CASE("a run's deadline ends every transfer of it, and one started after it is refused", "[http]") {
  CannedServer s("", false, 4000);
  cache::http::Limits limits;
  limits.low_speed_seconds = 30;
  limits.deadline = cache::http::Deadline(1);
  auto start = std::chrono::steady_clock::now();
  auto r = cache::http::GetBytes(s.Url(), 1000, limits);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kIo);
  CHECK(seconds < 3.5);
  limits.deadline = cache::http::Deadline(-1);
  auto late = cache::http::GetBytes(s.Url(), 1000, limits);
  REQUIRE(!late.ok());
  CHECK_THAT(late.status().message(), Catch::Contains("time budget"));
}

TEST_CASE("errors never show a URL's user or password", "[http]") {
  CHECK(cache::http::Redact("https://alice:s3cret@h.example/m/x") == "https://***@h.example/m/x");
  CHECK(cache::http::Redact("http://token@h/") == "http://***@h/");
  CHECK(cache::http::Redact("http://h/a@b") == "http://h/a@b");  // an '@' in the path is no user
  CHECK(cache::http::Redact("http://h/m") == "http://h/m");
  auto r = cache::http::GetBytes("http://alice:s3cret@127.0.0.1:1/vouch.index", 100);
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("s3cret") == std::string::npos);
}

TEST_CASE("Join puts a path below a base URL", "[http]") {
  CHECK(cache::http::Join("http://h/m", "vouch.index") == "http://h/m/vouch.index");
  CHECK(cache::http::Join("http://h/m/", "vouch.index") == "http://h/m/vouch.index");
  CHECK(cache::http::IsHttpUrl("HTTPS://h/"));
  CHECK(!cache::http::IsHttpUrl("httpx://h/"));
}
