#include "h2/session.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <new>

#include "base/clock.h"
#include "h2/response_head.h"
#include "http/error_body.h"
#include "h2/stream.h"

namespace mirror::h2 {
namespace {

// --- nghttp2 trampolines ---

int on_begin_headers_cb(nghttp2_session*, const nghttp2_frame* frame, void* user) noexcept {
  return static_cast<Session*>(user)->on_begin_headers(*frame);
}

int on_header_cb(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                 const uint8_t* value, size_t valuelen, uint8_t, void* user) noexcept {
  return static_cast<Session*>(user)->on_header(*frame,
                                                {reinterpret_cast<const char*>(name), namelen},
                                                {reinterpret_cast<const char*>(value), valuelen});
}

int on_frame_recv_cb(nghttp2_session*, const nghttp2_frame* frame, void* user) noexcept {
  return static_cast<Session*>(user)->on_frame_recv(*frame);
}

int on_data_chunk_cb(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                     void* user) noexcept {
  return static_cast<Session*>(user)->on_data_chunk(stream_id, {data, len});
}

int on_frame_send_cb(nghttp2_session*, const nghttp2_frame* frame, void* user) noexcept {
  return static_cast<Session*>(user)->on_frame_send(*frame);
}

int on_stream_close_cb(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                       void* user) noexcept {
  return static_cast<Session*>(user)->on_stream_close(stream_id, error_code);
}

int on_error_cb(nghttp2_session*, int, const char* msg, size_t len, void*) noexcept {
  spdlog::debug("h2: {}", std::string_view(msg, len));
  return 0;
}

using CallbacksHandle = CHandle<nghttp2_session_callbacks, nghttp2_session_callbacks_del>;
using OptionHandle = CHandle<nghttp2_option, nghttp2_option_del>;

// Built once per process: nghttp2_session_server_new2 copies the table.
const nghttp2_session_callbacks* callbacks() {
  static const CallbacksHandle table = [] {
    nghttp2_session_callbacks* cbs = nullptr;
    if (nghttp2_session_callbacks_new(&cbs) != 0) throw std::bad_alloc();
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers_cb);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header_cb);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv_cb);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk_cb);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send_cb);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close_cb);
    nghttp2_session_callbacks_set_error_callback2(cbs, on_error_cb);
    return CallbacksHandle(cbs);
  }();
  return table.get();
}

// Frames are gathered into one transport write up to this size (one TLS record each, not one
// per 9-byte frame header).
constexpr size_t kCoalesceBytes = 64 * 1024;

// Counts nesting into nghttp2 so that flush() requested from a callback waits for the outer call.
class DepthGuard {
 public:
  explicit DepthGuard(int& depth) : depth_(depth) { ++depth_; }
  ~DepthGuard() { --depth_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;

 private:
  int& depth_;
};

std::string error_json(std::string_view message) {
  return http::protocol_error_body("VALIDATION_ERROR", message);
}

bool parse_length(std::string_view s, uint64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

Session::Session(net::StreamTransport& transport, http::Handler& handler, const Options& opts)
    : transport_(transport), handler_(handler), opts_(opts) {
  nghttp2_option* raw_opt = nullptr;
  if (nghttp2_option_new(&raw_opt) != 0) throw std::bad_alloc();
  OptionHandle opt(raw_opt);
  nghttp2_option_set_stream_reset_rate_limit(opt.get(), opts_.reset_burst,
                                             opts_.max_resets_per_second);
  nghttp2_option_set_max_continuations(opt.get(), opts_.max_continuations);

  nghttp2_session* raw = nullptr;
  if (nghttp2_session_server_new2(&raw, callbacks(), this, opt.get()) != 0) throw std::bad_alloc();
  session_.reset(raw);
}

Session::~Session() {
  // Exchanges the application still holds must see closed() and stop calling back into us.
  closed_ = true;
  on_close();
}

void Session::start() {
  constexpr uint32_t kMaxWindow = (1u << 31) - 1;  // RFC 9113 6.9.1
  std::vector<nghttp2_settings_entry> settings = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, opts_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, std::min(opts_.initial_window_size, kMaxWindow)},
      // RFC 9218: we do not schedule by the RFC 7540 priority tree (nghttp2 ignores PRIORITY).
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
  };
  if (opts_.enable_connect_protocol)
    settings.push_back({NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1});
  int rv =
      nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  if (rv != 0) spdlog::error("h2: invalid SETTINGS: {}", nghttp2_strerror(rv));
  rv = nghttp2_session_set_local_window_size(
      session_.get(), NGHTTP2_FLAG_NONE, 0,
      static_cast<int32_t>(std::min(opts_.connection_window_size, kMaxWindow)));
  if (rv != 0) spdlog::error("h2: connection window: {}", nghttp2_strerror(rv));
  arm_idle_timer();
  flush();
}

