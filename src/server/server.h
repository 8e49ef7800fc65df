// The server: workers, listeners, routes, start and graceful shutdown (STYLE.md §12).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace mirror::tls {
class Credentials;
class TicketKeys;
class AntiReplay;
}  // namespace mirror::tls
namespace mirror::quic {
struct Shared;
}
namespace mirror::app {
class HealthManager;
}

namespace mirror::server {

class Worker;

// What every worker reads (immutable after start, or thread-safe).
struct ServerContext {
  config::Config config;
  std::shared_ptr<tls::Credentials> credentials;
  std::shared_ptr<tls::TicketKeys> ticket_keys;
  std::shared_ptr<tls::AntiReplay> anti_replay;
  std::shared_ptr<const quic::Shared> quic_shared;
  std::shared_ptr<app::HealthManager> health;
  std::string alt_svc;  // value of the Alt-Svc header for TCP responses ("" = none)
  int workers = 1;
  std::vector<Worker*> worker_list;  // for cross-worker QUIC forwarding
  std::atomic<bool> shutting_down{false};
};

class Server {
 public:
  explicit Server(config::Config config);
  ~Server();
  // Runs until SIGTERM/SIGINT and a graceful drain. Returns the process exit status.
  int run();

 private:
  Status prepare();
  void begin_shutdown();

  ServerContext ctx_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace mirror::server
