#include "h1/session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <utility>
#include <variant>

#include "base/clock.h"
#include "h1/response_head.h"
#include "http/error_body.h"

namespace mirror::h1 {
namespace {

// Room in front of each body piece for a chunk-size line ("<16 hex digits>\r\n").
constexpr size_t kChunkPrefix = 18;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool parse_length(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

}  // namespace

Session::Session(net::StreamTransport& transport, http::Handler& handler, const Limits& limits,
                 Options opts)
    : transport_(transport), handler_(handler), opts_(std::move(opts)), parser_(limits) {
  if (opts_.body_chunk_size == 0) opts_.body_chunk_size = 16 * 1024;
  chunk_buf_.resize(kChunkPrefix + opts_.body_chunk_size + 2);
}

Session::~Session() {
  // The transport may be half torn down by now: only the exchange is touched.
  abort_exchange();
}

void Session::start() { set_timer(Timer::kFirstRequest); }

bool Session::on_data(std::span<const uint8_t> data) {
  if (state_ == State::kClosed) return false;
  in_.append(reinterpret_cast<const char*>(data.data()), data.size());
  if (state_ == State::kReadingBody) set_timer(Timer::kBody, /*rearm=*/true);
  advance();
  return state_ != State::kClosed;
}

void Session::on_writable() {
  if (state_ != State::kWriting) return;
  // Still full: stay blocked, and keep the write timeout running from when we first blocked.
  if (blocked_ && transport_.pending_write_bytes() >= opts_.write_high_water) return;
  if (blocked_) {
    blocked_ = false;
    set_timer(Timer::kNone);
  }
  advance();
}

void Session::on_timeout() {
  switch (timer_) {
    case Timer::kNone:
      return;
    case Timer::kFirstRequest:
    case Timer::kIdle:
      close_connection(true);
      return;
    case Timer::kHeader:
    case Timer::kBody:
      send_error(408, "TIMEOUT", "request not received in time");
      return;
    case Timer::kWrite:
      spdlog::debug("h1 {}: peer stopped reading the response, closing", transport_.peer());
      abort_exchange();
      close_connection(false);
      return;
  }
}

void Session::on_close() {
  state_ = State::kClosed;
  abort_exchange();
}

void Session::request_shutdown() {
  shutdown_requested_ = true;
  if (idle() && state_ != State::kClosed) close_connection(true);
}

bool Session::idle() const {
  if (state_ == State::kClosed) return true;
  return state_ == State::kReadingHead && !parser_.started() && in_pos_ == in_.size();
}

// --- driving ----------------------------------------------------------------------------------

void Session::advance() {
  if (in_advance_) {
    advance_again_ = true;
    return;
  }
  in_advance_ = true;
  do {
    advance_again_ = false;
    if (state_ == State::kWriting) write_body();
    if (state_ == State::kReadingHead || state_ == State::kReadingBody) parse_input();
  } while (advance_again_ && state_ != State::kClosed);
  in_advance_ = false;
  if (state_ != State::kClosed) {
    update_timer();
    update_reading();
  }
}

void Session::parse_input() {
  while (state_ == State::kReadingHead || state_ == State::kReadingBody) {
    if (shutdown_requested_ && state_ == State::kReadingHead && idle()) {
      close_connection(true);
      return;
    }
    auto step = parser_.parse(buffered());
    switch (step.event) {
      case RequestParser::Event::kNeedMore:
        in_pos_ += step.consumed;
        compact_input();
        return;
      case RequestParser::Event::kHead:
        in_pos_ += step.consumed;
        on_head();
        break;
      case RequestParser::Event::kBody:
        exchange_->request().body.append(step.body);
        in_pos_ += step.consumed;
        break;
      case RequestParser::Event::kEnd:
        in_pos_ += step.consumed;
        dispatch();
        break;
      case RequestParser::Event::kError: {
        const ParseError& e = parser_.error();
        spdlog::debug("h1 {}: rejecting request: {} {}", transport_.peer(), e.status, e.message);
        send_error(e.status, "VALIDATION_ERROR", e.message);
        return;
      }
    }
  }
}

void Session::on_head() {
  RequestHead& head = parser_.head();
  exchange_ = std::make_shared<Exchange>(this);
  dispatched_ = false;
  http::Request& req = exchange_->request();
  req.method_str = head.method;
  req.method = http::parse_method(head.method);
  if (head.target == "*") {
    req.target = req.path = "*";
  } else {
    req.set_target(head.target);
  }
  req.authority = head.authority;
  req.scheme = transport_.is_tls() ? "https" : "http";
  req.protocol = http::Protocol::kHttp11;
  req.peer = transport_.peer();
  req.headers = std::move(head.headers);
  minor_version_ = head.minor_version;
  keep_alive_ = head.keep_alive;
  is_head_ = req.method == http::Method::kHead;

  if (parser_.in_body()) {
    state_ = State::kReadingBody;
    if (head.framing == BodyFraming::kContentLength) {
      req.body.reserve(static_cast<size_t>(std::min<uint64_t>(head.content_length, 1 << 20)));
    }
    // Tell a waiting client to send the body, unless it already started to.
    if (head.expect_continue && buffered().empty()) write(kContinue);
  }
}

void Session::dispatch() {
  exchange_->request().trailers = std::move(parser_.trailers());
  state_ = State::kHandling;
  dispatched_ = true;
  set_timer(Timer::kNone);
  std::shared_ptr<Exchange> ex = exchange_;  // the handler may respond (and finish) synchronously
  handler_.handle(ex);
}

// --- responding -------------------------------------------------------------------------------

void Session::on_respond(http::Response response) {
  if (state_ != State::kHandling) return;
  response_ = std::move(response);
  start_response();
  advance();
}

void Session::on_resume() {
  if (state_ != State::kWriting) return;
  resume_requested_ = true;
  if (waiting_producer_) {
    waiting_producer_ = false;
    advance();
  }
}

void Session::on_informational(int status, const http::Headers& headers) {
  // 1xx responses must not be sent to HTTP/1.0 clients; 101 would switch protocols.
  if (state_ != State::kHandling || minor_version_ == 0 || status < 100 || status > 199 ||
      status == 101) {
    return;
  }
  std::string out;
  append_status_line(out, status);
  append_fields(out, headers);
  out += "\r\n";
  write(out);
}

void Session::start_response() {
  int status = response_.status;
  if (status < 200 || status > 999) status = 500;  // a final response is required here
  http::Headers& h = response_.headers;
  bool body_allowed = status != 204 && status != 304;

  if (list_has_token(h.joined("connection"), "close")) keep_alive_ = false;
  if (shutdown_requested_) keep_alive_ = false;
  h.remove("connection");
  h.remove("keep-alive");
  h.remove("transfer-encoding");

  int64_t length = response_.content_length();
  if (length < 0) {  // a producer: the handler may still know its length
    int64_t declared = 0;
    if (const std::string* cl = h.get("content-length"); cl && parse_length(*cl, declared)) {
      length = declared;
    }
  }
  bool trailers = !response_.trailers.empty() && minor_version_ == 1 && !is_head_;
  chunked_ = false;
  promised_length_ = -1;
  if (!body_allowed) {
    if (status == 204) h.remove("content-length");  // 304 may carry the GET's length
  } else if (length >= 0 && !trailers) {
    h.set("content-length", std::to_string(length));
    promised_length_ = length;
  } else if (minor_version_ == 1) {
    h.remove("content-length");
    h.set("transfer-encoding", "chunked");
    chunked_ = !is_head_;
  } else {
    h.remove("content-length");
    if (!is_head_) keep_alive_ = false;  // HTTP/1.0: the body ends when the connection does
  }

  if (!keep_alive_) {
    h.set("connection", "close");
  } else if (minor_version_ == 0) {
    h.set("connection", "keep-alive");
  }
  h.set_default("date", current_http_date());
  h.set_default("server", "mirror");
  if (!opts_.alt_svc.empty()) h.set_default("alt-svc", opts_.alt_svc);

  std::string head;
  head.reserve(256);
  append_status_line(head, status);
  append_fields(head, h);
  head += "\r\n";

  status_sent_ = status;
  send_body_ = body_allowed && !is_head_;
  if (!send_body_) response_.body = std::monostate{};
  body_reader_.emplace(&response_.body);
  body_sent_ = 0;
  body_done_ = false;
  blocked_ = false;
  waiting_producer_ = false;
  resume_requested_ = false;
  state_ = State::kWriting;
  write(head);
}

void Session::write_body() {
  if (!send_body_) {
    finish_response();
    return;
  }
  while (state_ == State::kWriting && !waiting_producer_ && !blocked_) {
    if (promised_length_ >= 0 && body_sent_ == static_cast<uint64_t>(promised_length_)) {
      finish_body();
      return;
    }
    if (transport_.pending_write_bytes() >= opts_.write_high_water) {
      // The transport calls on_writable() once its queue drains. (Not want_write(): that asks
      // for a call on the next loop pass, which would spin while the queue is still full.)
      blocked_ = true;
      set_timer(Timer::kWrite);
      return;
    }
    size_t want = opts_.body_chunk_size;
    if (promised_length_ >= 0) {
      want = static_cast<size_t>(
          std::min<uint64_t>(want, static_cast<uint64_t>(promised_length_) - body_sent_));
    }
    resume_requested_ = false;
    uint8_t* data = chunk_buf_.data() + kChunkPrefix;
    auto r = body_reader_->read(std::span<uint8_t>(data, want));
    if (state_ != State::kWriting) return;  // the producer closed us from inside read()
    if (r.n > 0) {
      body_sent_ += r.n;
      if (chunked_) {
        char hex[kChunkPrefix];
        auto [end, ec] = std::to_chars(hex, hex + sizeof hex - 2, r.n, 16);
        *end++ = '\r';
        *end++ = '\n';
        size_t prefix = static_cast<size_t>(end - hex);
        uint8_t* start = data - prefix;
        std::copy(hex, end, reinterpret_cast<char*>(start));
        data[r.n] = '\r';
        data[r.n + 1] = '\n';
        write(std::string_view(reinterpret_cast<char*>(start), prefix + r.n + 2));
      } else {
        write(std::string_view(reinterpret_cast<char*>(data), r.n));
      }
    }
    if (r.eof) {
      body_done_ = true;
      finish_body();
      return;
    }
    if ((r.pending || r.n == 0) && !resume_requested_) {
      waiting_producer_ = true;  // Exchange::resume() continues
      return;
    }
  }
}

void Session::finish_body() {
  if (state_ != State::kWriting) return;
  if (chunked_) {
    std::string last = "0\r\n";
    append_fields(last, response_.trailers);
    last += "\r\n";
    write(last);
  } else if (promised_length_ >= 0 && body_sent_ < static_cast<uint64_t>(promised_length_)) {
    // The body ended short of its Content-Length: only closing tells the client.
    spdlog::debug("h1 {}: response body ended {} bytes short", transport_.peer(),
                  static_cast<uint64_t>(promised_length_) - body_sent_);
    keep_alive_ = false;
  }
  finish_response();
}

void Session::finish_response() {
  if (state_ != State::kWriting) return;
  http::Completion done{status_sent_, body_sent_, false};
  std::shared_ptr<Exchange> ex = std::move(exchange_);
  ex->detach();
  // Release the body now; a producer cut off at its Content-Length is simply destroyed.
  response_ = http::Response{};
  body_reader_.reset();
  served_any_ = true;
  dispatched_ = false;
  bool keep = keep_alive_ && !shutdown_requested_;
  state_ = State::kReadingHead;
  if (!keep) close_connection(true);
  ex->finish(done);  // last: the callback may call back into us (e.g. request_shutdown)
}

void Session::send_error(int status, std::string_view type, std::string_view message) {
  if (state_ == State::kClosed) return;
  std::string body = http::protocol_error_body(type, message);
  http::Headers h;
  h.add("content-type", "application/json");
  h.add("content-length", std::to_string(body.size()));
  h.add("connection", "close");
  h.add("date", current_http_date());
  h.add("server", "mirror");
  if (!opts_.alt_svc.empty()) h.add("alt-svc", opts_.alt_svc);
  std::string out;
  append_status_line(out, status);
  append_fields(out, h);
  out += "\r\n";
  out += body;
  // The request never reached the handler: drop it without a completion.
  if (exchange_ && !dispatched_) {
    exchange_->detach();
    exchange_.reset();
  }
  write(out);
  close_connection(true);
}

void Session::abort_exchange() {
  if (!exchange_) return;
  std::shared_ptr<Exchange> ex = std::move(exchange_);
  ex->detach();
  if (auto* producer = std::get_if<std::unique_ptr<http::BodyProducer>>(&response_.body)) {
    if (*producer && !body_done_) (*producer)->on_abort();
  }
  response_ = http::Response{};
  body_reader_.reset();
  bool seen = dispatched_;
  dispatched_ = false;
  if (seen) ex->finish(http::Completion{status_sent_, body_sent_, true});
}

void Session::close_connection(bool graceful) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  set_timer(Timer::kNone);
  transport_.close(graceful);
}

// --- timers, reading, buffers -----------------------------------------------------------------

void Session::set_timer(Timer timer, bool rearm) {
  if (timer == timer_ && !rearm) return;
  timer_ = timer;
  double seconds = 0;
  switch (timer) {
    case Timer::kNone: seconds = 0; break;
    case Timer::kFirstRequest: seconds = opts_.header_timeout; break;
    case Timer::kIdle: seconds = opts_.idle_timeout; break;
    case Timer::kHeader: seconds = opts_.header_timeout; break;
    case Timer::kBody: seconds = opts_.read_timeout; break;
    case Timer::kWrite: seconds = opts_.write_timeout; break;
  }
  transport_.set_timeout(seconds);
}

void Session::update_timer() {
  switch (state_) {
    case State::kReadingHead:
      if (parser_.started() || !buffered().empty()) {
        set_timer(Timer::kHeader);  // armed once, at the request's first byte
      } else {
        set_timer(served_any_ ? Timer::kIdle : Timer::kFirstRequest);
      }
      break;
    case State::kReadingBody:
      if (timer_ != Timer::kBody) set_timer(Timer::kBody);
      break;
    case State::kHandling:
      set_timer(Timer::kNone);
      break;
    case State::kWriting:
      set_timer(blocked_ ? Timer::kWrite : Timer::kNone);
      break;
    case State::kClosed:
      break;
  }
}

void Session::update_reading() {
  bool busy = state_ == State::kHandling || state_ == State::kWriting;
  bool want_pause = busy && buffered().size() > opts_.max_buffered_input;
  if (want_pause && !reading_paused_) {
    reading_paused_ = true;
    transport_.pause_reading();
  } else if (!busy && reading_paused_) {
    reading_paused_ = false;
    transport_.resume_reading();
  }
}

void Session::write(std::string_view bytes) {
  transport_.write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            bytes.size()));
}

void Session::compact_input() {
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > 4096 && in_pos_ > in_.size() / 2) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
}

}  // namespace mirror::h1
