// Client: connection lifecycle and the ngtcp2 callbacks. Packet I/O and timers are in
// client_io.cc, HTTP/3 in client_h3.cc.
#include "h3load/client.h"

#include <fmt/format.h>
#include <gnutls/crypto.h>
#include <nghttp3/nghttp3.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "base/clock.h"
#include "h3load/options.h"
#include "h3load/stats.h"
#include "h3load/worker.h"

namespace h3load {

using mirror::monotonic_ns;

namespace {

Client* self(void* user_data) { return static_cast<Client*>(user_data); }

ngtcp2_conn* get_conn(ngtcp2_crypto_conn_ref* ref) noexcept { return self(ref->user_data)->conn(); }

int handshake_completed(ngtcp2_conn*, void* ud) noexcept { return self(ud)->on_handshake_completed(); }

int recv_stream_data(ngtcp2_conn*, uint32_t flags, int64_t stream_id, uint64_t, const uint8_t* data,
                     size_t len, void* ud, void*) noexcept {
  return self(ud)->on_recv_stream_data(flags, stream_id, data, len);
}

int acked_stream_data_offset(ngtcp2_conn*, int64_t stream_id, uint64_t, uint64_t len, void* ud,
                             void*) noexcept {
  return self(ud)->on_acked_stream_data(stream_id, len);
}

int stream_close(ngtcp2_conn*, uint32_t flags, int64_t stream_id, uint64_t app_error_code,
                 void* ud, void*) noexcept {
  return self(ud)->on_stream_close(flags, stream_id, app_error_code);
}

int stream_reset(ngtcp2_conn*, int64_t stream_id, uint64_t, uint64_t, void* ud, void*) noexcept {
  return self(ud)->on_stream_reset(stream_id);
}

int stream_stop_sending(ngtcp2_conn*, int64_t stream_id, uint64_t, void* ud, void*) noexcept {
  return self(ud)->on_stream_reset(stream_id);
}

int extend_max_local_streams_bidi(ngtcp2_conn*, uint64_t max_streams, void* ud) noexcept {
  return self(ud)->on_extend_max_local_streams_bidi(max_streams);
}

int extend_max_stream_data(ngtcp2_conn*, int64_t stream_id, uint64_t, void* ud, void*) noexcept {
  return self(ud)->on_extend_max_stream_data(stream_id);
}

int recv_rx_key(ngtcp2_conn*, ngtcp2_crypto_level level, void* ud) noexcept {
  return self(ud)->on_recv_rx_key(level);
}

void rand_bytes(uint8_t* dest, size_t len, const ngtcp2_rand_ctx*) noexcept {
  gnutls_rnd(GNUTLS_RND_NONCE, dest, len);
}

int get_new_connection_id(ngtcp2_conn*, ngtcp2_cid* cid, uint8_t* token, size_t cidlen,
                          void*) noexcept {
  if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, cidlen) != 0 ||
      gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0) {
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  cid->datalen = cidlen;
  return 0;
}

// ngtcp2 0.12.1 has 40 callbacks; every one is named so a version skew cannot misalign them.
constexpr ngtcp2_callbacks kCallbacks{
    .client_initial = ngtcp2_crypto_client_initial_cb,
    .recv_client_initial = nullptr,
    .recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
    .handshake_completed = handshake_completed,
    .recv_version_negotiation = nullptr,
    .encrypt = ngtcp2_crypto_encrypt_cb,
    .decrypt = ngtcp2_crypto_decrypt_cb,
    .hp_mask = ngtcp2_crypto_hp_mask_cb,
    .recv_stream_data = recv_stream_data,
    .acked_stream_data_offset = acked_stream_data_offset,
    .stream_open = nullptr,
    .stream_close = stream_close,
    .recv_stateless_reset = nullptr,
    .recv_retry = ngtcp2_crypto_recv_retry_cb,
    .extend_max_local_streams_bidi = extend_max_local_streams_bidi,
    .extend_max_local_streams_uni = nullptr,
    .rand = rand_bytes,
    .get_new_connection_id = get_new_connection_id,
    .remove_connection_id = nullptr,
    .update_key = ngtcp2_crypto_update_key_cb,
    .path_validation = nullptr,
    .select_preferred_addr = nullptr,
    .stream_reset = stream_reset,
    .extend_max_remote_streams_bidi = nullptr,
    .extend_max_remote_streams_uni = nullptr,
    .extend_max_stream_data = extend_max_stream_data,
    .dcid_status = nullptr,
    .handshake_confirmed = nullptr,
    .recv_new_token = nullptr,
    .delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
    .delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
    .recv_datagram = nullptr,
    .ack_datagram = nullptr,
    .lost_datagram = nullptr,
    .get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
    .stream_stop_sending = stream_stop_sending,
    .version_negotiation = ngtcp2_crypto_version_negotiation_cb,
    .recv_rx_key = recv_rx_key,
    .recv_tx_key = nullptr,
    .early_data_rejected = nullptr,
};

void readcb(struct ev_loop*, ev_io* w, int) noexcept { self(w->data)->on_readable(); }
void writecb(struct ev_loop*, ev_io* w, int) noexcept { self(w->data)->on_writable(); }
void expirycb(struct ev_loop*, ev_timer* w, int) noexcept { self(w->data)->on_expiry(); }
void inactivitycb(struct ev_loop*, ev_timer* w, int) noexcept { self(w->data)->on_inactivity(); }
void lingercb(struct ev_loop*, ev_timer* w, int) noexcept { self(w->data)->on_linger_over(); }

// H3LOAD_NGTCP2_LOG=FILE: ngtcp2's own debug log (huge; for chasing protocol problems).
FILE* ngtcp2_log_file() {
  static FILE* f = std::fopen(std::getenv("H3LOAD_NGTCP2_LOG"), "w");
  return f;
}

void ngtcp2_log(void*, const char* format, ...) noexcept {
  FILE* f = ngtcp2_log_file();
  if (!f) return;
  flockfile(f);  // one whole line per call, even with several threads
  va_list ap;
  va_start(ap, format);
  std::vfprintf(f, format, ap);
  va_end(ap);
  std::fputc('\n', f);
  funlockfile(f);
}

double seconds_since(uint64_t start_ns, uint64_t now_ns) {
  return now_ns > start_ns ? static_cast<double>(now_ns - start_ns) / 1e9 : 0.0;
}

}  // namespace

