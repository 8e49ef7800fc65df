// One h2load-style client: a share of the requests and one QUIC + HTTP/3 connection (ngtcp2 +
// GnuTLS + nghttp3) that keeps up to -m requests in flight. If the connection is lost after the
// handshake while work remains, the client counts the in-flight requests as errors and opens a
// new connection; if the handshake itself fails, the remaining work is abandoned.
//
// Everything runs on the worker's loop thread. Connection teardown only happens from the libev
// entry points (never inside an ngtcp2/nghttp3 callback); callbacks report failure by returning
// an error code, which surfaces from ngtcp2_conn_read_pkt / nghttp3 at the top level.
#pragma once

#include <ev.h>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/c_handle.h"
#include "base/unique_fd.h"
#include "h3load/options.h"
#include "h3load/tls.h"
#include "h3load/udp.h"

namespace h3load {

class Worker;
struct Stats;

class Client {
 public:
  Client(Worker& worker, size_t index, uint64_t requests);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void start();  // opens the first connection
  void stop();   // end of -D: close the connection now; in-flight requests are not counted

  // libev entry points (client_io.cc).
  void on_readable();
  void on_writable();
  void on_expiry();
  void on_inactivity();
  void on_linger_over();

  // ngtcp2 callbacks (client.cc).
  int on_recv_rx_key(ngtcp2_crypto_level level);
  int on_handshake_completed();
  int on_recv_stream_data(uint32_t flags, int64_t stream_id, const uint8_t* data, size_t len);
  int on_acked_stream_data(int64_t stream_id, uint64_t len);
  int on_stream_close(uint32_t flags, int64_t stream_id, uint64_t app_error_code);
  int on_stream_reset(int64_t stream_id);
  int on_extend_max_local_streams_bidi(uint64_t max_streams);
  int on_extend_max_stream_data(int64_t stream_id);

  // nghttp3 callbacks (client_h3.cc).
  int on_h3_stream_close(int64_t stream_id, uint64_t app_error_code);
  void on_h3_recv_body(int64_t stream_id, size_t len);
  void on_h3_consume(int64_t stream_id, size_t len);
  void on_h3_begin_headers(int64_t stream_id);
  void on_h3_header(int64_t stream_id, int32_t token, nghttp3_rcbuf* name, nghttp3_rcbuf* value);
  int on_h3_stop_sending(int64_t stream_id, uint64_t app_error_code);
  int on_h3_reset_stream(int64_t stream_id, uint64_t app_error_code);
  void on_h3_goaway();

  ngtcp2_conn* conn() const { return conn_.get(); }
  const std::string& body() const;

 private:
  // kLingering: all work on this connection is done; it stays open briefly so our final ACKs
  // reach the server (which then sees its streams complete) before CONNECTION_CLOSE.
  enum class State { kIdle, kHandshake, kConnected, kLingering, kFinished };
  // How a connection ended, which decides what happens to its requests and the client.
  enum class End {
    kDrained,   // no requests left on it (done, or GOAWAY): reconnect only if work remains
    kLost,      // error after or during the handshake: in-flight requests errored
    kTimedOut,  // --timeout: in-flight requests timed out, remaining work abandoned
    kStopped,   // -D over: in-flight requests are not counted
  };
  struct Request {
    uint64_t start_ns = 0;
    uint64_t body_bytes = 0;
    int status = 0;
    bool measured = false;  // started in the main phase: counts in the report
  };

  bool connect();
  bool has_work() const;
  void build_request_headers();
  bool setup_h3();
  // Opens streams until -m are in flight, the work is done, or stream credit runs out.
  bool fill_requests();
  bool submit_request();
  // Packet I/O and timers (client_io.cc).
  bool write_packets();
  bool flush_packets();
  void update_timer();
  void after_io();
  void settle();
  void on_read_error(int liberr);
  void note_rx_gap();
  void fail(int liberr);    // ngtcp2 error: close with a transport error, connection lost
  void fail_h3(int h3err);  // nghttp3 error: close with an application error, connection lost
  void end_connection(End how, bool send_close);
  void teardown();
  void send_connection_close();
  void finish();
  void log_closed_request(int64_t stream_id, const Request& r, uint64_t app_error_code, bool ok);

  Worker& worker_;
  const Options& opts_;
  Stats& stats_;
  size_t index_;
  uint64_t requests_left_;  // -n share not yet started (unused with -D)
  size_t next_target_ = 0;
  std::vector<std::vector<Header>> request_headers_;  // per target: pseudo-headers first
  std::vector<nghttp3_nv> nva_;                       // scratch for submit_request

  State state_ = State::kIdle;
  bool goaway_ = false;
  bool handshake_done_ = false;
  bool got_first_byte_ = false;
  int losses_in_a_row_ = 0;  // connections lost without any completed request in between
  uint64_t connect_start_ns_ = 0;
  uint64_t last_activity_ns_ = 0;  // last response bytes (or first request), for --timeout
  uint64_t last_rx_ns_ = 0;        // last datagram, for the -v "no datagram for" diagnostic
  uint64_t first_start_ns_ = 0;
  uint64_t completed_ = 0;       // measured requests completed, for the per-client req/s row
  uint64_t last_completed_ns_ = 0;

  // Per-connection state; reset() order matters: h3 before QUIC before TLS before the socket.
  mirror::UniqueFd fd_;
  Address local_;
  Address remote_;
  ngtcp2_crypto_conn_ref conn_ref_{};
  TlsSession tls_;
  mirror::CHandle<ngtcp2_conn, ngtcp2_conn_del> conn_;
  mirror::CHandle<nghttp3_conn, nghttp3_conn_del> h3_;
  ngtcp2_connection_close_error last_error_{};
  std::unordered_map<int64_t, Request> requests_;
  SendBatch tx_;

  ev_io rev_{};
  ev_io wev_{};
  ev_timer expiry_timer_{};
  ev_timer inactivity_timer_{};
  ev_timer linger_timer_{};
};

}  // namespace h3load
