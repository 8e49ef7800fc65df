// One worker's QUIC endpoint: its UDP sockets (one per listen address, SO_REUSEPORT on the same
// port as every other worker), its connections and the map from connection ID to connection.
// Routes datagrams by destination CID; answers with Version Negotiation, Retry, stateless
// CONNECTION_CLOSE or stateless reset where no connection exists; hands datagrams whose CID names
// another worker to that worker through the forwarder hook.
#pragma once

#include <ngtcp2/ngtcp2.h>

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "net/loop.h"
#include "quic/address.h"
#include "quic/application.h"
#include "quic/cid.h"
#include "quic/connection.h"
#include "quic/options.h"
#include "quic/rate_limiter.h"
#include "quic/shared.h"
#include "quic/udp_socket.h"

namespace mirror::quic {

class Endpoint final : public ConnectionHost {
 public:
  // factory creates the application (h3::Session) of each connection once its keys are ready.
  Endpoint(struct ev_loop* loop, int worker_id, const Options& options,
           std::shared_ptr<const Shared> shared, ApplicationFactory factory);
  ~Endpoint() override;
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Call on the worker's own thread (it also prepares that thread's 0-RTT anti-replay state).
  // Binds one socket per address ("0.0.0.0", "::", "127.0.0.1", "[::1]", optionally with ":port";
  // without a port Options::port is used) and starts reading. Every worker must pass the same list
  // in the same order (forwarded datagrams name the socket by index).
  Result<void> start(const std::vector<std::string>& listen_addresses);
  // Bound addresses (useful with port 0 in tests).
  std::vector<Address> local_addresses() const;

  // Cross-worker forwarding: called with datagrams whose DCID names another worker. The server
  // posts them to that worker's loop, which calls deliver() there.
  void set_forwarder(std::function<void(int target_worker, Datagram)> forwarder) {
    forwarder_ = std::move(forwarder);
  }
  void deliver(Datagram datagram);

  // Graceful shutdown: GOAWAY to every connection, in-flight requests get
  // Options::shutdown_timeout, then CONNECTION_CLOSE. New connections are refused.
  void request_shutdown();
  // Called once when shutdown was requested and no connection is left.
  void set_on_drained(std::function<void()> fn) { on_drained_ = std::move(fn); }
  size_t connection_count() const { return connections_open_.load(std::memory_order_relaxed); }
  Stats stats() const;

  // --- ConnectionHost ---
  struct ev_loop* loop() const override { return loop_; }
  int worker_id() const override { return worker_id_; }
  const Options& options() const override { return options_; }
  const Shared& shared() const override { return *shared_; }
  Counters& counters() override { return counters_; }
  void associate_cid(const ngtcp2_cid& cid, Connection* conn) override;
  void dissociate_cid(const ngtcp2_cid& cid) override;
  void handshake_finished(Connection* conn) override;
  void schedule_write(Connection* conn) override;
  void wait_writable(Connection* conn, UdpSocket* socket) override;
  void reap(Connection* conn) override;

 private:
  struct Socket {
    std::unique_ptr<UdpSocket> udp;
    net::IoWatcher watcher;
    std::vector<Connection*> write_waiters;
  };
  struct Entry {
    std::unique_ptr<Connection> conn;
    std::vector<CidKey> cids;
  };

  void on_socket_event(size_t index, int revents);
  void dispatch(std::span<const uint8_t> data, const Address& local, const Address& remote,
                uint8_t ecn, size_t socket_index, bool forwarded);
  void accept(std::span<const uint8_t> data, const Address& local, const Address& remote,
              uint8_t ecn, size_t socket_index);
  void send_version_negotiation(const ngtcp2_version_cid& vc, const Address& local,
                                const Address& remote, size_t socket_index);
  void send_retry(const ngtcp2_pkt_hd& hd, const Address& local, const Address& remote,
                  size_t socket_index, size_t trigger_len);
  void send_stateless_close(const ngtcp2_pkt_hd& hd, uint64_t error_code, const Address& local,
                            const Address& remote, size_t socket_index);
  void send_stateless_reset(std::span<const uint8_t> dcid, size_t trigger_len,
                            const Address& local, const Address& remote, size_t socket_index);
  void send_raw(std::span<const uint8_t> packet, const Address& local, const Address& remote,
                size_t socket_index);
  void flush();  // pending writes, then reaping
  void arm_flush();
  void remove_connection(Connection* conn);

  struct ev_loop* loop_;
  const int worker_id_;
  const Options options_;
  const std::shared_ptr<const Shared> shared_;
  const ApplicationFactory factory_;
  const CidCodec codec_;
  const TokenSealer sealer_;
  Counters counters_;

  std::vector<std::unique_ptr<Socket>> sockets_;
  std::unordered_map<Connection*, Entry> connections_;
  std::unordered_map<CidKey, Connection*, CidKeyHash> cids_;
  // Gauges kept in atomics so stats() may be read from another thread.
  std::atomic<size_t> handshakes_in_progress_{0};
  std::atomic<size_t> connections_open_{0};

  std::vector<Connection*> pending_writes_;
  std::vector<Connection*> reap_list_;
  bool in_batch_ = false;
  net::Timer flush_timer_;
  net::Timer shutdown_deadline_;
  bool shutting_down_ = false;
  std::function<void()> on_drained_;
  std::function<void(int, Datagram)> forwarder_;
  RateLimiter reset_limiter_;
};

}  // namespace mirror::quic
