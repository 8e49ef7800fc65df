#include "quic/connection.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

#include "base/clock.h"
#include "quic/cid.h"
#include "quic/shared.h"
#include "quic/tls_session.h"
#include "quic/token.h"
#include "quic/udp_socket.h"

namespace mirror::quic {
namespace {

Connection* self(void* user_data) { return static_cast<Connection*>(user_data); }

int recv_stream_data_cb(ngtcp2_conn*, uint32_t flags, int64_t sid, uint64_t, const uint8_t* data,
                        size_t len, void* ud, void*) noexcept {
  return self(ud)->on_recv_stream_data(flags, sid, data, len);
}
int acked_stream_data_cb(ngtcp2_conn*, int64_t sid, uint64_t, uint64_t len, void* ud,
                         void*) noexcept {
  return self(ud)->on_acked_stream_data(sid, len);
}
int stream_close_cb(ngtcp2_conn*, uint32_t flags, int64_t sid, uint64_t code, void* ud,
                    void*) noexcept {
  return self(ud)->on_stream_close(flags, sid, code);
}
int stream_reset_cb(ngtcp2_conn*, int64_t sid, uint64_t, uint64_t code, void* ud, void*) noexcept {
  return self(ud)->on_stream_reset(sid, code);
}
int stream_stop_sending_cb(ngtcp2_conn*, int64_t sid, uint64_t code, void* ud, void*) noexcept {
  return self(ud)->on_stream_stop_sending(sid, code);
}
int extend_max_remote_streams_bidi_cb(ngtcp2_conn*, uint64_t max, void* ud) noexcept {
  return self(ud)->on_extend_max_remote_streams_bidi(max);
}
int extend_max_stream_data_cb(ngtcp2_conn*, int64_t sid, uint64_t, void* ud, void*) noexcept {
  return self(ud)->on_extend_max_stream_data(sid);
}
int handshake_completed_cb(ngtcp2_conn*, void* ud) noexcept {
  return self(ud)->on_handshake_completed();
}
int recv_tx_key_cb(ngtcp2_conn*, ngtcp2_crypto_level level, void* ud) noexcept {
  return self(ud)->on_recv_tx_key(level);
}
int get_new_connection_id_cb(ngtcp2_conn*, ngtcp2_cid* cid, uint8_t* token, size_t cidlen,
                             void* ud) noexcept {
  return self(ud)->on_get_new_connection_id(cid, token, cidlen);
}
int remove_connection_id_cb(ngtcp2_conn*, const ngtcp2_cid* cid, void* ud) noexcept {
  return self(ud)->on_remove_connection_id(cid);
}
int path_validation_cb(ngtcp2_conn*, uint32_t, const ngtcp2_path* path,
                       ngtcp2_path_validation_result res, void* ud) noexcept {
  return self(ud)->on_path_validation(path, res);
}
int recv_datagram_cb(ngtcp2_conn*, uint32_t, const uint8_t*, size_t, void* ud) noexcept {
  return self(ud)->on_recv_datagram();
}
void rand_cb(uint8_t* dest, size_t len, const ngtcp2_rand_ctx*) noexcept {
  // Used for packet padding/PN skips etc.; nonce-grade randomness is enough and cheaper.
  gnutls_rnd(GNUTLS_RND_NONCE, dest, len);
}
void qlog_cb(void* ud, uint32_t flags, const void* data, size_t len) noexcept {
  self(ud)->on_qlog(flags, data, len);
}
// MIRROR_NGTCP2_LOG=1 in the environment: ngtcp2's own debug log on stderr (development aid).
void ngtcp2_log_cb(void*, const char* fmt, ...) noexcept {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

ngtcp2_conn* get_conn_cb(ngtcp2_crypto_conn_ref* ref) noexcept {
  return static_cast<Connection*>(ref->user_data)->conn_for_crypto();
}

constexpr ngtcp2_callbacks kCallbacks = {
    .client_initial = nullptr,
    .recv_client_initial = ngtcp2_crypto_recv_client_initial_cb,
    .recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
    .handshake_completed = handshake_completed_cb,
    .recv_version_negotiation = nullptr,
    .encrypt = ngtcp2_crypto_encrypt_cb,
    .decrypt = ngtcp2_crypto_decrypt_cb,
    .hp_mask = ngtcp2_crypto_hp_mask_cb,
    .recv_stream_data = recv_stream_data_cb,
    .acked_stream_data_offset = acked_stream_data_cb,
    .stream_open = nullptr,
    .stream_close = stream_close_cb,
    .recv_stateless_reset = nullptr,
    .recv_retry = nullptr,
    .extend_max_local_streams_bidi = nullptr,
    .extend_max_local_streams_uni = nullptr,
    .rand = rand_cb,
    .get_new_connection_id = get_new_connection_id_cb,
    .remove_connection_id = remove_connection_id_cb,
    .update_key = ngtcp2_crypto_update_key_cb,
    .path_validation = path_validation_cb,
    .select_preferred_addr = nullptr,
    .stream_reset = stream_reset_cb,
    .extend_max_remote_streams_bidi = extend_max_remote_streams_bidi_cb,
    .extend_max_remote_streams_uni = nullptr,
    .extend_max_stream_data = extend_max_stream_data_cb,
    .dcid_status = nullptr,
    .handshake_confirmed = nullptr,
    .recv_new_token = nullptr,
    .delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
    .delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
    .recv_datagram = recv_datagram_cb,
    .ack_datagram = nullptr,
    .lost_datagram = nullptr,
    .get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
    .stream_stop_sending = stream_stop_sending_cb,
    .version_negotiation = ngtcp2_crypto_version_negotiation_cb,
    .recv_rx_key = nullptr,
    .recv_tx_key = recv_tx_key_cb,
    .early_data_rejected = nullptr,
};

ngtcp2_cc_algo cc_algo(CongestionControl cc) {
  switch (cc) {
    case CongestionControl::kReno: return NGTCP2_CC_ALGO_RENO;
    case CongestionControl::kCubic: return NGTCP2_CC_ALGO_CUBIC;
    case CongestionControl::kBbr: return NGTCP2_CC_ALGO_BBR;
    case CongestionControl::kBbr2: return NGTCP2_CC_ALGO_BBR2;
  }
  return NGTCP2_CC_ALGO_CUBIC;
}

constexpr uint64_t ms_to_ns(std::chrono::milliseconds ms) {
  return static_cast<uint64_t>(ms.count()) * NGTCP2_MILLISECONDS;
}

}  // namespace

Connection::Connection(ConnectionHost& host, const ApplicationFactory& factory)
    : host_(host), factory_(factory) {
  conn_ref_.get_conn = get_conn_cb;
  conn_ref_.user_data = this;
  ngtcp2_connection_close_error_default(&last_error_);
}

Connection::~Connection() {
  timer_.stop();
  close_timer_.stop();
  shutdown_timer_.stop();
  if (app_) app_->connection_lost();
  // Application first (it uses the connection), then the ngtcp2 connection (its destructor may
  // still write the last qlog record and refers to the TLS session), then TLS, then the qlog file.
  app_.reset();
  conn_.reset();
  tls_.reset();
  if (qlog_) fclose(qlog_);
}

Result<std::unique_ptr<Connection>> Connection::create(ConnectionHost& host,
                                                       const ApplicationFactory& factory,
                                                       const Accept& a) {
  std::unique_ptr<Connection> c(new Connection(host, factory));
  if (auto r = c->init(a); !r) return r.error();
  return c;
}

const Options& Connection::options() const { return host_.options(); }
Counters& Connection::counters() { return host_.counters(); }
struct ev_loop* Connection::loop() const { return host_.loop(); }

Result<void> Connection::init(const Accept& a) {
  const Options& opt = host_.options();
  const Shared& shared = host_.shared();
  auto now = monotonic_ns();

  scid_ = shared.cid_codec().make(host_.worker_id());
  const ngtcp2_cid& odcid = a.odcid ? *a.odcid : a.hd->dcid;
  odcid_hex_ = cid_hex(odcid);

  ngtcp2_settings settings;
  ngtcp2_settings_default(&settings);
  settings.initial_ts = now;
  if (getenv("MIRROR_NGTCP2_LOG")) settings.log_printf = ngtcp2_log_cb;
  settings.cc_algo = cc_algo(opt.congestion_control);
  settings.max_window = opt.max_connection_receive_window;
  settings.max_stream_window = opt.max_stream_receive_window;
  settings.handshake_timeout = ms_to_ns(opt.handshake_idle_timeout);
  settings.token = ngtcp2_vec{const_cast<uint8_t*>(a.token.data()), a.token.size()};
  if (!opt.qlog_dir.empty()) {
    std::string path = opt.qlog_dir + "/" + odcid_hex_ + ".sqlog";
    qlog_ = fopen(path.c_str(), "we");
    if (qlog_) {
      settings.qlog.write = qlog_cb;
      settings.qlog.odcid = odcid;
    } else {
      spdlog::warn("quic: cannot open qlog file {}: {}", path, strerror(errno));
    }
  }

  ngtcp2_transport_params params;
  ngtcp2_transport_params_default(&params);
  params.initial_max_stream_data_bidi_local = opt.initial_stream_receive_window;
  params.initial_max_stream_data_bidi_remote = opt.initial_stream_receive_window;
  params.initial_max_stream_data_uni = opt.initial_stream_receive_window;
  params.initial_max_data = opt.initial_connection_receive_window;
  params.initial_max_streams_bidi = opt.max_incoming_streams;
  params.initial_max_streams_uni = opt.max_incoming_uni_streams;
  params.max_idle_timeout = ms_to_ns(opt.max_idle_timeout);
  params.active_connection_id_limit = 7;
  params.max_datagram_frame_size = opt.enable_datagrams ? 65535 : 0;
  params.grease_quic_bit = 1;
  params.original_dcid = odcid;
  if (a.odcid) {
    params.retry_scid = a.hd->dcid;
    params.retry_scid_present = 1;
  }
  // Derived from the static secret so any worker can later send a stateless reset for this CID.
  if (ngtcp2_crypto_generate_stateless_reset_token(params.stateless_reset_token,
                                                   shared.static_secret.data(),
                                                   shared.static_secret.size(), &scid_) != 0) {
    return make_error("quic.conn", "cannot derive a stateless reset token");
  }
  params.stateless_reset_token_present = 1;

  ngtcp2_path path{a.local->as_ngtcp2(), a.remote->as_ngtcp2(), a.socket};
  ngtcp2_conn* raw = nullptr;
  if (int rv = ngtcp2_conn_server_new(&raw, &a.hd->scid, &scid_, &path, a.hd->version, &kCallbacks,
                                      &settings, &params, nullptr, this);
      rv != 0) {
    return make_error("quic.conn", std::string("ngtcp2_conn_server_new: ") + ngtcp2_strerror(rv));
  }
  conn_.reset(raw);
  auto tls = TlsSession::create(shared, opt.enable_0rtt, &conn_ref_);
  if (!tls) return tls.error();
  tls_ = std::move(tls.value());
  ngtcp2_conn_set_tls_native_handle(raw, tls_->native());
  if (opt.keep_alive_period.count() > 0) {
    ngtcp2_conn_set_keep_alive_timeout(raw, ms_to_ns(opt.keep_alive_period));
  }

  timer_.init(host_.loop(), [this] { on_timer(); });
  close_timer_.init(host_.loop(), [this] { die(); });
  shutdown_timer_.init(host_.loop(), [this] {
    if (app_ && !goaway_sent_) {
      goaway_sent_ = true;
      app_->shutdown();
      signal_write();
    }
  });
  tx_.resize(64 * 1024);
  return {};
}

std::string Connection::peer() const {
  const ngtcp2_path* p = ngtcp2_conn_get_path(conn_.get());
  return address_to_string(p->remote.addr, p->remote.addrlen);
}

void Connection::consume(int64_t stream_id, size_t bytes) {
  if (bytes == 0) return;
  ngtcp2_conn_extend_max_stream_offset(conn_.get(), stream_id, bytes);
  ngtcp2_conn_extend_max_offset(conn_.get(), bytes);
}

void Connection::set_application_error(uint64_t code) {
  if (error_set_) return;
  error_set_ = true;
  ngtcp2_connection_close_error_set_application_error(&last_error_, code, nullptr, 0);
}

void Connection::close_with_application_error(uint64_t code) {
  set_application_error(code);
  close_requested_ = true;
  signal_write();
}

void Connection::signal_write() {
  if (!dead_) host_.schedule_write(this);
}

// --- reading ---

void Connection::on_datagram(std::span<const uint8_t> data, const Address& local,
                             const Address& remote, uint8_t ecn, UdpSocket* socket) {
  if (dead_) return;
  if (ngtcp2_conn_is_in_closing_period(conn_.get())) {
    // Answer (some of) the peer's packets with our CONNECTION_CLOSE again, backing off
    // exponentially so a flood does not turn us into an amplifier.
    ++close_packets_received_;
    if ((close_packets_received_ & (close_packets_received_ - 1)) == 0) send_close_packet();
    return;
  }
  if (ngtcp2_conn_is_in_draining_period(conn_.get())) return;

  ngtcp2_path path{local.as_ngtcp2(), remote.as_ngtcp2(), socket};
  ngtcp2_pkt_info pi{ecn};
  int rv = ngtcp2_conn_read_pkt(conn_.get(), &path, &pi, data.data(), data.size(), monotonic_ns());
  if (rv != 0) {
    switch (rv) {
      case NGTCP2_ERR_DRAINING:
        start_draining_period();
        return;
      case NGTCP2_ERR_RETRY:  // only for the very first packet; the endpoint sends the Retry
        retry_requested_ = true;
        die();
        return;
      case NGTCP2_ERR_DROP_CONN:
        die();
        return;
      case NGTCP2_ERR_CRYPTO:
        if (!error_set_) {
          error_set_ = true;
          ngtcp2_connection_close_error_set_transport_error_tls_alert(
              &last_error_, ngtcp2_conn_get_tls_alert(conn_.get()), nullptr, 0);
        }
        break;
      default:
        if (!error_set_) {
          error_set_ = true;
          ngtcp2_connection_close_error_set_transport_error_liberr(&last_error_, rv, nullptr, 0);
        }
    }
    handle_error();
    return;
  }
  signal_write();
}

// --- timers ---

void Connection::update_timer() {
  if (dead_ || ngtcp2_conn_is_in_closing_period(conn_.get()) ||
      ngtcp2_conn_is_in_draining_period(conn_.get())) {
    return;
  }
  uint64_t expiry = ngtcp2_conn_get_expiry(conn_.get());
  if (expiry == UINT64_MAX) {
    timer_.stop();
    return;
  }
  uint64_t now = monotonic_ns();
  double after = expiry <= now ? 0.0 : static_cast<double>(expiry - now) / 1e9;
  timer_.start(after);
}

void Connection::on_timer() {
  if (dead_) return;
  int rv = ngtcp2_conn_handle_expiry(conn_.get(), monotonic_ns());
  if (rv == NGTCP2_ERR_IDLE_CLOSE) {
    die();  // idle timeout: close silently (RFC 9000 §10.1)
    return;
  }
  if (rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
    counters().handshake_timeouts.fetch_add(1, std::memory_order_relaxed);
    die();
    return;
  }
  if (rv != 0) {
    if (!error_set_) {
      error_set_ = true;
      ngtcp2_connection_close_error_set_transport_error_liberr(&last_error_, rv, nullptr, 0);
    }
    handle_error();
    return;
  }
  write();
}

// --- closing ---

void Connection::handle_error() {
  if (dead_) return;
  if (last_error_.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT_IDLE_CLOSE) {
    die();
    return;
  }
  start_closing_period();
}

void Connection::start_closing_period() {
  if (ngtcp2_conn_is_in_closing_period(conn_.get()) ||
      ngtcp2_conn_is_in_draining_period(conn_.get())) {
    return;
  }
  timer_.stop();
  if (app_) app_->connection_lost();
  finish_handshake_accounting();
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info pi{};
  close_packet_.resize(NGTCP2_MAX_UDP_PAYLOAD_SIZE);
  auto n = ngtcp2_conn_write_connection_close(conn_.get(), &ps.path, &pi, close_packet_.data(),
                                              close_packet_.size(), &last_error_, monotonic_ns());
  if (n <= 0) {
    die();
    return;
  }
  close_packet_.resize(static_cast<size_t>(n));
  send_close_packet();
  close_timer_.start(3.0 * static_cast<double>(ngtcp2_conn_get_pto(conn_.get())) / 1e9);
}

void Connection::start_draining_period() {
  timer_.stop();
  if (app_) app_->connection_lost();
  finish_handshake_accounting();
  close_timer_.start(3.0 * static_cast<double>(ngtcp2_conn_get_pto(conn_.get())) / 1e9);
}

void Connection::send_close_packet() {
  if (close_packet_.empty()) return;
  const ngtcp2_path* p = ngtcp2_conn_get_path(conn_.get());
  auto* sock = static_cast<UdpSocket*>(p->user_data);
  if (sock && sock->send(p->local, p->remote, 0, close_packet_, close_packet_.size()) ==
                  UdpSocket::SendStatus::kOk) {
    counters().datagrams_sent.fetch_add(1, std::memory_order_relaxed);
  }
}

void Connection::die() {
  if (dead_) return;
  dead_ = true;
  timer_.stop();
  close_timer_.stop();
  shutdown_timer_.stop();
  if (app_) app_->connection_lost();
  finish_handshake_accounting();
  host_.reap(this);
}

void Connection::finish_handshake_accounting() {
  if (!handshake_reported_) {
    handshake_reported_ = true;
    host_.handshake_finished(this);
  }
}

// --- shutdown ---

void Connection::request_shutdown() {
  if (dead_ || shutting_down_) return;
  shutting_down_ = true;
  if (!handshake_completed_ || !app_) {
    close_now();
    return;
  }
  app_->shutdown_notice();
  // Step 2 one round trip (at least a few ms) later, so requests already in flight are counted.
  ngtcp2_conn_stat st;
  ngtcp2_conn_get_conn_stat(conn_.get(), &st);
  double rtt = static_cast<double>(st.smoothed_rtt) / 1e9;
  shutdown_timer_.start(std::max(0.005, 2 * rtt));
  signal_write();
}

void Connection::close_now() {
  if (dead_) return;
  set_application_error(app_ ? app_->no_error_code() : 0);
  close_requested_ = true;
  write();
}

void Connection::maybe_finish_shutdown() {
  if (shutting_down_ && goaway_sent_ && app_ && app_->idle()) close_now();
}

// --- application callbacks ---

int Connection::on_recv_stream_data(uint32_t flags, int64_t stream_id, const uint8_t* data,
                                    size_t len) {
  if (!app_) return 0;
  return app_->recv_stream_data(stream_id, {data, len}, flags & NGTCP2_STREAM_DATA_FLAG_FIN,
                                flags & NGTCP2_STREAM_DATA_FLAG_EARLY) == 0
             ? 0
             : NGTCP2_ERR_CALLBACK_FAILURE;
}

int Connection::on_acked_stream_data(int64_t stream_id, uint64_t len) {
  if (!app_) return 0;
  return app_->acked_stream_data(stream_id, len) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

int Connection::on_stream_close(uint32_t flags, int64_t stream_id, uint64_t code) {
  if (!app_) return 0;
  bool set = flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET;
  if (!set) code = app_->no_error_code();
  return app_->stream_close(stream_id, code, set) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

int Connection::on_stream_reset(int64_t stream_id, uint64_t code) {
  if (!app_) return 0;
  return app_->stream_reset(stream_id, code) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

int Connection::on_stream_stop_sending(int64_t stream_id, uint64_t code) {
  if (!app_) return 0;
  return app_->stream_stop_sending(stream_id, code) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

int Connection::on_extend_max_remote_streams_bidi(uint64_t max_streams) {
  if (app_) app_->extend_max_remote_streams_bidi(max_streams);
  return 0;
}

int Connection::on_extend_max_stream_data(int64_t stream_id) {
  if (!app_) return 0;
  return app_->extend_max_stream_data(stream_id) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

int Connection::on_recv_tx_key(ngtcp2_crypto_level level) {
  if (level != NGTCP2_CRYPTO_LEVEL_APPLICATION || app_) return 0;
  app_ = factory_(*this);
  if (!app_ || app_->start() != 0) return NGTCP2_ERR_CALLBACK_FAILURE;
  return 0;
}

int Connection::on_handshake_completed() {
  handshake_completed_ = true;
  auto& c = counters();
  c.handshakes_completed.fetch_add(1, std::memory_order_relaxed);
  if (tls_->early_data_accepted()) c.connections_0rtt.fetch_add(1, std::memory_order_relaxed);
  finish_handshake_accounting();
  if (!tls_->send_ticket()) spdlog::debug("quic {}: cannot send a session ticket", odcid_hex_);
  // NEW_TOKEN: a returning client presents it in its first Initial and skips Retry.
  const ngtcp2_path* p = ngtcp2_conn_get_path(conn_.get());
  auto token = host_.shared().token_sealer().make_regular_token(p->remote.addr, p->remote.addrlen,
                                                                wall_clock_ns());
  if (!token.empty()) ngtcp2_conn_submit_new_token(conn_.get(), token.data(), token.size());
  if (app_) app_->handshake_completed();
  return 0;
}

int Connection::on_get_new_connection_id(ngtcp2_cid* cid, uint8_t* token, size_t cidlen) {
  const Shared& shared = host_.shared();
  *cid = shared.cid_codec().make(host_.worker_id());
  if (ngtcp2_crypto_generate_stateless_reset_token(token, shared.static_secret.data(),
                                                   shared.static_secret.size(), cid) != 0) {
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  host_.associate_cid(*cid, this);
  return 0;
}

int Connection::on_remove_connection_id(const ngtcp2_cid* cid) {
  host_.dissociate_cid(*cid);
  return 0;
}

int Connection::on_path_validation(const ngtcp2_path* path, ngtcp2_path_validation_result res) {
  if (res == NGTCP2_PATH_VALIDATION_RESULT_SUCCESS) {
    counters().path_migrations.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("quic {}: path validated to {}", odcid_hex_,
                  address_to_string(path->remote.addr, path->remote.addrlen));
  }
  return 0;
}

int Connection::on_recv_datagram() {
  counters().quic_datagram_frames_received.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

void Connection::on_qlog(uint32_t flags, const void* data, size_t len) {
  if (!qlog_) return;
  fwrite(data, 1, len, qlog_);
  if (flags & NGTCP2_QLOG_WRITE_FLAG_FIN) {
    fclose(qlog_);
    qlog_ = nullptr;
  }
}

}  // namespace mirror::quic