bool Session::on_data(std::span<const uint8_t> data) {
  if (closed_) return false;
  if (streams_.empty()) arm_idle_timer();  // activity on an idle connection
  ssize_t rv;
  {
    DepthGuard depth(nghttp2_depth_);
    rv = nghttp2_session_mem_recv(session_.get(), data.data(), data.size());
  }
  if (closed_) return false;  // the transport broke while we were writing
  if (rv < 0) {
    // Bad preface, flooding, out of memory: nghttp2 may have queued a GOAWAY; send what it has.
    spdlog::debug("h2 {}: {}", transport_.peer(), nghttp2_strerror(static_cast<int>(rv)));
    ready_.clear();
    send_loop();
    closed_ = true;
    return false;
  }
  // Send first: if this input ended the connection (e.g. the reset budget ran out and nghttp2
  // queued a GOAWAY), the requests that came with it are dropped, not handled.
  send_loop();
  if (!closed_ && !finished()) {
    run_handlers();
    send_loop();
  }
  ready_.clear();
  if (!closed_ && finished()) closed_ = true;  // the transport closes when we return false
  return !closed_;
}

void Session::on_writable() {
  if (closed_) return;
  flush();
}

void Session::on_timeout() {
  if (closed_) return;
  const Timer fired = timer_;
  timer_ = Timer::kNone;
  switch (fired) {
    case Timer::kGoawayDelay:
      submit_final_goaway();
      flush();
      break;
    case Timer::kIdle:
      if (!streams_.empty()) break;
      submit_final_goaway();
      send_loop();
      if (!closed_) close_transport();
      break;
    case Timer::kNone:
      break;
  }
}

void Session::on_close() {
  closed_ = true;
  // Move the streams out first: completion callbacks may call back into the session.
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) stream->finish(NGHTTP2_CANCEL);
}

void Session::request_shutdown() {
  if (closed_ || shutting_down_) return;
  shutting_down_ = true;
  // RFC 9113 6.8: a GOAWAY with the maximum stream id warns the client; the real one follows
  // after about a round trip, so requests already in flight are not lost.
  nghttp2_submit_shutdown_notice(session_.get());
  if (opts_.goaway_delay > 0) {
    timer_ = Timer::kGoawayDelay;
    transport_.set_timeout(opts_.goaway_delay);
  } else {
    submit_final_goaway();
  }
  flush();
}

// --- request side ---

int Session::on_begin_headers(const nghttp2_frame& frame) {
  if (frame.hd.type != NGHTTP2_HEADERS) return 0;
  const int32_t id = frame.hd.stream_id;
  if (frame.headers.cat == NGHTTP2_HCAT_REQUEST) {
    auto stream = std::make_shared<Stream>(this, id);
    auto& req = stream->request_;
    req.peer = transport_.peer();
    req.scheme = opts_.is_cleartext ? "http" : "https";
    nghttp2_session_set_stream_user_data(session_.get(), id, stream.get());
    if (streams_.empty() && timer_ == Timer::kIdle) {
      timer_ = Timer::kNone;
      transport_.set_timeout(0);
    }
    streams_.emplace(id, std::move(stream));
    return 0;
  }
  auto* stream = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_.get(), id));
  if (stream) {  // trailers: a new header block with its own limits
    stream->in_trailers_ = true;
    stream->block_fields_ = 0;
    stream->block_bytes_ = 0;
  }
  return 0;
}

