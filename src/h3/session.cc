#include "h3/session.h"

#include <spdlog/spdlog.h>

#include "base/clock.h"

namespace mirror::h3 {
namespace {

Session* self(void* ud) { return static_cast<Session*>(ud); }
Stream* stream_of(void* sud) { return static_cast<Stream*>(sud); }

int acked_stream_data_cb(nghttp3_conn*, int64_t, uint64_t len, void* ud, void* sud) noexcept {
  return sud ? self(ud)->on_acked_stream_data(stream_of(sud), len) : 0;
}
int stream_close_cb(nghttp3_conn*, int64_t sid, uint64_t code, void* ud, void*) noexcept {
  return self(ud)->on_stream_close(sid, code);
}
int recv_data_cb(nghttp3_conn*, int64_t sid, const uint8_t* data, size_t len, void* ud,
                 void* sud) noexcept {
  return self(ud)->on_recv_data(stream_of(sud), sid, data, len);
}
int deferred_consume_cb(nghttp3_conn*, int64_t sid, size_t n, void* ud, void*) noexcept {
  return self(ud)->on_deferred_consume(sid, n);
}
int begin_headers_cb(nghttp3_conn*, int64_t sid, void* ud, void*) noexcept {
  return self(ud)->on_begin_headers(sid);
}
int recv_header_cb(nghttp3_conn*, int64_t, int32_t token, nghttp3_rcbuf* name,
                   nghttp3_rcbuf* value, uint8_t, void* ud, void* sud) noexcept {
  return self(ud)->on_recv_header(stream_of(sud), token, name, value);
}
int recv_trailer_cb(nghttp3_conn*, int64_t, int32_t, nghttp3_rcbuf* name, nghttp3_rcbuf* value,
                    uint8_t, void* ud, void* sud) noexcept {
  return self(ud)->on_recv_trailer(stream_of(sud), name, value);
}
int end_headers_cb(nghttp3_conn*, int64_t, int fin, void* ud, void* sud) noexcept {
  return self(ud)->on_end_headers(stream_of(sud), fin != 0);
}
int end_stream_cb(nghttp3_conn*, int64_t, void* ud, void* sud) noexcept {
  return self(ud)->on_end_stream(stream_of(sud));
}
int stop_sending_cb(nghttp3_conn*, int64_t sid, uint64_t code, void* ud, void*) noexcept {
  return self(ud)->on_stop_sending(sid, code);
}
int reset_stream_cb(nghttp3_conn*, int64_t sid, uint64_t code, void* ud, void*) noexcept {
  return self(ud)->on_reset_stream(sid, code);
}

constexpr nghttp3_callbacks kCallbacks = {
    .acked_stream_data = acked_stream_data_cb,
    .stream_close = stream_close_cb,
    .recv_data = recv_data_cb,
    .deferred_consume = deferred_consume_cb,
    .begin_headers = begin_headers_cb,
    .recv_header = recv_header_cb,
    .end_headers = end_headers_cb,
    .begin_trailers = nullptr,
    .recv_trailer = recv_trailer_cb,
    .end_trailers = nullptr,
    .stop_sending = stop_sending_cb,
    .end_stream = end_stream_cb,
    .reset_stream = reset_stream_cb,
    .shutdown = nullptr,  // a client GOAWAY needs no action from a server
};

std::string_view view(nghttp3_rcbuf* b) {
  auto v = nghttp3_rcbuf_get_buf(b);
  return {reinterpret_cast<const char*>(v.base), v.len};
}

bool is_client_bidi(int64_t sid) { return (sid & 0x3) == 0; }

}  // namespace

Session::Session(quic::Connection& conn, http::Handler& handler)
    : conn_(conn),
      handler_(handler),
      reset_limiter_(conn.options().max_resets_per_second) {
  deferred_.init(conn.loop(), [this] { run_deferred(); });
}

Session::~Session() {
  deferred_.stop();
  connection_lost();
}

quic::ApplicationFactory make_application_factory(http::Handler& handler) {
  return [&handler](quic::Connection& conn) -> std::unique_ptr<quic::Application> {
    return std::make_unique<Session>(conn, handler);
  };
}

std::unique_ptr<quic::Endpoint> make_endpoint(struct ev_loop* loop, int worker_id,
                                              const quic::Options& options,
                                              std::shared_ptr<const quic::Shared> shared,
                                              http::Handler& handler) {
  return std::make_unique<quic::Endpoint>(loop, worker_id, options, std::move(shared),
                                          make_application_factory(handler));
}

int Session::start() {
  const quic::Options& opt = conn_.options();
  nghttp3_settings settings;
  nghttp3_settings_default(&settings);
  settings.max_field_section_size = opt.max_header_bytes;
  settings.qpack_max_dtable_capacity = opt.qpack_max_dtable_capacity;
  settings.qpack_blocked_streams = opt.qpack_blocked_streams;
  nghttp3_conn* raw = nullptr;
  if (int rv = nghttp3_conn_server_new(&raw, &kCallbacks, &settings, nullptr, this); rv != 0) {
    spdlog::warn("h3: nghttp3_conn_server_new: {}", nghttp3_strerror(rv));
    return -1;
  }
  h3_.reset(raw);
  ngtcp2_conn* qc = conn_.native();
  if (ngtcp2_conn_get_max_local_streams_uni(qc) < 3) {
    conn_.set_application_error(NGHTTP3_H3_GENERAL_PROTOCOL_ERROR);
    return -1;
  }
  nghttp3_conn_set_max_client_streams_bidi(raw, opt.max_incoming_streams);
  int64_t ctrl = -1, qenc = -1, qdec = -1;
  if (ngtcp2_conn_open_uni_stream(qc, &ctrl, nullptr) != 0 ||
      ngtcp2_conn_open_uni_stream(qc, &qenc, nullptr) != 0 ||
      ngtcp2_conn_open_uni_stream(qc, &qdec, nullptr) != 0 ||
      nghttp3_conn_bind_control_stream(raw, ctrl) != 0 ||
      nghttp3_conn_bind_qpack_streams(raw, qenc, qdec) != 0) {
    conn_.set_application_error(NGHTTP3_H3_INTERNAL_ERROR);
    return -1;
  }
  return 0;
}

// --- receive side ---

int Session::recv_stream_data(int64_t stream_id, std::span<const uint8_t> data, bool fin,
                              bool early) {
  if (!h3_) return 0;
  if (early && is_client_bidi(stream_id)) early_streams_.insert(stream_id);
  auto n = nghttp3_conn_read_stream(h3_.get(), stream_id, data.data(), data.size(), fin);
  if (n < 0) {
    conn_.set_application_error(nghttp3_err_infer_quic_app_error_code(static_cast<int>(n)));
    return -1;
  }
  conn_.consume(stream_id, static_cast<size_t>(n));
  return 0;
}

int Session::on_begin_headers(int64_t stream_id) {
  auto [it, inserted] = streams_.try_emplace(stream_id);
  if (inserted) {
    const auto& opt = conn_.options();
    it->second = std::make_unique<Stream>(*this, stream_id, opt.max_header_bytes,
                                          opt.max_header_count);
    Stream& s = *it->second;
    s.exchange = std::make_shared<Exchange>(&s);
    s.early = early_streams_.count(stream_id) > 0;
    nghttp3_conn_set_stream_user_data(h3_.get(), stream_id, &s);
  }
  return 0;
}

int Session::on_recv_header(Stream* s, int32_t token, nghttp3_rcbuf* name, nghttp3_rcbuf* value) {
  if (!s) return 0;
  std::string_view n = view(name), v = view(value);
  // Over the budget: keep counting (nothing stored) and answer 431 at the end of the section.
  if (!s->headers.add(n.size(), v.size())) return 0;
  http::Request& req = s->exchange->request();
  switch (token) {
    case NGHTTP3_QPACK_TOKEN__METHOD:
      req.method_str.assign(v);
      req.method = http::parse_method(v);
      break;
    case NGHTTP3_QPACK_TOKEN__PATH:
      if (!req.set_target(v)) s->bad_target = true;
      break;
    case NGHTTP3_QPACK_TOKEN__AUTHORITY:
      req.authority.assign(v);
      break;
    case NGHTTP3_QPACK_TOKEN__SCHEME:
      req.scheme.assign(v);
      break;
    case NGHTTP3_QPACK_TOKEN__PROTOCOL:
      break;
    case NGHTTP3_QPACK_TOKEN_COOKIE:
      if (!s->cookie.empty()) s->cookie += "; ";
      s->cookie.append(v);
      break;
    default:
      req.headers.add(n, v);
      if (token == NGHTTP3_QPACK_TOKEN_HOST && req.authority.empty()) req.authority.assign(v);
  }
  return 0;
}

int Session::on_recv_trailer(Stream* s, nghttp3_rcbuf* name, nghttp3_rcbuf* value) {
  if (!s || s->dispatched) return 0;
  std::string_view n = view(name), v = view(value);
  // Trailers share the request's header budget; past it they are dropped (the body is complete).
  if (s->headers.add(n.size(), v.size())) s->exchange->request().trailers.add(n, v);
  return 0;
}

int Session::on_end_headers(Stream* s, bool) {
  if (!s || s->dispatched) return 0;
  http::Request& req = s->exchange->request();
  if (!s->cookie.empty()) {
    req.headers.add("cookie", s->cookie);
    s->cookie.clear();
  }
  if (s->headers.exceeded()) {
    reject(*s, 431, "VALIDATION_ERROR", "request header fields too large");
    return 0;
  }
  if (refuse_early_request(req.method, s->early)) {
    conn_.counters().early_requests_refused.fetch_add(1, std::memory_order_relaxed);
    reject(*s, 425, "TOO_EARLY", "request sent in 0-RTT early data; retry after the handshake");
    return 0;
  }
  if (const auto* cl = req.headers.get("content-length")) {
    uint64_t len = 0;
    bool ok = !cl->empty();
    for (char c : *cl) {
      if (c < '0' || c > '9' || len > (UINT64_MAX - 9) / 10) {
        ok = false;
        break;
      }
      len = len * 10 + static_cast<uint64_t>(c - '0');
    }
    if (ok && len > conn_.options().max_body_size) {
      reject(*s, 413, "VALIDATION_ERROR", "request body too large");
      return 0;
    }
  }
  if (s->bad_target && req.method != http::Method::kConnect &&
      !(req.method == http::Method::kOptions && req.target == "*")) {
    reject(*s, 400, "VALIDATION_ERROR", "malformed request target");
    return 0;
  }
  return 0;
}

int Session::on_recv_data(Stream* s, int64_t stream_id, const uint8_t* data, size_t len) {
  // Body bytes are buffered (bounded below), so their credit goes back to the peer at once.
  conn_.consume(stream_id, len);
  if (!s || s->reading_stopped || s->dispatched) return 0;
  std::string& body = s->exchange->request().body;
  if (body.size() + len > conn_.options().max_body_size) {
    body.clear();
    body.shrink_to_fit();
    reject(*s, 413, "VALIDATION_ERROR", "request body too large");
    return 0;
  }
  body.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int Session::on_deferred_consume(int64_t stream_id, size_t consumed) {
  conn_.consume(stream_id, consumed);
  return 0;
}

int Session::on_end_stream(Stream* s) {
  if (!s || s->dispatched) return 0;
  dispatch(*s);
  return 0;
}

void Session::dispatch(Stream& s) {
  s.dispatched = true;
  http::Request& req = s.exchange->request();
  req.protocol = http::Protocol::kHttp3;
  req.peer = conn_.peer();
  req.early_data = s.early;
  s.head_request = req.method == http::Method::kHead;
  auto& c = conn_.counters();
  c.requests.fetch_add(1, std::memory_order_relaxed);
  if (s.early) c.requests_0rtt.fetch_add(1, std::memory_order_relaxed);
  // The handler may answer synchronously (respond() runs inside this nghttp3 callback, which
  // nghttp3 allows) or keep the exchange and answer later.
  handler_.handle(s.exchange);
}

void Session::reject(Stream& s, int status, std::string_view type, std::string_view message) {
  s.dispatched = true;
  s.reading_stopped = true;
  s.exchange->request().protocol = http::Protocol::kHttp3;
  http::Response r;
  r.status = status;
  r.headers.set("content-type", "application/json");
  r.body = error_json(type, message);
  s.exchange->mark_responded();
  respond(s, std::move(r));
  // RFC 9114 §4.1.2: a complete response may precede the end of the request; then ask the client
  // to stop sending with H3_NO_ERROR.
  ngtcp2_conn_shutdown_stream_read(conn_.native(), s.id, NGHTTP3_H3_NO_ERROR);
}

int Session::on_stream_close(int64_t stream_id, uint64_t app_error_code) {
  early_streams_.erase(stream_id);
  auto it = streams_.find(stream_id);
  if (it != streams_.end()) {
    std::unique_ptr<Stream> s = std::move(it->second);
    streams_.erase(it);
    bool clean = app_error_code == NGHTTP3_H3_NO_ERROR && s->body_eof;
    if (!clean && s->reader) {
      if (auto* p = std::get_if<std::unique_ptr<http::BodyProducer>>(&s->response.body)) {
        (*p)->on_abort();
      }
    }
    s->exchange->detach(http::Completion{s->status, s->body_bytes, !clean});
  }
  // Give the client back one request stream of credit (RFC 9000 §4.6).
  if (is_client_bidi(stream_id)) ngtcp2_conn_extend_max_streams_bidi(conn_.native(), 1);
  return 0;
}

int Session::stream_close(int64_t stream_id, uint64_t app_error_code, bool) {
  if (!h3_) return 0;
  int rv = nghttp3_conn_close_stream(h3_.get(), stream_id, app_error_code);
  if (rv == 0) return 0;
  if (rv == NGHTTP3_ERR_STREAM_NOT_FOUND) {
    // nghttp3 never saw this stream (e.g. reset before any byte): still return the credit.
    if (is_client_bidi(stream_id)) ngtcp2_conn_extend_max_streams_bidi(conn_.native(), 1);
    early_streams_.erase(stream_id);
    return 0;
  }
  conn_.set_application_error(nghttp3_err_infer_quic_app_error_code(rv));
  return -1;
}

bool Session::count_reset() {
  if (reset_limiter_.allow(monotonic_ns())) return true;
  conn_.counters().excessive_load_closes.fetch_add(1, std::memory_order_relaxed);
  conn_.set_application_error(NGHTTP3_H3_EXCESSIVE_LOAD);
  return false;
}

int Session::stream_reset(int64_t stream_id, uint64_t) {
  if (!count_reset()) return -1;
  if (!h3_) return 0;
  if (int rv = nghttp3_conn_shutdown_stream_read(h3_.get(), stream_id); rv != 0) {
    conn_.set_application_error(nghttp3_err_infer_quic_app_error_code(rv));
    return -1;
  }
  return 0;
}

int Session::stream_stop_sending(int64_t stream_id, uint64_t) {
  if (!count_reset()) return -1;
  if (!h3_) return 0;
  // ngtcp2 answers STOP_SENDING with RESET_STREAM itself; nghttp3 learns the write side is shut
  // from the write loop (STREAM_SHUT_WR). Stop reading the request too: it is abandoned.
  if (int rv = nghttp3_conn_shutdown_stream_read(h3_.get(), stream_id); rv != 0) {
    conn_.set_application_error(nghttp3_err_infer_quic_app_error_code(rv));
    return -1;
  }
  return 0;
}

int Session::on_stop_sending(int64_t stream_id, uint64_t app_error_code) {
  ngtcp2_conn_shutdown_stream_read(conn_.native(), stream_id, app_error_code);
  return 0;
}

int Session::on_reset_stream(int64_t stream_id, uint64_t app_error_code) {
  ngtcp2_conn_shutdown_stream_write(conn_.native(), stream_id, app_error_code);
  return 0;
}

void Session::extend_max_remote_streams_bidi(uint64_t max_streams) {
  if (h3_) nghttp3_conn_set_max_client_streams_bidi(h3_.get(), max_streams);
}

int Session::extend_max_stream_data(int64_t stream_id) {
  if (!h3_) return 0;
  if (int rv = nghttp3_conn_unblock_stream(h3_.get(), stream_id); rv != 0) {
    conn_.set_application_error(nghttp3_err_infer_quic_app_error_code(rv));
    return -1;
  }
  return 0;
}

// --- send side glue ---

int64_t Session::write_stream_data(int64_t* stream_id, bool* fin, std::span<ngtcp2_vec> vec) {
  *stream_id = -1;
  *fin = false;
  if (!h3_ || lost_) return 0;
  int f = 0;
  static_assert(sizeof(nghttp3_vec) == sizeof(ngtcp2_vec));
  auto n = nghttp3_conn_writev_stream(h3_.get(), stream_id, &f,
                                      reinterpret_cast<nghttp3_vec*>(vec.data()), vec.size());
  if (n < 0) {
    conn_.set_application_error(nghttp3_err_infer_quic_app_error_code(static_cast<int>(n)));
    return -1;
  }
  *fin = f != 0;
  return n;
}

void Session::stream_blocked(int64_t stream_id) {
  if (h3_) nghttp3_conn_block_stream(h3_.get(), stream_id);
}

void Session::stream_shut_write(int64_t stream_id) {
  if (h3_) nghttp3_conn_shutdown_stream_write(h3_.get(), stream_id);
}

int Session::stream_data_written(int64_t stream_id, size_t bytes) {
  if (!h3_) return 0;
  if (int rv = nghttp3_conn_add_write_offset(h3_.get(), stream_id, bytes); rv != 0) {
    conn_.set_application_error(nghttp3_err_infer_quic_app_error_code(rv));
    return -1;
  }
  return 0;
}

int Session::acked_stream_data(int64_t stream_id, uint64_t bytes) {
  if (!h3_) return 0;
  if (int rv = nghttp3_conn_add_ack_offset(h3_.get(), stream_id, bytes); rv != 0) {
    conn_.set_application_error(nghttp3_err_infer_quic_app_error_code(rv));
    return -1;
  }
  return 0;
}

void Session::shutdown_notice() {
  if (h3_ && !lost_) nghttp3_conn_submit_shutdown_notice(h3_.get());
}

void Session::shutdown() {
  if (h3_ && !lost_) nghttp3_conn_shutdown(h3_.get());
}

void Session::connection_lost() {
  if (lost_) return;
  lost_ = true;
  deferred_.stop();
  // Abort every open exchange exactly once; the application may hold them longer.
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, s] : streams) {
    if (s->reader && !s->body_eof) {
      if (auto* p = std::get_if<std::unique_ptr<http::BodyProducer>>(&s->response.body)) {
        (*p)->on_abort();
      }
    }
    // A response whose last byte was handed to nghttp3 counts as sent even if the peer closed
    // the connection before acknowledging it (clients often close right after the last byte).
    s->exchange->detach(http::Completion{s->status, s->body_bytes, !s->body_eof});
  }
  // nghttp3 keeps pointers to the streams as user data: drop it with them.
  h3_.reset();
}

}  // namespace mirror::h3
