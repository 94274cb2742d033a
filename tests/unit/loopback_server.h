// A TCP server on 127.0.0.1 for the tests of HTTP readers (cache/http, cache/static_mirror):
// it accepts connections one at a time on a thread of its own, reads each request's head and
// hands the connection and the request's path to `serve`, which writes what a test wants a
// server to answer, hostile or not. Stopped (and joined) when dropped.
#pragma once

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>

namespace vouch::test {

class LoopbackServer {
 public:
  using Serve = std::function<void(int connection, const std::string& path)>;

  explicit LoopbackServer(Serve serve) : serve_(std::move(serve)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    struct sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<struct sockaddr*>(&addr), &len) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;  // shut down
        std::string head;
        char buf[1024];
        while (head.find("\r\n\r\n") == std::string::npos) {
          ssize_t n = ::read(c, buf, sizeof buf);
          if (n <= 0) break;
          head.append(buf, static_cast<size_t>(n));
        }
        size_t sp = head.find(' '), sp2 = head.find(' ', sp + 1);
        serve_(c, sp == std::string::npos || sp2 == std::string::npos ? "" : head.substr(sp + 1, sp2 - sp - 1));
        ::close(c);
      }
    });
  }
  ~LoopbackServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string Url(const std::string& path = "/") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  // Writes all of `bytes`, or as much as the reader takes before it hangs up.
  static bool Send(int connection, const std::string& bytes) {
    return ::send(connection, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // A static file server over `root` (HTTP/1.0, 200 or 404), as a web server serves a tree.
  static Serve Files(std::filesystem::path root) {
    return [root = std::move(root)](int c, const std::string& path) {
      std::filesystem::path p = root / path.substr(path.empty() ? 0 : 1);
      std::ifstream in(p, std::ios::binary);
      if (path.find("..") != std::string::npos || !std::filesystem::is_regular_file(p) || !in) {
        Send(c, "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      Send(c, "HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    };
  }

 private:
  Serve serve_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace vouch::test