int Session::on_header(const nghttp2_frame& frame, std::string_view name, std::string_view value) {
  auto* s = static_cast<Stream*>(
      nghttp2_session_get_stream_user_data(session_.get(), frame.hd.stream_id));
  if (!s || s->rejected_ || s->fields_too_large_) return 0;
  s->block_bytes_ += name.size() + value.size();
  if (++s->block_fields_ > opts_.max_header_count || s->block_bytes_ > opts_.max_header_bytes) {
    s->fields_too_large_ = true;  // answered with 431 when the block ends; the rest is ignored
    return 0;
  }
  auto& req = s->request_;
  if (s->in_trailers_) {  // nghttp2 has rejected pseudo-headers in trailers already
    req.trailers.add(name, value);
    return 0;
  }
  if (!name.empty() && name[0] == ':') {  // nghttp2 checked presence, order and duplicates
    if (name == ":method") {
      req.method_str.assign(value);
      req.method = http::parse_method(value);
    } else if (name == ":path") {
      req.target.assign(value);
    } else if (name == ":authority") {
      req.authority.assign(value);
    } else if (name == ":scheme") {
      req.scheme.assign(value);
    } else if (name == ":protocol") {
      req.headers.add(name, value);
    }
    return 0;
  }
  if (name == "cookie") {
    if (!s->cookie_.empty()) s->cookie_ += "; ";
    s->cookie_.append(value);
    return 0;
  }
  req.headers.add(name, value);
  return 0;
}

int Session::on_frame_recv(const nghttp2_frame& frame) {
  const bool end_stream = frame.hd.flags & NGHTTP2_FLAG_END_STREAM;
  if (frame.hd.type != NGHTTP2_HEADERS && frame.hd.type != NGHTTP2_DATA) return 0;
  auto* s = static_cast<Stream*>(
      nghttp2_session_get_stream_user_data(session_.get(), frame.hd.stream_id));
  if (!s) return 0;
  if (frame.hd.type == NGHTTP2_HEADERS) {
    end_of_header_block(*s, frame);
  } else if (end_stream) {
    s->request_complete_ = true;
    if (!s->rejected_) dispatch(*s);
  }
  return 0;
}

void Session::end_of_header_block(Stream& s, const nghttp2_frame& frame) {
  const bool end_stream = frame.hd.flags & NGHTTP2_FLAG_END_STREAM;
  if (end_stream) s.request_complete_ = true;
  if (s.rejected_) return;
  if (s.fields_too_large_) {
    reject(s, 431, "request header fields too large");
    return;
  }
  if (!s.in_trailers_) {
    auto& req = s.request_;
    if (!s.cookie_.empty()) {
      req.headers.add("cookie", s.cookie_);
      s.cookie_.clear();
    }
    if (req.authority.empty()) {
      if (const auto* host = req.headers.get("host")) req.authority = *host;
    }
    if (req.method == http::Method::kConnect && !req.headers.has(":protocol")) {
      reject(s, 405, "CONNECT is not supported");  // we are not a proxy
      return;
    }
    const std::string target = std::move(req.target);
    if (!req.set_target(target) && !(req.method == http::Method::kOptions && target == "*")) {
      reject(s, 400, "invalid request target");
      return;
    }
    uint64_t declared = 0;
    if (const auto* cl = req.headers.get("content-length");
        cl && parse_length(*cl, declared) && declared > opts_.max_body_size) {
      reject(s, 413, "request body too large");
      return;
    }
    if (!end_stream && http::iequals(req.headers.get_or("expect"), "100-continue")) {
      submit_informational(s, 100, {});
    }
  }
  if (end_stream) dispatch(s);
}

