// The write loop of a Connection, after ngtcp2 v0.12.1 examples/server.cc write_streams: ask the
// application for stream data, let ngtcp2 coalesce it with ACKs/control frames into packets, and
// send packets of the same path, ECN marking and size as one GSO batch.
#include <algorithm>
#include <array>

#include "base/clock.h"
#include "quic/connection.h"
#include "quic/udp_socket.h"

namespace mirror::quic {

bool Connection::send_packets(const ngtcp2_path& path, uint8_t ecn, std::span<const uint8_t> data,
                              size_t gso_size) {
  auto* sock = static_cast<UdpSocket*>(path.user_data);
  size_t sent = 0;
  auto st = sock->send(path.local, path.remote, ecn, data, gso_size, &sent);
  size_t npkts = gso_size ? (sent + gso_size - 1) / gso_size : 0;
  counters().datagrams_sent.fetch_add(npkts, std::memory_order_relaxed);
  if (st != UdpSocket::SendStatus::kBlocked) return true;
  // Keep what the kernel refused and send it when the socket drains (order preserved).
  BlockedSend b;
  b.local = Address(path.local.addr, path.local.addrlen);
  b.remote = Address(path.remote.addr, path.remote.addrlen);
  b.socket = sock;
  b.ecn = ecn;
  b.data.assign(data.begin() + static_cast<ptrdiff_t>(sent), data.end());
  b.gso_size = gso_size;
  blocked_.push_back(std::move(b));
  host_.wait_writable(this, sock);
  return false;
}

bool Connection::flush_blocked() {
  while (!blocked_.empty()) {
    auto& b = blocked_.front();
    size_t sent = 0;
    auto st = b.socket->send(b.local.as_ngtcp2(), b.remote.as_ngtcp2(), b.ecn, b.data, b.gso_size,
                             &sent);
    if (st == UdpSocket::SendStatus::kBlocked) {
      b.data.erase(b.data.begin(), b.data.begin() + static_cast<ptrdiff_t>(sent));
      host_.wait_writable(this, b.socket);
      return false;
    }
    blocked_.erase(blocked_.begin());
  }
  return true;
}

void Connection::on_writable() {
  if (dead_) return;
  if (flush_blocked()) write();
}

void Connection::write() {
  if (dead_) return;
  if (close_requested_) {
    close_requested_ = false;
    handle_error();
    return;
  }
  if (ngtcp2_conn_is_in_closing_period(conn_.get()) ||
      ngtcp2_conn_is_in_draining_period(conn_.get())) {
    return;
  }
  if (!blocked_.empty() && !flush_blocked()) return;

  ngtcp2_conn* conn = conn_.get();
  const size_t max_udp = ngtcp2_conn_get_max_tx_udp_payload_size(conn);
  const size_t path_max_udp = ngtcp2_conn_get_path_max_tx_udp_payload_size(conn);
  // One GSO send carries at most 64 KiB (and 64 segments) including IP/UDP headers.
  constexpr size_t kMaxGsoBytes = 65535 - 48;
  size_t max_pkts = ngtcp2_conn_get_send_quantum(conn) / max_udp;
  max_pkts = std::clamp<size_t>(max_pkts, 1,
                                std::min(options().max_gso_segments, kMaxGsoBytes / max_udp));
  if (tx_.size() < max_pkts * max_udp) tx_.resize(max_pkts * max_udp);

  ngtcp2_path_storage ps, prev_ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_path_storage_zero(&prev_ps);
  ngtcp2_pkt_info pi{};
  uint8_t prev_ecn = 0;
  size_t pktcnt = 0, gso_size = 0;
  uint8_t* const buf = tx_.data();
  uint8_t* pos = buf;
  const uint64_t ts = monotonic_ns();
  std::array<ngtcp2_vec, 16> vec;

  // The application records its error code before failing; INTERNAL_ERROR if it did not.
  auto fail_app = [&]() {
    if (!error_set_) {
      error_set_ = true;
      ngtcp2_connection_close_error_set_transport_error(&last_error_, NGTCP2_INTERNAL_ERROR,
                                                        nullptr, 0);
    }
    handle_error();
  };

  for (;;) {
    int64_t stream_id = -1;
    bool fin = false;
    int64_t nvec = 0;
    // Stream data only when connection-level credit remains (else ngtcp2 would just refuse it).
    if (app_ && ngtcp2_conn_get_max_data_left(conn)) {
      nvec = app_->write_stream_data(&stream_id, &fin, vec);
      if (nvec < 0) {
        fail_app();
        return;
      }
    }
    ngtcp2_ssize ndatalen = -1;
    uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE | (fin ? NGTCP2_WRITE_STREAM_FLAG_FIN : 0);
    auto nwrite = ngtcp2_conn_writev_stream(conn, &ps.path, &pi, pos, max_udp, &ndatalen, flags,
                                            stream_id, vec.data(), static_cast<size_t>(nvec), ts);
    if (nwrite < 0) {
      switch (nwrite) {
        case NGTCP2_ERR_STREAM_DATA_BLOCKED:
          app_->stream_blocked(stream_id);
          continue;
        case NGTCP2_ERR_STREAM_SHUT_WR:
          app_->stream_shut_write(stream_id);
          continue;
        case NGTCP2_ERR_WRITE_MORE:
          // The packet has room for more: the stream data was taken, keep filling the same packet
          // (no other ngtcp2 call may happen before this packet is finished).
          if (app_->stream_data_written(stream_id, static_cast<size_t>(ndatalen)) != 0) {
            fail_app();
            return;
          }
          continue;
        default:
          if (!error_set_) {
            error_set_ = true;
            ngtcp2_connection_close_error_set_transport_error_liberr(
                &last_error_, static_cast<int>(nwrite), nullptr, 0);
          }
          handle_error();
          return;
      }
    }
    if (ndatalen >= 0 && app_ &&
        app_->stream_data_written(stream_id, static_cast<size_t>(ndatalen)) != 0) {
      fail_app();
      return;
    }

    if (nwrite == 0) {  // nothing more to send now (done, or congestion/pacing/amplification)
      if (pos != buf) send_packets(prev_ps.path, prev_ecn, {buf, static_cast<size_t>(pos - buf)},
                                   gso_size);
      ngtcp2_conn_update_pkt_tx_time(conn, ts);
      update_timer();
      maybe_finish_shutdown();
      return;
    }

    pos += nwrite;
    const size_t n = static_cast<size_t>(nwrite);
    if (pktcnt == 0) {
      ngtcp2_path_copy(&prev_ps.path, &ps.path);
      prev_ecn = static_cast<uint8_t>(pi.ecn);
      gso_size = n;
    } else if (!ngtcp2_path_eq(&prev_ps.path, &ps.path) || prev_ecn != pi.ecn || n > gso_size ||
               (gso_size > path_max_udp && n != gso_size)) {
      // This packet cannot join the batch: send the batch, then this packet alone.
      bool ok = send_packets(prev_ps.path, prev_ecn,
                             {buf, static_cast<size_t>(pos - buf) - n}, gso_size);
      if (ok) {
        send_packets(ps.path, static_cast<uint8_t>(pi.ecn), {pos - n, n}, n);
      } else {
        BlockedSend b;
        b.local = Address(ps.path.local.addr, ps.path.local.addrlen);
        b.remote = Address(ps.path.remote.addr, ps.path.remote.addrlen);
        b.socket = static_cast<UdpSocket*>(ps.path.user_data);
        b.ecn = static_cast<uint8_t>(pi.ecn);
        b.data.assign(pos - n, pos);
        b.gso_size = n;
        blocked_.push_back(std::move(b));
      }
      ngtcp2_conn_update_pkt_tx_time(conn, ts);
      update_timer();
      if (ok) signal_write();  // there may be more to send; continue on the next loop pass
      return;
    }

    if (++pktcnt == max_pkts || n < gso_size) {
      bool ok = send_packets(ps.path, static_cast<uint8_t>(pi.ecn),
                             {buf, static_cast<size_t>(pos - buf)}, gso_size);
      ngtcp2_conn_update_pkt_tx_time(conn, ts);
      update_timer();
      if (ok) signal_write();
      return;
    }
  }
}

}  // namespace mirror::quic
