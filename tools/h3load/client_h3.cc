// Client: the HTTP/3 half (nghttp3) — request submission, response accounting, GOAWAY.
#include <fmt/format.h>
#include <nghttp3/nghttp3.h>

#include <algorithm>

#include "base/clock.h"
#include "h3load/client.h"
#include "h3load/stats.h"
#include "h3load/worker.h"

namespace h3load {

using mirror::monotonic_ns;

namespace {

Client* self(void* user_data) { return static_cast<Client*>(user_data); }

int h3_stream_close(nghttp3_conn*, int64_t stream_id, uint64_t app_error_code, void* ud,
                    void*) noexcept {
  return self(ud)->on_h3_stream_close(stream_id, app_error_code);
}

int h3_recv_data(nghttp3_conn*, int64_t stream_id, const uint8_t*, size_t len, void* ud,
                 void*) noexcept {
  self(ud)->on_h3_recv_body(stream_id, len);
  return 0;
}

int h3_deferred_consume(nghttp3_conn*, int64_t stream_id, size_t len, void* ud, void*) noexcept {
  self(ud)->on_h3_consume(stream_id, len);
  return 0;
}

int h3_begin_headers(nghttp3_conn*, int64_t stream_id, void* ud, void*) noexcept {
  self(ud)->on_h3_begin_headers(stream_id);
  return 0;
}

int h3_recv_header(nghttp3_conn*, int64_t stream_id, int32_t token, nghttp3_rcbuf* name,
                   nghttp3_rcbuf* value, uint8_t, void* ud, void*) noexcept {
  self(ud)->on_h3_header(stream_id, token, name, value);
  return 0;
}

int h3_stop_sending(nghttp3_conn*, int64_t stream_id, uint64_t app_error_code, void* ud,
                    void*) noexcept {
  return self(ud)->on_h3_stop_sending(stream_id, app_error_code);
}

int h3_reset_stream(nghttp3_conn*, int64_t stream_id, uint64_t app_error_code, void* ud,
                    void*) noexcept {
  return self(ud)->on_h3_reset_stream(stream_id, app_error_code);
}

int h3_shutdown(nghttp3_conn*, int64_t, void* ud) noexcept {
  self(ud)->on_h3_goaway();
  return 0;
}

// The request body (-d) lives in Options for the whole run, so one vector covering all of it
// stays valid until nghttp3 sees it acknowledged; no acked_stream_data bookkeeping needed.
nghttp3_ssize read_body(nghttp3_conn*, int64_t, nghttp3_vec* vec, size_t, uint32_t* pflags,
                        void* ud, void*) noexcept {
  const std::string& body = self(ud)->body();
  *pflags |= NGHTTP3_DATA_FLAG_EOF;
  if (body.empty()) return 0;
  vec[0].base = reinterpret_cast<uint8_t*>(const_cast<char*>(body.data()));
  vec[0].len = body.size();
  return 1;
}

constexpr nghttp3_callbacks kH3Callbacks{
    .acked_stream_data = nullptr,
    .stream_close = h3_stream_close,
    .recv_data = h3_recv_data,
    .deferred_consume = h3_deferred_consume,
    .begin_headers = h3_begin_headers,
    .recv_header = h3_recv_header,
    .end_headers = nullptr,
    .begin_trailers = nullptr,
    .recv_trailer = nullptr,
    .end_trailers = nullptr,
    .stop_sending = h3_stop_sending,
    .end_stream = nullptr,
    .reset_stream = h3_reset_stream,
    .shutdown = h3_shutdown,
};

nghttp3_nv make_nv(const Header& h) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(h.name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(h.value.data())), h.name.size(),
          h.value.size(), NGHTTP3_NV_FLAG_NONE};
}

}  // namespace

const std::string& Client::body() const {
  static const std::string kEmpty;
  return opts_.body ? *opts_.body : kEmpty;
}