int Session::on_data_chunk(int32_t stream_id, std::span<const uint8_t> data) {
  auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_.get(), stream_id));
  if (!s || s->rejected_) return 0;
  auto& body = s->request_.body;
  if (body.size() + data.size() > opts_.max_body_size) {
    std::string().swap(body);
    reject(*s, 413, "request body too large");
    return 0;
  }
  body.append(reinterpret_cast<const char*>(data.data()), data.size());
  return 0;
}

void Session::dispatch(Stream& s) {
  if (s.dispatched_) return;
  s.dispatched_ = true;
  ready_.push_back(std::static_pointer_cast<Stream>(s.shared_from_this()));
}

void Session::run_handlers() {
  // The handler may respond at once; what it submits is sent by the caller's send_loop().
  DepthGuard depth(nghttp2_depth_);
  for (size_t i = 0; i < ready_.size() && !closed_; ++i) {
    if (!ready_[i]->closed_) handler_.handle(ready_[i]);
  }
  ready_.clear();
}

void Session::reject(Stream& s, int status, std::string_view message) {
  s.rejected_ = true;
  std::string().swap(s.request_.body);
  if (s.responded_) return;
  s.responded_ = true;
  http::Response res;
  res.status = status;
  res.headers.set("content-type", "application/json");
  res.body = error_json(message);
  submit_response(s, std::move(res));
}

// --- response side ---

void Session::submit_response(Stream& s, http::Response response) {
  if (response.status < 200 || response.status > 999) {
    spdlog::error("h2 stream {}: handler responded with status {}; sending 500", s.id_,
                  response.status);
    if (auto* p = std::get_if<std::unique_ptr<http::BodyProducer>>(&response.body); p && *p) {
      (*p)->on_abort();
    }
    response = http::Response{};
    response.status = 500;
  }
  s.response_ = std::move(response);
  s.status_ = s.response_.status;
  const bool no_body = response_has_no_body(s.request_, s.status_);
  const auto fields = response_fields(s.request_, s.response_, date_header(), opts_.alt_svc);
  const auto nva = to_nv(fields);
  auto provider = s.body_provider(no_body);
  int rv = nghttp2_submit_response(session_.get(), s.id_, nva.data(), nva.size(),
                                   provider ? &*provider : nullptr);
  if (rv != 0) {  // the stream is closing; on_stream_close reports the exchange
    spdlog::debug("h2 stream {}: submit_response: {}", s.id_, nghttp2_strerror(rv));
    return;
  }
  flush();
}

void Session::submit_informational(Stream& s, int status, const http::Headers& headers) {
  const auto fields = informational_fields(status, headers);
  const auto nva = to_nv(fields);
  int rv = nghttp2_submit_headers(session_.get(), NGHTTP2_FLAG_NONE, s.id_, nullptr, nva.data(),
                                  nva.size(), nullptr);
  if (rv != 0) {
    spdlog::debug("h2 stream {}: informational {}: {}", s.id_, status, nghttp2_strerror(rv));
    return;
  }
  flush();
}

void Session::resume_stream(Stream& s) {
  s.deferred_ = false;
  int rv = nghttp2_session_resume_data(session_.get(), s.id_);
  if (rv != 0) spdlog::debug("h2 stream {}: resume: {}", s.id_, nghttp2_strerror(rv));
  flush();
}