Client::Client(Worker& worker, size_t index, uint64_t requests)
    : worker_(worker),
      opts_(worker.options()),
      stats_(worker.stats()),
      index_(index),
      requests_left_(requests) {
  ev_init(&rev_, readcb);
  rev_.data = this;
  ev_init(&wev_, writecb);
  wev_.data = this;
  ev_init(&expiry_timer_, expirycb);
  expiry_timer_.data = this;
  ev_init(&inactivity_timer_, inactivitycb);
  inactivity_timer_.data = this;
  ev_init(&linger_timer_, lingercb);
  linger_timer_.data = this;
  build_request_headers();
}

Client::~Client() { teardown(); }

void Client::start() {
  if (!connect()) {
    end_connection(End::kLost, false);
    return;
  }
  after_io();
}

void Client::stop() {
  if (state_ == State::kFinished) return;
  if (!conn_) {
    finish();
    return;
  }
  ngtcp2_connection_close_error_set_application_error(&last_error_, NGHTTP3_H3_NO_ERROR, nullptr,
                                                      0);
  end_connection(End::kStopped, true);
}

bool Client::has_work() const {
  if (opts_.timing_mode()) return worker_.phase() != Phase::kOver;
  return requests_left_ > 0;
}

bool Client::connect() {
  ++stats_.connections;
  connect_start_ns_ = monotonic_ns();
  if (first_start_ns_ == 0) first_start_ns_ = connect_start_ns_;
  handshake_done_ = goaway_ = got_first_byte_ = false;
  ngtcp2_connection_close_error_default(&last_error_);
  state_ = State::kHandshake;

  remote_ = worker_.remote();
  auto fd = open_udp_socket(remote_, local_);
  if (!fd) {
    fmt::print(stderr, "client {}: {}\n", index_, fd.error().message);
    return false;
  }
  fd_ = std::move(fd.value());

  ngtcp2_cid scid, dcid;
  scid.datalen = 17;
  dcid.datalen = 18;
  if (gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen) != 0 ||
      gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen) != 0) {
    return false;
  }

  ngtcp2_settings settings;
  ngtcp2_settings_default(&settings);
  if (std::getenv("H3LOAD_NGTCP2_LOG")) settings.log_printf = ngtcp2_log;
  settings.initial_ts = monotonic_ns();
  settings.cc_algo = opts_.cc;
  settings.initial_rtt = opts_.initial_rtt_ns;
  settings.max_window = opts_.max_window;
  settings.max_stream_window = opts_.max_stream_window;
  settings.handshake_timeout = opts_.connect_timeout_ns ? opts_.connect_timeout_ns : UINT64_MAX;
  if (opts_.max_udp_payload_size) {
    settings.max_tx_udp_payload_size = opts_.max_udp_payload_size;
    settings.no_tx_udp_payload_size_shaping = 1;
  }

  ngtcp2_transport_params params;
  ngtcp2_transport_params_default(&params);
  params.initial_max_stream_data_bidi_local = opts_.max_stream_data;
  params.initial_max_stream_data_bidi_remote = opts_.max_stream_data;
  params.initial_max_stream_data_uni = opts_.max_stream_data;
  params.initial_max_data = opts_.max_data;
  params.initial_max_streams_bidi = 0;  // the server never opens request streams to us
  params.initial_max_streams_uni = 100;
  params.max_idle_timeout = opts_.idle_timeout_ns;
  params.active_connection_id_limit = 7;
  params.max_udp_payload_size = RecvBatch::kSlotSize;  // what one receive slot can hold

  const ngtcp2_path path{{local_.sa(), local_.len}, {remote_.sa(), remote_.len}, nullptr};
  ngtcp2_conn* conn = nullptr;
  if (int rv = ngtcp2_conn_client_new(&conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &kCallbacks,
                                      &settings, &params, nullptr, this);
      rv != 0) {
    fmt::print(stderr, "client {}: ngtcp2_conn_client_new: {}\n", index_, ngtcp2_strerror(rv));
    return false;
  }
  conn_.reset(conn);

  conn_ref_ = {get_conn, this};
  auto tls = make_tls_session(worker_.credentials(), opts_.sni, &conn_ref_);
  if (!tls) {
    fmt::print(stderr, "client {}: {}\n", index_, tls.error().message);
    return false;
  }
  tls_ = std::move(tls.value());
  ngtcp2_conn_set_tls_native_handle(conn_.get(), tls_.get());

  ev_io_set(&rev_, fd_.get(), EV_READ);
  ev_io_set(&wev_, fd_.get(), EV_WRITE);
  ev_io_start(worker_.loop(), &rev_);
  if (opts_.verbose) fmt::print(stderr, "client {}: connecting\n", index_);
  return true;
}

