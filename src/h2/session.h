// HTTP/2 server session (RFC 9113) over nghttp2: plaintext bytes from a TCP/TLS transport in,
// one http::Exchange (h2::Stream) per request stream out, responses pulled back as the peer's
// flow-control window opens. The same code serves TLS ("h2") and prior-knowledge cleartext ("h2c").
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/c_handle.h"
#include "http/exchange.h"
#include "net/stream_session.h"

namespace mirror::h2 {

class Stream;

struct Options {
  // SETTINGS_MAX_CONCURRENT_STREAMS. Streams opened beyond it are refused (REFUSED_STREAM).
  uint32_t max_concurrent_streams = 100;
  // SETTINGS_INITIAL_WINDOW_SIZE: how much request body a client may send per stream unasked.
  uint32_t initial_window_size = 1 << 20;
  // Receive window of the whole connection (nghttp2_session_set_local_window_size).
  uint32_t connection_window_size = 16 << 20;
  // Per header block (request headers, or trailers), pseudo-headers included. Over either limit
  // the stream gets a 431 JSON response and the handler is not called.
  size_t max_header_count = 100;
  size_t max_header_bytes = 16 * 1024;  // sum of decoded name + value lengths
  // Request bodies are buffered into Request::body; beyond this the stream gets 413 and the rest
  // of the upload is cancelled with RST_STREAM(NO_ERROR).
  uint64_t max_body_size = 10 << 20;
  // Rapid Reset (CVE-2023-44487) guard, a token bucket on incoming RST_STREAM: `reset_burst`
  // tokens, refilled at `max_resets_per_second`. When empty: GOAWAY and the connection closes.
  uint64_t reset_burst = 1000;
  uint64_t max_resets_per_second = 33;
  // CONTINUATION frames allowed after one HEADERS (CVE-2024-28182).
  size_t max_continuations = 8;
  // Seconds without open streams before GOAWAY(NO_ERROR) and close. <= 0: never.
  double idle_timeout = 60.0;
  // Graceful shutdown: seconds between the shutdown notice GOAWAY and the final GOAWAY, so that
  // requests already on the wire are still taken (about one round trip is enough).
  double goaway_delay = 1.0;
  // Stop serializing frames while this many bytes wait in the transport (and stop reading from
  // the peer): a client that does not read cannot make us buffer without bound.
  size_t write_high_water = 256 * 1024;
  // Added as `alt-svc` to every response that has none (e.g. `h3=":443"; ma=86400`). Empty: none.
  std::string alt_svc;
  // SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 extended CONNECT, for WebSocket over h2). When on,
  // the request's `:protocol` is passed to the handler as a header named ":protocol".
  bool enable_connect_protocol = false;
  // Prior-knowledge h2 on a plaintext port. The wire handling is identical (nghttp2 validates the
  // client preface either way); it only sets the scheme reported if a request lacks :scheme.
  bool is_cleartext = false;
};

class Session final : public net::StreamSession {
 public:
  Session(net::StreamTransport& transport, http::Handler& handler, const Options& opts);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // net::StreamSession
  void start() override;
  bool on_data(std::span<const uint8_t> data) override;
  void on_writable() override;
  void on_timeout() override;
  void on_close() override;
  void request_shutdown() override;
  bool idle() const override { return streams_.empty(); }

  size_t open_streams() const { return streams_.size(); }
  const Options& options() const { return opts_; }

  // --- nghttp2 callback targets: called only by the trampolines in session.cc. ---
  int on_begin_headers(const nghttp2_frame& frame);
  int on_header(const nghttp2_frame& frame, std::string_view name, std::string_view value);
  int on_frame_recv(const nghttp2_frame& frame);
  int on_data_chunk(int32_t stream_id, std::span<const uint8_t> data);
  int on_frame_send(const nghttp2_frame& frame);
  int on_stream_close(int32_t stream_id, uint32_t error_code);

 private:
  friend class Stream;
  using Nghttp2Session = CHandle<nghttp2_session, nghttp2_session_del>;

  // Called by Stream (the application's side of an exchange).
  void submit_response(Stream& stream, http::Response response);
  void submit_informational(Stream& stream, int status, const http::Headers& headers);
  void resume_stream(Stream& stream);

  // Request side.
  void end_of_header_block(Stream& stream, const nghttp2_frame& frame);
  void dispatch(Stream& stream);
  void run_handlers();
  void reject(Stream& stream, int status, std::string_view message);

  // Serializes queued frames into the transport, up to the high-water mark, then closes the
  // connection if nghttp2 has nothing left to do. Deferred while inside an nghttp2 call.
  void flush();
  void send_loop();
  bool finished() const;
  void close_transport();
  void arm_idle_timer();
  void submit_final_goaway();
  const std::string& date_header();

  net::StreamTransport& transport_;
  http::Handler& handler_;
  Options opts_;
  Nghttp2Session session_;
  std::unordered_map<int32_t, std::shared_ptr<Stream>> streams_;
  // Complete requests from the current input, handed to the handler once nghttp2 has parsed it
  // all: a stream reset in the same read (Rapid Reset) never reaches the application.
  std::vector<std::shared_ptr<Stream>> ready_;
  std::vector<uint8_t> out_;  // frames coalesced into one transport write

  enum class Timer { kNone, kIdle, kGoawayDelay };
  Timer timer_ = Timer::kNone;
  int nghttp2_depth_ = 0;         // >0 while inside nghttp2_session_mem_recv/mem_send
  bool flush_requested_ = false;  // flush() was called while inside nghttp2
  bool reading_paused_ = false;
  bool shutting_down_ = false;      // shutdown notice sent
  bool final_goaway_ = false;       // last GOAWAY submitted: no new streams
  bool fatal_goaway_sent_ = false;  // GOAWAY with an error code went out: close, do not drain
  bool closed_ = false;             // transport closed or asked to close

};

}  // namespace mirror::h2