void Client::build_request_headers() {
  for (const Target& t : opts_.targets) {
    std::vector<Header> pseudo{{":method", opts_.method},
                               {":scheme", "https"},
                               {":authority", t.authority},
                               {":path", t.path}};
    std::vector<Header> regular;
    bool have_user_agent = false;
    for (const Header& h : opts_.headers) {
      // -H ":path: /x" or "host: y" replace the pseudo-header instead of adding a field.
      const std::string name = h.name == "host" ? ":authority" : h.name;
      auto it = std::find_if(pseudo.begin(), pseudo.end(),
                             [&](const Header& p) { return p.name == name; });
      if (it != pseudo.end()) {
        it->value = h.value;
      } else if (name[0] != ':') {
        have_user_agent |= name == "user-agent";
        regular.push_back(h);
      }
    }
    if (!have_user_agent) regular.push_back({"user-agent", "h3load"});
    if (opts_.body) regular.push_back({"content-length", std::to_string(opts_.body->size())});
    pseudo.insert(pseudo.end(), regular.begin(), regular.end());
    request_headers_.push_back(std::move(pseudo));
  }
}

bool Client::setup_h3() {
  if (h3_) return true;
  ngtcp2_conn* conn = conn_.get();
  if (ngtcp2_conn_get_max_local_streams_uni(conn) < 3) {
    fmt::print(stderr, "client {}: server allows fewer than 3 unidirectional streams\n", index_);
    return false;
  }
  nghttp3_settings settings;
  nghttp3_settings_default(&settings);
  settings.qpack_max_dtable_capacity = 4096;
  settings.qpack_blocked_streams = 100;
  nghttp3_conn* h3 = nullptr;
  if (int rv = nghttp3_conn_client_new(&h3, &kH3Callbacks, &settings, nghttp3_mem_default(), this);
      rv != 0) {
    fmt::print(stderr, "client {}: nghttp3_conn_client_new: {}\n", index_, nghttp3_strerror(rv));
    return false;
  }
  h3_.reset(h3);
  int64_t control = -1, qpack_enc = -1, qpack_dec = -1;
  if (ngtcp2_conn_open_uni_stream(conn, &control, nullptr) != 0 ||
      ngtcp2_conn_open_uni_stream(conn, &qpack_enc, nullptr) != 0 ||
      ngtcp2_conn_open_uni_stream(conn, &qpack_dec, nullptr) != 0 ||
      nghttp3_conn_bind_control_stream(h3, control) != 0 ||
      nghttp3_conn_bind_qpack_streams(h3, qpack_enc, qpack_dec) != 0) {
    fmt::print(stderr, "client {}: cannot open the HTTP/3 control streams\n", index_);
    return false;
  }
  return true;
}

bool Client::fill_requests() {
  if (state_ != State::kConnected || !h3_ || goaway_) return true;
  while (requests_.size() < opts_.max_concurrent && has_work()) {
    // No stream credit: the server's MAX_STREAMS (extend_max_local_streams_bidi) brings more.
    if (ngtcp2_conn_get_streams_bidi_left(conn_.get()) == 0) break;
    if (!submit_request()) return false;
  }
  return true;
}

bool Client::submit_request() {
  int64_t stream_id = -1;
  if (int rv = ngtcp2_conn_open_bidi_stream(conn_.get(), &stream_id, nullptr); rv != 0) {
    fail(rv);
    return false;
  }
  const auto& headers = request_headers_[next_target_++ % request_headers_.size()];
  nva_.clear();
  for (const Header& h : headers) nva_.push_back(make_nv(h));
  const nghttp3_data_reader reader{read_body};
  if (int rv = nghttp3_conn_submit_request(h3_.get(), stream_id, nva_.data(), nva_.size(),
                                           opts_.body ? &reader : nullptr, nullptr);
      rv != 0) {
    fail_h3(rv);
    return false;
  }
  const uint64_t now = monotonic_ns();
  if (requests_.empty()) last_activity_ns_ = now;  // --timeout counts from the first request
  Request r;
  r.start_ns = now;
  r.measured = worker_.phase() == Phase::kMain;
  requests_.emplace(stream_id, r);
  if (r.measured) ++stats_.req_started;
  if (!opts_.timing_mode()) --requests_left_;
  return true;
}

void Client::on_h3_consume(int64_t stream_id, size_t len) {
  ngtcp2_conn_extend_max_stream_offset(conn_.get(), stream_id, len);
  ngtcp2_conn_extend_max_offset(conn_.get(), len);
}

