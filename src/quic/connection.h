// One QUIC server connection: ngtcp2_conn + GnuTLS session + the application on top (h3::Session).
// Drives reads, the write loop (coalescing, GSO batches, pacing), timers, and the closing/draining
// periods. Owned by its worker's Endpoint; never deletes itself (it asks the host to reap it).
#pragma once

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/loop.h"
#include "quic/address.h"
#include "quic/application.h"
#include "quic/options.h"

namespace mirror::quic {

class TlsSession;
class UdpSocket;
struct Shared;

// What a connection needs from the endpoint that owns it.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  virtual struct ev_loop* loop() const = 0;
  virtual int worker_id() const = 0;
  virtual const Options& options() const = 0;
  virtual const Shared& shared() const = 0;
  virtual Counters& counters() = 0;
  virtual void associate_cid(const ngtcp2_cid& cid, Connection* conn) = 0;
  virtual void dissociate_cid(const ngtcp2_cid& cid) = 0;
  virtual void handshake_finished(Connection* conn) = 0;  // completed or given up
  // Run conn->write() soon (after the current batch of datagrams).
  virtual void schedule_write(Connection* conn) = 0;
  // The socket refused data (EAGAIN): call conn->on_writable() once it is writable.
  virtual void wait_writable(Connection* conn, UdpSocket* socket) = 0;
  // The connection is finished: remove it from every map and destroy it (deferred).
  virtual void reap(Connection* conn) = 0;
};

class Connection {
 public:
  struct Accept {
    const ngtcp2_pkt_hd* hd;       // the client's first Initial
    const Address* local;
    const Address* remote;
    UdpSocket* socket;             // ours, for this local address family
    const ngtcp2_cid* odcid;       // after a verified Retry token: the client's original DCID
    std::span<const uint8_t> token;  // a verified token (lifts anti-amplification), or empty
  };
  static Result<std::unique_ptr<Connection>> create(ConnectionHost& host,
                                                    const ApplicationFactory& factory,
                                                    const Accept& a);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A datagram for this connection (already routed by DCID).
  void on_datagram(std::span<const uint8_t> data, const Address& local, const Address& remote,
                   uint8_t ecn, UdpSocket* socket);
  // The write loop: application data, ACKs, retransmissions; closes on fatal errors.
  void write();
  void on_writable();
  // Graceful shutdown: GOAWAY, let requests finish, then CONNECTION_CLOSE.
  void request_shutdown();
  // Immediate CONNECTION_CLOSE with the application's no-error code (shutdown deadline).
  void close_now();

  bool handshake_completed() const { return handshake_completed_; }
  bool handshake_reported() const { return handshake_reported_; }
  bool dead() const { return dead_; }
  // The first packet asked for a Retry (0-RTT before the Initial): the endpoint sends one.
  bool retry_requested() const { return retry_requested_; }
  bool write_scheduled = false;  // bookkeeping for the host's pending-write list

  // --- for the Application ---
  ngtcp2_conn* native() const { return conn_.get(); }
  const Options& options() const;
  Counters& counters();
  struct ev_loop* loop() const;
  // Gives the peer back `bytes` of stream and connection flow-control credit.
  void consume(int64_t stream_id, size_t bytes);
  // Records the application error to close with (first one wins).
  void set_application_error(uint64_t code);
  // Closes the connection with an application error after the current callback returns.
  void close_with_application_error(uint64_t code);
  void signal_write();
  // "ip:port" of the peer on the current path.
  std::string peer() const;
  const std::string& odcid_hex() const { return odcid_hex_; }

  // --- ngtcp2 callbacks (called through trampolines) ---
  int on_recv_stream_data(uint32_t flags, int64_t stream_id, const uint8_t* data, size_t len);
  int on_acked_stream_data(int64_t stream_id, uint64_t len);
  int on_stream_close(uint32_t flags, int64_t stream_id, uint64_t app_error_code);
  int on_stream_reset(int64_t stream_id, uint64_t app_error_code);
  int on_stream_stop_sending(int64_t stream_id, uint64_t app_error_code);
  int on_extend_max_remote_streams_bidi(uint64_t max_streams);
  int on_extend_max_stream_data(int64_t stream_id);
  int on_handshake_completed();
  int on_recv_tx_key(ngtcp2_crypto_level level);
  int on_get_new_connection_id(ngtcp2_cid* cid, uint8_t* token, size_t cidlen);
  int on_remove_connection_id(const ngtcp2_cid* cid);
  int on_path_validation(const ngtcp2_path* path, ngtcp2_path_validation_result res);
  int on_recv_datagram();
  void on_qlog(uint32_t flags, const void* data, size_t len);
  ngtcp2_conn* conn_for_crypto() const { return conn_.get(); }

 private:
  explicit Connection(ConnectionHost& host, const ApplicationFactory& factory);
  Result<void> init(const Accept& a);
  void on_timer();
  void update_timer();
  // Fatal error or close request: enter the closing period (or drop silently when idle).
  void handle_error();
  void start_closing_period();
  void start_draining_period();
  void send_close_packet();
  void die();  // tell the host to reap us; app sees connection_lost()
  void finish_handshake_accounting();
  bool send_packets(const ngtcp2_path& path, uint8_t ecn, std::span<const uint8_t> data,
                    size_t gso_size);
  bool flush_blocked();
  void maybe_finish_shutdown();

  struct ConnDeleter {
    void operator()(ngtcp2_conn* c) const noexcept { ngtcp2_conn_del(c); }
  };
  struct BlockedSend {
    Address local, remote;
    UdpSocket* socket = nullptr;
    uint8_t ecn = 0;
    std::vector<uint8_t> data;
    size_t gso_size = 0;
  };

  ConnectionHost& host_;
  const ApplicationFactory& factory_;
  ngtcp2_crypto_conn_ref conn_ref_{};
  // Destroyed explicitly in ~Connection: application, ngtcp2 connection, TLS session.
  std::unique_ptr<TlsSession> tls_;
  std::unique_ptr<ngtcp2_conn, ConnDeleter> conn_;
  std::unique_ptr<Application> app_;

  ngtcp2_connection_close_error last_error_{};
  bool error_set_ = false;
  bool close_requested_ = false;
  bool handshake_completed_ = false;
  bool handshake_reported_ = false;
  bool dead_ = false;
  bool retry_requested_ = false;
  bool shutting_down_ = false;
  bool goaway_sent_ = false;
  std::vector<uint8_t> close_packet_;  // CONNECTION_CLOSE, re-sent while closing
  uint64_t close_packets_received_ = 0;

  std::vector<uint8_t> tx_;  // the current batch
  std::vector<BlockedSend> blocked_;
  ngtcp2_cid scid_{};
  std::string odcid_hex_;
  FILE* qlog_ = nullptr;

  net::Timer timer_;           // ngtcp2 expiry
  net::Timer close_timer_;     // end of closing/draining period
  net::Timer shutdown_timer_;  // GOAWAY step 2
};

}  // namespace mirror::quic
