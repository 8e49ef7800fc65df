// Listening sockets: bind helpers with SO_REUSEPORT (each worker binds its own socket on the same
// port; the kernel spreads connections) and an accept loop on the worker's event loop.
#pragma once

#include <sys/socket.h>

#include <functional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "net/loop.h"

namespace mirror::server {

// "0.0.0.0", "::", "127.0.0.1", "[::1]" + port → a bound, listening, non-blocking TCP socket.
Result<UniqueFd> listen_tcp(const std::string& address, int port, int backlog = 4096);
// Formats a socket address as "ip:port" ("[v6]:port" for IPv6).
std::string format_peer(const sockaddr* sa);

class TcpAcceptor {
 public:
  using OnAccept = std::function<void(UniqueFd fd, std::string peer)>;
  TcpAcceptor(struct ev_loop* loop, UniqueFd fd, OnAccept on_accept);
  void start() { io_.start(); }
  void stop() { io_.stop(); }
  // Closes the listening socket (at shutdown, so the kernel stops queueing connections for us).
  void close();

 private:
  void on_readable();
  UniqueFd fd_;
  OnAccept on_accept_;
  net::IoWatcher io_;
};

}  // namespace mirror::server
