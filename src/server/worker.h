// A worker: one thread, one libev loop, its own listening sockets (SO_REUSEPORT), its own
// connections and its own request pipeline. Nothing on the request path is shared or locked.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "http/exchange.h"
#include "net/loop.h"
#include "server/listener.h"
#include "server/tcp_connection.h"

namespace mirror::quic {
class Endpoint;
struct Datagram;
}

namespace mirror::server {

struct ServerContext;

class Worker {
 public:
  Worker(int id, const ServerContext& ctx);
  ~Worker();

  // Binds this worker's sockets (called on the main thread so errors stop startup).
  Status bind();
  // Starts the thread; binds the QUIC sockets there and returns once the worker serves (or failed).
  Status start(std::function<void()> on_drained);
  // Graceful shutdown (thread-safe): stop accepting, ask every connection to finish.
  void begin_shutdown();
  // Ends the loop; remaining connections are closed when the worker is destroyed.
  void stop();
  void join() { thread_.join(); }

  int id() const { return id_; }
  net::EventThread& thread() { return thread_; }
  quic::Endpoint* quic() { return quic_.get(); }
  size_t tcp_connections() const { return tcp_count_.load(std::memory_order_relaxed); }

 private:
  void on_accept(UniqueFd fd, std::string peer, bool tls);
  void on_connection_closed(TcpConnection* conn);
  void check_drained();

  int id_;
  const ServerContext& ctx_;
  net::EventThread thread_;
  std::unique_ptr<http::Handler> pipeline_;
  std::unique_ptr<SessionFactory> sessions_;
  std::vector<std::unique_ptr<TcpAcceptor>> acceptors_;
  std::unordered_map<TcpConnection*, std::unique_ptr<TcpConnection>> conns_;
  std::vector<std::unique_ptr<TcpConnection>> graveyard_;  // destroyed on the next loop pass
  net::Timer reaper_;
  std::unique_ptr<quic::Endpoint> quic_;
  std::atomic<size_t> tcp_count_{0};
  bool shutting_down_ = false;
  bool drained_reported_ = false;
  std::function<void()> on_drained_;
};

}  // namespace mirror::server
