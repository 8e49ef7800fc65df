// HTTP/3 on one QUIC connection (nghttp3): turns request streams into http::Exchanges for the
// protocol-blind application and pulls response bodies when the peer can take more.
#pragma once

#include <nghttp3/nghttp3.h>

#include <memory>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "h3/stream.h"
#include "http/exchange.h"
#include "net/loop.h"
#include "quic/application.h"
#include "quic/connection.h"
#include "quic/endpoint.h"
#include "quic/rate_limiter.h"

namespace mirror::h3 {

class Session final : public quic::Application {
 public:
  Session(quic::Connection& conn, http::Handler& handler);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // --- quic::Application ---
  int start() override;
  int recv_stream_data(int64_t stream_id, std::span<const uint8_t> data, bool fin,
                       bool early) override;
  int acked_stream_data(int64_t stream_id, uint64_t bytes) override;
  int stream_close(int64_t stream_id, uint64_t app_error_code, bool set) override;
  int stream_reset(int64_t stream_id, uint64_t app_error_code) override;
  int stream_stop_sending(int64_t stream_id, uint64_t app_error_code) override;
  void extend_max_remote_streams_bidi(uint64_t max_streams) override;
  int extend_max_stream_data(int64_t stream_id) override;
  int64_t write_stream_data(int64_t* stream_id, bool* fin, std::span<ngtcp2_vec> vec) override;
  void stream_blocked(int64_t stream_id) override;
  void stream_shut_write(int64_t stream_id) override;
  int stream_data_written(int64_t stream_id, size_t bytes) override;
  void shutdown_notice() override;
  void shutdown() override;
  bool idle() const override { return streams_.empty(); }
  uint64_t no_error_code() const override { return NGHTTP3_H3_NO_ERROR; }
  void connection_lost() override;

  // --- for Exchange ---
  void respond(Stream& s, http::Response response);
  void resume(Stream& s);
  void send_informational(Stream& s, int status, const http::Headers& headers);

  // --- nghttp3 callbacks (through trampolines) ---
  int on_begin_headers(int64_t stream_id);
  int on_recv_header(Stream* s, int32_t token, nghttp3_rcbuf* name, nghttp3_rcbuf* value);
  int on_recv_trailer(Stream* s, nghttp3_rcbuf* name, nghttp3_rcbuf* value);
  int on_end_headers(Stream* s, bool fin);
  int on_recv_data(Stream* s, int64_t stream_id, const uint8_t* data, size_t len);
  int on_deferred_consume(int64_t stream_id, size_t consumed);
  int on_end_stream(Stream* s);
  int on_stream_close(int64_t stream_id, uint64_t app_error_code);
  int on_acked_stream_data(Stream* s, uint64_t len);
  int on_stop_sending(int64_t stream_id, uint64_t app_error_code);
  int on_reset_stream(int64_t stream_id, uint64_t app_error_code);
  nghttp3_ssize on_read_data(Stream* s, nghttp3_vec* vec, size_t veccnt, uint32_t* flags);

 private:
  // Answers without the application (413, 425, 431, 400) and stops reading the request.
  void reject(Stream& s, int status, std::string_view type, std::string_view message);
  void dispatch(Stream& s);
  bool count_reset();  // false: the peer resets streams faster than allowed
  void run_deferred();

  quic::Connection& conn_;
  http::Handler& handler_;
  struct ConnDeleter {
    void operator()(nghttp3_conn* c) const noexcept { nghttp3_conn_del(c); }
  };
  std::unordered_map<int64_t, std::unique_ptr<Stream>> streams_;
  std::unordered_set<int64_t> early_streams_;  // request streams that carried 0-RTT bytes
  // Declared after streams_ so nghttp3 (which points at stream objects) goes first.
  std::unique_ptr<nghttp3_conn, ConnDeleter> h3_;
  quic::RateLimiter reset_limiter_;
  Stream* reading_ = nullptr;  // the stream whose producer is being read (for resume())
  std::vector<int64_t> deferred_resets_;  // body ended short of its Content-Length
  net::Timer deferred_;
  bool lost_ = false;
};

// The factory the server passes to every quic::Endpoint.
quic::ApplicationFactory make_application_factory(http::Handler& handler);

// One worker's HTTP/3 endpoint: a quic::Endpoint whose connections run h3::Session for `handler`.
// handler must outlive the endpoint.
std::unique_ptr<quic::Endpoint> make_endpoint(struct ev_loop* loop, int worker_id,
                                              const quic::Options& options,
                                              std::shared_ptr<const quic::Shared> shared,
                                              http::Handler& handler);

}  // namespace mirror::h3
