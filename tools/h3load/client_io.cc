// Client: packet I/O (recvmmsg / ngtcp2 write loop / sendmmsg), timers and connection errors.
// Lifecycle and the ngtcp2 callbacks are in client.cc, HTTP/3 in client_h3.cc.
#include <fmt/format.h>
#include <nghttp3/nghttp3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "base/clock.h"
#include "h3load/client.h"
#include "h3load/stats.h"
#include "h3load/worker.h"

namespace h3load {

using mirror::monotonic_ns;

namespace {

// Datagrams read between two chances to send (mostly ACKs) while draining the socket.
constexpr size_t kAckEvery = 16;

}  // namespace

void Client::on_readable() {
  ngtcp2_path path{{local_.sa(), local_.len}, {remote_.sa(), remote_.len}, nullptr};
  ngtcp2_pkt_info pi{};
  RecvBatch& rx = worker_.rx();
  size_t unacked = 0;
  // Drain the socket in batches, but yield after a while so other connections get a turn.
  for (int round = 0; round < 16; ++round) {
    const int n = rx.receive(fd_.get());
    if (n < 0) {
      if (opts_.verbose) fmt::print(stderr, "client {}: recv: {}\n", index_, std::strerror(-n));
      end_connection(End::kLost, false);
      return;
    }
    if (n > 0 && opts_.verbose) note_rx_gap();
    for (int i = 0; i < n; ++i) {
      ++stats_.udp_recv;
      if (rx.truncated(i)) continue;  // larger than we advertised: not a packet we can use
      const int rv = ngtcp2_conn_read_pkt(conn_.get(), &path, &pi, rx.data(i), rx.size(i),
                                          monotonic_ns());
      if (rv != 0) {
        on_read_error(rv);
        return;
      }
      // Acknowledge every few datagrams instead of once per drained socket: a sender limited
      // by its congestion window otherwise idles until the whole window has been read.
      if (++unacked == kAckEvery) {
        unacked = 0;
        if (!write_packets()) return;
      }
    }
    if (static_cast<size_t>(n) < RecvBatch::kMessages) break;
  }
  after_io();
}

void Client::note_rx_gap() {
  // -v diagnostic for stalls: how long the peer was silent and what our side thought of it.
  const uint64_t now = monotonic_ns();
  if (last_rx_ns_ && now - last_rx_ns_ > 100'000'000) {
    ngtcp2_conn_stat cs;
    ngtcp2_conn_get_conn_stat(conn_.get(), &cs);
    fmt::print(stderr,
               "client {}: no datagram for {:.1f} ms (srtt {:.2f} ms, pto_count {}, "
               "bytes_in_flight {}, cwnd {}, {} requests in flight)\n",
               index_, static_cast<double>(now - last_rx_ns_) / 1e6,
               static_cast<double>(cs.smoothed_rtt) / 1e6, cs.pto_count, cs.bytes_in_flight,
               cs.cwnd, requests_.size());
  }
  last_rx_ns_ = now;
}

void Client::on_read_error(int rv) {
  if (opts_.verbose) {
    fmt::print(stderr, "client {}: ngtcp2_conn_read_pkt: {}\n", index_, ngtcp2_strerror(rv));
  }
  if (rv == NGTCP2_ERR_DRAINING) {  // the server closed the connection
    end_connection(requests_.empty() && handshake_done_ ? End::kDrained : End::kLost, false);
    return;
  }
  if (!last_error_.error_code) {
    if (rv == NGTCP2_ERR_CRYPTO) {
      ngtcp2_connection_close_error_set_transport_error_tls_alert(
          &last_error_, ngtcp2_conn_get_tls_alert(conn_.get()), nullptr, 0);
    } else {
      ngtcp2_connection_close_error_set_transport_error_liberr(&last_error_, rv, nullptr, 0);
    }
  }
  end_connection(End::kLost, true);
}

void Client::on_writable() { after_io(); }

void Client::on_expiry() {
  const int rv = ngtcp2_conn_handle_expiry(conn_.get(), monotonic_ns());
  if (rv != 0) {
    if (opts_.verbose) fmt::print(stderr, "client {}: {}\n", index_, ngtcp2_strerror(rv));
    if (rv == NGTCP2_ERR_IDLE_CLOSE || rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
      end_connection(End::kLost, false);  // nothing to tell a silent peer
    } else {
      fail(rv);
    }
    return;
  }
  after_io();
}

void Client::on_inactivity() {
  const uint64_t now = monotonic_ns();
  const uint64_t quiet = now - last_activity_ns_;
  if (requests_.empty() || quiet < opts_.inactivity_timeout_ns) {
    const uint64_t left =
        requests_.empty() ? opts_.inactivity_timeout_ns : opts_.inactivity_timeout_ns - quiet;
    ev_timer_set(&inactivity_timer_, static_cast<double>(left) / 1e9, 0.);
    ev_timer_start(worker_.loop(), &inactivity_timer_);
    return;
  }
  if (opts_.verbose) {
    fmt::print(stderr, "client {}: no response bytes for {:.3f}s, {} requests time out\n", index_,
               quiet / 1e9, requests_.size());
  }
  ngtcp2_connection_close_error_set_application_error(&last_error_, NGHTTP3_H3_NO_ERROR, nullptr,
                                                      0);
  end_connection(End::kTimedOut, true);
}

void Client::after_io() {
  if (!fill_requests()) return;
  if (!write_packets()) return;
  update_timer();
  settle();
}

bool Client::write_packets() {
  if (tx_.pending()) {
    if (!flush_packets()) return false;
    if (tx_.pending()) return true;  // still blocked: wait for EV_WRITE
  }
  ngtcp2_conn* conn = conn_.get();
  const size_t pkt_size = ngtcp2_conn_get_max_tx_udp_payload_size(conn);
  const size_t max_pkts =
      std::clamp<size_t>(ngtcp2_conn_get_send_quantum(conn) / pkt_size, 1, SendBatch::kMaxPackets);
  tx_.reset(pkt_size);

  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info pi{};
  const uint64_t ts = monotonic_ns();
  std::array<nghttp3_vec, 16> vec;
  bool quantum_used = false;

  // The structure of examples/client.cc write_streams (v0.12.1): pull h3 stream data, let
  // ngtcp2 coalesce it (WRITE_STREAM_FLAG_MORE), and tell nghttp3 how much went out.
  for (;;) {
    int64_t stream_id = -1;
    int fin = 0;
    nghttp3_ssize nvec = 0;
    if (h3_ && ngtcp2_conn_get_max_data_left(conn)) {
      nvec = nghttp3_conn_writev_stream(h3_.get(), &stream_id, &fin, vec.data(), vec.size());
      if (nvec < 0) {
        fail_h3(static_cast<int>(nvec));
        return false;
      }
    }
    ngtcp2_ssize ndatalen = -1;
    uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
    if (fin) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
    const ngtcp2_ssize nwrite = ngtcp2_conn_writev_stream(
        conn, &ps.path, &pi, tx_.slot(), pkt_size, &ndatalen, flags, stream_id,
        reinterpret_cast<const ngtcp2_vec*>(vec.data()), static_cast<size_t>(nvec), ts);
    if (nwrite < 0) {
      switch (nwrite) {
        case NGTCP2_ERR_STREAM_DATA_BLOCKED:  // flow control: nghttp3 retries after unblock
          nghttp3_conn_block_stream(h3_.get(), stream_id);
          continue;
        case NGTCP2_ERR_STREAM_SHUT_WR:
          nghttp3_conn_shutdown_stream_write(h3_.get(), stream_id);
          continue;
        case NGTCP2_ERR_WRITE_MORE:  // packet has room for more frames
          if (int rv = nghttp3_conn_add_write_offset(h3_.get(), stream_id, ndatalen); rv != 0) {
            fail_h3(rv);
            return false;
          }
          continue;
        default:
          fail(static_cast<int>(nwrite));
          return false;
      }
    }
    if (ndatalen >= 0) {
      if (int rv = nghttp3_conn_add_write_offset(h3_.get(), stream_id, ndatalen); rv != 0) {
        fail_h3(rv);
        return false;
      }
    }
    if (nwrite == 0) break;  // congestion, pacing or nothing to send
    tx_.commit(static_cast<size_t>(nwrite));
    ++stats_.udp_sent;
    if (tx_.count() >= max_pkts) {
      quantum_used = true;
      break;
    }
  }
  ngtcp2_conn_update_pkt_tx_time(conn, ts);
  if (!flush_packets()) return false;
  // A full send quantum may not be all there is: come back on the next loop iteration.
  if (quantum_used && !tx_.pending()) ev_io_start(worker_.loop(), &wev_);
  return true;
}

bool Client::flush_packets() {
  const int rv = tx_.flush(fd_.get());
  if (rv == 0) {
    ev_io_stop(worker_.loop(), &wev_);
    return true;
  }
  if (rv == 1) {
    ev_io_start(worker_.loop(), &wev_);
    return true;
  }
  if (opts_.verbose) fmt::print(stderr, "client {}: send: {}\n", index_, std::strerror(-rv));
  end_connection(End::kLost, false);  // e.g. ECONNREFUSED: nobody listens
  return false;
}

void Client::update_timer() {
  const uint64_t expiry = ngtcp2_conn_get_expiry(conn_.get());
  if (expiry == UINT64_MAX) {
    ev_timer_stop(worker_.loop(), &expiry_timer_);
    return;
  }
  const uint64_t now = monotonic_ns();
  // A zero repeat would stop the timer, so an overdue expiry fires "immediately" instead.
  expiry_timer_.repeat = expiry > now ? static_cast<double>(expiry - now) / 1e9 : 1e-9;
  ev_timer_again(worker_.loop(), &expiry_timer_);
}

void Client::settle() {
  if (state_ != State::kConnected || !requests_.empty()) return;
  if (has_work() && !goaway_) return;
  // Nothing in flight and nothing more for this connection. Linger for twice our ACK delay (we
  // keep ngtcp2's default max_ack_delay) so the last responses get acknowledged and the server
  // sees its streams complete, then close politely in on_linger_over().
  state_ = State::kLingering;
  ev_timer_set(&linger_timer_, 2.0 * NGTCP2_DEFAULT_MAX_ACK_DELAY / 1e9, 0.);
  ev_timer_start(worker_.loop(), &linger_timer_);
}

void Client::on_linger_over() {
  ngtcp2_connection_close_error_set_application_error(&last_error_, NGHTTP3_H3_NO_ERROR, nullptr,
                                                      0);
  end_connection(End::kDrained, true);
}

void Client::fail(int liberr) {
  if (opts_.verbose) fmt::print(stderr, "client {}: {}\n", index_, ngtcp2_strerror(liberr));
  if (!last_error_.error_code) {
    ngtcp2_connection_close_error_set_transport_error_liberr(&last_error_, liberr, nullptr, 0);
  }
  end_connection(End::kLost, true);
}

void Client::fail_h3(int h3err) {
  if (opts_.verbose) fmt::print(stderr, "client {}: {}\n", index_, nghttp3_strerror(h3err));
  ngtcp2_connection_close_error_set_application_error(
      &last_error_, nghttp3_err_infer_quic_app_error_code(h3err), nullptr, 0);
  end_connection(End::kLost, true);
}

void Client::send_connection_close() {
  ngtcp2_conn* conn = conn_.get();
  if (!conn || !fd_ || ngtcp2_conn_is_in_closing_period(conn) ||
      ngtcp2_conn_is_in_draining_period(conn)) {
    return;
  }
  std::vector<uint8_t> buf(ngtcp2_conn_get_max_tx_udp_payload_size(conn));
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info pi{};
  const ngtcp2_ssize n = ngtcp2_conn_write_connection_close(conn, &ps.path, &pi, buf.data(),
                                                            buf.size(), &last_error_,
                                                            monotonic_ns());
  // Best effort: a lost CONNECTION_CLOSE only makes the server wait for its idle timeout.
  if (n > 0 && send(fd_.get(), buf.data(), static_cast<size_t>(n), 0) > 0) ++stats_.udp_sent;
}

}  // namespace h3load