void Client::teardown() {
  struct ev_loop* loop = worker_.loop();
  ev_io_stop(loop, &rev_);
  ev_io_stop(loop, &wev_);
  ev_timer_stop(loop, &expiry_timer_);
  ev_timer_stop(loop, &inactivity_timer_);
  ev_timer_stop(loop, &linger_timer_);
  requests_.clear();
  tx_.reset(0);
  h3_.reset();  // nghttp3 first, then QUIC, then TLS, then the socket
  conn_.reset();
  tls_.reset();
  fd_.reset();
}

int Client::on_recv_rx_key(ngtcp2_crypto_level level) {
  // Set up HTTP/3 as soon as 1-RTT keys exist: the server's control stream can arrive in the
  // same flight as its handshake, before handshake_completed fires.
  if (level != NGTCP2_CRYPTO_LEVEL_APPLICATION) return 0;
  return setup_h3() ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

int Client::on_handshake_completed() {
  const uint64_t now = monotonic_ns();
  handshake_done_ = true;
  state_ = State::kConnected;
  stats_.connect_time.add(seconds_since(connect_start_ns_, now));
  if (opts_.verbose) {
    fmt::print(stderr, "client {}: connected in {:.3f} ms\n", index_,
               seconds_since(connect_start_ns_, now) * 1e3);
  }
  if (opts_.inactivity_timeout_ns) {
    last_activity_ns_ = now;
    ev_timer_set(&inactivity_timer_, opts_.inactivity_timeout_ns / 1e9, 0.);
    ev_timer_start(worker_.loop(), &inactivity_timer_);
  }
  return 0;
}

int Client::on_extend_max_local_streams_bidi(uint64_t max_streams) {
  // New stream credit (initial TP or MAX_STREAMS): fill_requests() runs after the packets of
  // this read are processed and uses it.
  if (opts_.verbose) {
    fmt::print(stderr, "client {}: stream limit now {}\n", index_, max_streams);
  }
  return 0;
}

int Client::on_recv_stream_data(uint32_t flags, int64_t stream_id, const uint8_t* data,
                                size_t len) {
  if (!h3_) return NGTCP2_ERR_CALLBACK_FAILURE;
  if (worker_.phase() == Phase::kMain) stats_.bytes_total += len;
  if (opts_.inactivity_timeout_ns) last_activity_ns_ = monotonic_ns();
  const nghttp3_ssize consumed =
      nghttp3_conn_read_stream(h3_.get(), stream_id, data, len, flags & NGTCP2_STREAM_DATA_FLAG_FIN);
  if (consumed < 0) {
    if (opts_.verbose) {
      fmt::print(stderr, "client {}: nghttp3_conn_read_stream: {}\n", index_,
                 nghttp3_strerror(static_cast<int>(consumed)));
    }
    ngtcp2_connection_close_error_set_application_error(
        &last_error_, nghttp3_err_infer_quic_app_error_code(static_cast<int>(consumed)), nullptr,
        0);
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  // Bytes nghttp3 consumed itself (framing, QPACK); body bytes are credited in on_h3_recv_body.
  ngtcp2_conn_extend_max_stream_offset(conn_.get(), stream_id, static_cast<uint64_t>(consumed));
  ngtcp2_conn_extend_max_offset(conn_.get(), static_cast<uint64_t>(consumed));
  return 0;
}

int Client::on_acked_stream_data(int64_t stream_id, uint64_t len) {
  if (h3_ && nghttp3_conn_add_ack_offset(h3_.get(), stream_id, len) != 0) {
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

int Client::on_stream_close(uint32_t flags, int64_t stream_id, uint64_t app_error_code) {
  if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET)) app_error_code = NGHTTP3_H3_NO_ERROR;
  if (!h3_) return 0;
  const int rv = nghttp3_conn_close_stream(h3_.get(), stream_id, app_error_code);
  if (rv == 0) return 0;
  if (rv == NGHTTP3_ERR_STREAM_NOT_FOUND) {
    // nghttp3 never saw this stream (no data flowed). A request stream still gets accounted.
    if (!ngtcp2_is_bidi_stream(stream_id)) {
      ngtcp2_conn_extend_max_streams_uni(conn_.get(), 1);
      return 0;
    }
    return on_h3_stream_close(stream_id, app_error_code == NGHTTP3_H3_NO_ERROR
                                             ? NGHTTP3_H3_INTERNAL_ERROR
                                             : app_error_code);
  }
  ngtcp2_connection_close_error_set_application_error(
      &last_error_, nghttp3_err_infer_quic_app_error_code(rv), nullptr, 0);
  return NGTCP2_ERR_CALLBACK_FAILURE;
}

int Client::on_stream_reset(int64_t stream_id) {
  if (h3_ && nghttp3_conn_shutdown_stream_read(h3_.get(), stream_id) != 0) {
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

int Client::on_extend_max_stream_data(int64_t stream_id) {
  if (h3_ && nghttp3_conn_unblock_stream(h3_.get(), stream_id) != 0) {
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

void Client::end_connection(End how, bool send_close) {
  if (send_close) send_connection_close();
  if (how != End::kStopped) {
    // In-flight requests die with the connection (h2load counts them failed and errored).
    for (const auto& [stream_id, r] : requests_) {
      if (!r.measured) continue;
      ++stats_.req_failed;
      ++stats_.req_errored;
      if (how == End::kTimedOut) ++stats_.req_timedout;
    }
  }
  if (how == End::kLost) {
    ++(handshake_done_ ? stats_.connection_errors : stats_.connect_failures);
    ++losses_in_a_row_;
    if (opts_.verbose) {
      fmt::print(stderr, "client {}: connection lost ({}), {} requests in flight\n", index_,
                 handshake_done_ ? "after handshake" : "during handshake", requests_.size());
    }
  }
  teardown();
  state_ = State::kIdle;

  bool reconnect = false;
  if (how == End::kDrained) reconnect = has_work();
  // Reconnect after a loss only if this server has completed a handshake with us, and give up
  // after three connections in a row died without finishing a single request.
  if (how == End::kLost) reconnect = handshake_done_ && has_work() && losses_in_a_row_ < 3;
  if (reconnect) {
    if (connect()) {
      after_io();
      return;
    }
    teardown();
    ++stats_.connect_failures;
  }
  finish();
}

void Client::finish() {
  state_ = State::kFinished;
  // Per-client rate over its active span: first connection (or main phase) to last response.
  const uint64_t start = std::max(first_start_ns_, worker_.main_start_ns());
  if (completed_ > 0 && last_completed_ns_ > start) {
    stats_.client_rps.add(static_cast<double>(completed_) /
                          seconds_since(start, last_completed_ns_));
  }
  if (opts_.verbose) fmt::print(stderr, "client {}: finished\n", index_);
  worker_.on_client_finished();
}

}  // namespace h3load
