// HTTP/1.1 over a byte stream: requests parsed from the transport's plaintext become h1::Exchanges
// handed to the http::Handler one at a time (pipelined requests wait their turn), and responses are
// written back with Content-Length, chunked or close-delimited framing, pulling body bytes only
// while the transport's send queue is below a high-water mark.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "h1/exchange.h"
#include "h1/parser.h"
#include "http/exchange.h"
#include "http/message.h"
#include "net/stream_session.h"

namespace mirror::h1 {

struct Options {
  std::string alt_svc;                    // Alt-Svc value added to every response ("" = none)
  double header_timeout = 10.0;           // s: first byte of a request to its complete head; also
                                          //    how long a new connection may stay silent
  double idle_timeout = 60.0;             // s: between keep-alive requests
  double read_timeout = 30.0;             // s: without progress while reading a request body
  double write_timeout = 60.0;            // s: blocked on a peer that does not read the response
  size_t write_high_water = 256 * 1024;   // stop pulling body bytes above this many queued bytes
  size_t body_chunk_size = 16 * 1024;     // bytes pulled from a response body per read
  size_t max_buffered_input = 64 * 1024;  // pipelined input buffered during a request before
                                          // reading is paused
};

class Session final : public net::StreamSession {
 public:
  Session(net::StreamTransport& transport, http::Handler& handler, const Limits& limits,
          Options opts);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() override;
  bool on_data(std::span<const uint8_t> data) override;
  void on_writable() override;
  void on_timeout() override;
  void on_close() override;
  void request_shutdown() override;
  bool idle() const override;

 private:
  friend class Exchange;
  enum class State { kReadingHead, kReadingBody, kHandling, kWriting, kClosed };
  // Which timeout is armed, so a trickling client cannot push the header deadline forward.
  enum class Timer { kNone, kFirstRequest, kIdle, kHeader, kBody, kWrite };

  // Called by Exchange.
  void on_respond(http::Response response);
  void on_resume();
  void on_informational(int status, const http::Headers& headers);

  // Makes all the progress possible now: writes the response, then parses and dispatches the
  // next request. Re-entrant calls (a handler responding synchronously) just ask for another pass.
  void advance();
  void parse_input();
  void on_head();
  void dispatch();
  void start_response();
  void write_body();
  void finish_body();
  void finish_response();
  // Answers a request we cannot serve (parse error, timeout) and closes the connection.
  void send_error(int status, std::string_view type, std::string_view message);
  // Ends the in-flight exchange as aborted (peer gone, write timeout, shutdown of the session).
  void abort_exchange();
  void close_connection(bool graceful);
  void set_timer(Timer timer, bool rearm = false);
  void update_timer();
  void update_reading();
  void write(std::string_view bytes);
  std::string_view buffered() const { return std::string_view(in_).substr(in_pos_); }
  void compact_input();

  net::StreamTransport& transport_;
  http::Handler& handler_;
  Options opts_;
  RequestParser parser_;

  State state_ = State::kReadingHead;
  Timer timer_ = Timer::kNone;
  std::string in_;  // received and not yet parsed: in_[in_pos_..]
  size_t in_pos_ = 0;
  bool reading_paused_ = false;
  bool shutdown_requested_ = false;
  bool served_any_ = false;
  bool in_advance_ = false;
  bool advance_again_ = false;

  // The request in flight.
  std::shared_ptr<Exchange> exchange_;
  bool dispatched_ = false;  // the handler has seen exchange_
  bool is_head_ = false;
  int minor_version_ = 1;
  bool keep_alive_ = true;

  // Its response.
  http::Response response_;
  std::optional<http::BodyReader> body_reader_;
  int status_sent_ = 0;
  bool send_body_ = false;
  bool chunked_ = false;
  int64_t promised_length_ = -1;  // Content-Length sent, -1 for chunked / close-delimited
  uint64_t body_sent_ = 0;
  bool body_done_ = false;         // the body reader reached eof
  bool blocked_ = false;           // waiting for on_writable()
  bool waiting_producer_ = false;  // waiting for Exchange::resume()
  bool resume_requested_ = false;  // resume() arrived during a read
  std::vector<uint8_t> chunk_buf_;
};

}  // namespace mirror::h1