void Client::on_h3_recv_body(int64_t stream_id, size_t len) {
  on_h3_consume(stream_id, len);
  auto it = requests_.find(stream_id);
  if (it == requests_.end()) return;
  it->second.body_bytes += len;
  if (it->second.measured) stats_.bytes_body += len;
}

void Client::on_h3_begin_headers(int64_t stream_id) {
  if (!got_first_byte_) {
    got_first_byte_ = true;
    stats_.ttfb.add(static_cast<double>(monotonic_ns() - connect_start_ns_) / 1e9);
  }
  auto it = requests_.find(stream_id);
  if (it != requests_.end() && it->second.measured) {
    stats_.bytes_head += nghttp3_conn_get_frame_payload_left(h3_.get(), stream_id);
  }
}

void Client::on_h3_header(int64_t stream_id, int32_t token, nghttp3_rcbuf* name,
                          nghttp3_rcbuf* value) {
  auto it = requests_.find(stream_id);
  if (it == requests_.end()) return;
  const nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
  if (it->second.measured) stats_.bytes_head_decomp += nghttp3_rcbuf_get_buf(name).len + v.len;
  if (token == NGHTTP3_QPACK_TOKEN__STATUS && v.len == 3) {
    // Final status wins: a 1xx before it is overwritten.
    it->second.status = (v.base[0] - '0') * 100 + (v.base[1] - '0') * 10 + (v.base[2] - '0');
  }
}

int Client::on_h3_stream_close(int64_t stream_id, uint64_t app_error_code) {
  if (!ngtcp2_is_bidi_stream(stream_id)) {  // a server uni stream: let it open another
    ngtcp2_conn_extend_max_streams_uni(conn_.get(), 1);
    return 0;
  }
  auto it = requests_.find(stream_id);
  if (it == requests_.end()) return 0;
  const Request r = it->second;
  requests_.erase(it);

  const bool complete = app_error_code == NGHTTP3_H3_NO_ERROR && r.status >= 100;
  bool ok = complete && r.status >= 200 && r.status < 400;
  if (ok && opts_.check_size && r.body_bytes != *opts_.check_size) {
    ok = false;
    if (r.measured) ++stats_.size_mismatch;
  }
  if (complete) losses_in_a_row_ = 0;
  if (r.measured) {
    ++stats_.req_done;
    stats_.last_done_ns = monotonic_ns();
    if (complete) {
      ++stats_.req_completed;
      ++completed_;
      last_completed_ns_ = monotonic_ns();
      stats_.request_time.add(static_cast<double>(monotonic_ns() - r.start_ns) / 1e9);
      if (r.status / 100 < static_cast<int>(stats_.status.size())) ++stats_.status[r.status / 100];
      ++(ok ? stats_.req_status_success : stats_.req_failed);
    } else {
      ++stats_.req_failed;
      ++stats_.req_errored;
    }
  }
  if (opts_.verbose) log_closed_request(stream_id, r, app_error_code, ok);
  return 0;
}

void Client::log_closed_request(int64_t stream_id, const Request& r, uint64_t app_error_code,
                                bool ok) {
  fmt::print(stderr, "client {}: stream {} {} status {} body {} bytes in {:.3f} ms{}{}\n",
             index_, stream_id, ok ? "ok" : "FAILED", r.status, r.body_bytes,
             static_cast<double>(monotonic_ns() - r.start_ns) / 1e6,
             app_error_code == NGHTTP3_H3_NO_ERROR ? "" : " app error ",
             app_error_code == NGHTTP3_H3_NO_ERROR ? "" : fmt::format("{:#x}", app_error_code));
}

int Client::on_h3_stop_sending(int64_t stream_id, uint64_t app_error_code) {
  if (ngtcp2_conn_shutdown_stream_read(conn_.get(), stream_id, app_error_code) != 0) {
    return NGHTTP3_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

int Client::on_h3_reset_stream(int64_t stream_id, uint64_t app_error_code) {
  if (ngtcp2_conn_shutdown_stream_write(conn_.get(), stream_id, app_error_code) != 0) {
    return NGHTTP3_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

void Client::on_h3_goaway() {
  // The server is shutting down gracefully: finish what is in flight, then settle() closes this
  // connection and opens a new one if work remains (not an error).
  if (opts_.verbose) fmt::print(stderr, "client {}: GOAWAY received\n", index_);
  goaway_ = true;
}

}  // namespace h3load