int Session::on_frame_send(const nghttp2_frame& frame) {
  if (frame.hd.type == NGHTTP2_GOAWAY) {
    if (frame.goaway.error_code != NGHTTP2_NO_ERROR) fatal_goaway_sent_ = true;
    return 0;
  }
  if (frame.hd.type != NGHTTP2_HEADERS && frame.hd.type != NGHTTP2_DATA) return 0;
  auto* s = static_cast<Stream*>(
      nghttp2_session_get_stream_user_data(session_.get(), frame.hd.stream_id));
  if (!s) return 0;
  if (frame.hd.type == NGHTTP2_DATA) {
    s->body_bytes_ += frame.hd.length - frame.data.padlen;
  } else if (frame.headers.nvlen > 0) {
    // The final response head (not a 1xx, not trailers) carries a :status of 200 or more.
    const auto& first = frame.headers.nva[0];
    std::string_view name(reinterpret_cast<const char*>(first.name), first.namelen);
    if (name == ":status" && first.valuelen == 3 && first.value[0] >= '2') s->head_sent_ = true;
  }
  if (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) {
    s->end_stream_sent_ = true;
    // We answered before the request ended (413, 431): ask the client to stop sending without
    // calling it an error (RFC 9113 8.1).
    if (!s->request_complete_) {
      nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, s->id_, NGHTTP2_NO_ERROR);
    }
  }
  return 0;
}

int Session::on_stream_close(int32_t stream_id, uint32_t error_code) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return 0;
  auto stream = std::move(it->second);  // alive through its completion callback
  streams_.erase(it);
  stream->finish(error_code);
  if (streams_.empty()) arm_idle_timer();
  return 0;
}

// --- output, timers, end of connection ---

void Session::flush() {
  if (nghttp2_depth_ > 0) {
    flush_requested_ = true;
    return;
  }
  if (closed_) return;
  send_loop();
  if (!closed_ && finished()) close_transport();
}

void Session::send_loop() {
  do {
    flush_requested_ = false;
    while (!closed_ && transport_.pending_write_bytes() + out_.size() < opts_.write_high_water) {
      const uint8_t* data = nullptr;
      ssize_t n;
      {
        DepthGuard depth(nghttp2_depth_);
        n = nghttp2_session_mem_send(session_.get(), &data);
      }
      if (n < 0) {
        spdlog::debug("h2 {}: mem_send: {}", transport_.peer(),
                      nghttp2_strerror(static_cast<int>(n)));
        fatal_goaway_sent_ = true;  // nothing sensible is left to send: close
        break;
      }
      if (n == 0) break;
      out_.insert(out_.end(), data, data + n);
      if (out_.size() >= kCoalesceBytes) {
        transport_.write(out_);
        out_.clear();
      }
    }
    if (!out_.empty() && !closed_) {
      transport_.write(out_);
      out_.clear();
    }
  } while (flush_requested_ && !closed_);
  if (closed_) return;

  // Backpressure: while the transport holds more than the high-water mark, stop reading too
  // (a peer that does not read our responses cannot make us queue without bound).
  const bool blocked = transport_.pending_write_bytes() >= opts_.write_high_water;
  if (blocked && !reading_paused_) {
    reading_paused_ = true;
    transport_.pause_reading();
  } else if (!blocked && reading_paused_) {
    reading_paused_ = false;
    transport_.resume_reading();
  }
}

bool Session::finished() const {
  if (fatal_goaway_sent_) return true;  // protocol error or flood: no draining
  return nghttp2_session_want_read(session_.get()) == 0 &&
         nghttp2_session_want_write(session_.get()) == 0;
}

void Session::close_transport() {
  closed_ = true;
  transport_.close(true);  // last: the transport may call on_close() from here
}

void Session::arm_idle_timer() {
  if (closed_ || shutting_down_ || opts_.idle_timeout <= 0) return;
  timer_ = Timer::kIdle;
  transport_.set_timeout(opts_.idle_timeout);
}

void Session::submit_final_goaway() {
  if (final_goaway_) return;
  final_goaway_ = true;
  const int32_t last = nghttp2_session_get_last_proc_stream_id(session_.get());
  int rv =
      nghttp2_submit_goaway(session_.get(), NGHTTP2_FLAG_NONE, last, NGHTTP2_NO_ERROR, nullptr, 0);
  if (rv != 0) spdlog::debug("h2: goaway: {}", nghttp2_strerror(rv));
}

const std::string& Session::date_header() { return current_http_date(); }

}  // namespace mirror::h2
