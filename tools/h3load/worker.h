// One worker = one thread = one libev loop driving a share of the clients. Workers share only
// read-only things (options, TLS credentials, the server address); each has its own Stats.
#pragma once

#include <ev.h>
#include <gnutls/gnutls.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "h3load/options.h"
#include "h3load/stats.h"
#include "h3load/udp.h"

namespace h3load {

class Client;

// Measurement phases (-D mode): traffic in kWarmUp is not counted; kOver stops everything.
// With -n the worker starts in kMain.
enum class Phase { kWarmUp, kMain, kOver };

struct WorkerConfig {
  size_t id = 0;
  const Options* options = nullptr;
  gnutls_certificate_credentials_t credentials = nullptr;
  Address remote;
  std::vector<uint64_t> client_requests;  // one entry per client: its share of -n (0 with -D)
};

class Worker {
 public:
  explicit Worker(WorkerConfig config);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs the loop until every client is done (-n) or the duration is over (-D).
  void run();

  // Read by clients.
  struct ev_loop* loop() const { return loop_; }
  const Options& options() const { return *config_.options; }
  gnutls_certificate_credentials_t credentials() const { return config_.credentials; }
  const Address& remote() const { return config_.remote; }
  Phase phase() const { return phase_; }
  uint64_t main_start_ns() const { return main_start_ns_; }
  RecvBatch& rx() { return rx_; }
  Stats& stats() { return stats_; }
  const Stats& stats() const { return stats_; }
  size_t id() const { return config_.id; }

  // A client has no more work and no open connection.
  void on_client_finished();

  // Timer trampolines (worker.cc).
  void on_warm_up_over();
  void on_duration_over();

 private:
  void stop_all_clients();

  WorkerConfig config_;
  struct ev_loop* loop_;
  Phase phase_;
  uint64_t main_start_ns_ = 0;
  ev_timer warm_up_timer_{};
  ev_timer duration_timer_{};
  RecvBatch rx_;
  Stats stats_;
  std::vector<std::unique_ptr<Client>> clients_;
  size_t finished_ = 0;
};

}  // namespace h3load
