#include "server/tcp_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace mirror::server {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr double kLingerSeconds = 2.0;
constexpr size_t kWakeSessionBytes = 64 * 1024;
constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

}  // namespace

TcpConnection::TcpConnection(struct ev_loop* loop, UniqueFd fd, std::string peer,
                             std::unique_ptr<tls::ServerSession> tls, SessionFactory& factory,
                             double handshake_timeout, std::function<void(TcpConnection*)> on_closed)
    : fd_(std::move(fd)),
      peer_(std::move(peer)),
      tls_(std::move(tls)),
      factory_(factory),
      on_closed_(std::move(on_closed)) {
  loop_ = loop;
  io_.init(loop, fd_.get(), EV_READ, [this](int revents) { on_io(revents); });
  timer_.init(loop, [this] { on_timer(); });
  kick_.init(loop, [this] {
    if (session_ && !finished_) {
      in_session_call_ = true;
      session_->on_writable();
      in_session_call_ = false;
    }
    flush();
  });
  // Until a session exists, the timer bounds the TLS handshake / protocol sniffing.
  timer_.start(handshake_timeout);
}

TcpConnection::~TcpConnection() = default;

void TcpConnection::start() { io_.start(); }

void TcpConnection::request_shutdown() {
  shutdown_requested_ = true;
  if (finished_) return;
  if (session_) {
    session_->request_shutdown();
    flush();
  } else {
    finish();  // still in the handshake: nothing in flight
  }
}

bool TcpConnection::idle() const { return !session_ || session_->idle(); }

void TcpConnection::write(std::span<const uint8_t> data) {
  if (finished_ || data.empty()) return;
  if (tls_) {
    auto r = tls_->write(data);
    if (!r) {
      spdlog::debug("tls write to {} failed: {}", peer_, r.error().message);
      close(false);
      return;
    }
    auto& ct = tls_->ciphertext_out();
    out_.append(ct);
    ct.clear();
  } else {
    out_.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
  // A session that queued this much may have stopped producing (backpressure); it is told when
  // the queue drains, even if the drain happens in the same flush (no EV_WRITE event then).
  if (pending_write_bytes() >= kWakeSessionBytes) wake_session_on_drain_ = true;
  // Sockets are written from flush(), called after each event is handled, so many small writes
  // (h2 frames, pipelined h1 responses) become one send.
  if (!in_session_call_) flush();
}

void TcpConnection::want_write() {
  if (!finished_ && !kick_.active()) kick_.start(0.);
}

void TcpConnection::pause_reading() {
  reading_paused_ = true;
  update_interest();
}

void TcpConnection::resume_reading() {
  if (!reading_paused_) return;
  reading_paused_ = false;
  update_interest();
}

void TcpConnection::set_timeout(double seconds) {
  if (lingering_) return;  // the linger timer owns the timer now
  if (seconds <= 0) {
    timer_.stop();
  } else {
    timer_.start(seconds);
  }
}

void TcpConnection::close(bool graceful) {
  if (finished_) return;
  if (graceful) {
    closing_ = true;
    if (tls_) {
      tls_->shutdown();
      out_.append(tls_->ciphertext_out());
      tls_->ciphertext_out().clear();
    }
    if (!in_session_call_) flush();
    update_interest();
  } else {
    finish();
  }
}

void TcpConnection::on_io(int revents) {
  if (revents & EV_WRITE) on_writable_socket();
  if (!finished_ && (revents & EV_READ)) on_readable();
}

void TcpConnection::on_readable() {
  uint8_t buf[kReadChunk];
  // Read a bounded amount per event so one busy connection cannot starve the worker.
  for (int i = 0; i < 4 && !finished_ && !reading_paused_; ++i) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      spdlog::debug("read from {}: {}", peer_, strerror(errno));
      finish();
      return;
    }
    if (n == 0) {  // peer closed its side (finish() tells the session)
      finish();
      return;
    }
    if (lingering_) continue;  // after our half-close: discard until the peer's EOF
    std::span<const uint8_t> data(buf, static_cast<size_t>(n));
    if (tls_) {
      auto r = tls_->feed(data);
      out_.append(tls_->ciphertext_out());  // handshake messages, alerts
      tls_->ciphertext_out().clear();
      if (!r) {
        spdlog::debug("tls from {}: {}", peer_, r.error().message);
        flush();
        finish();
        return;
      }
      if (!tls_->handshake_done()) {
        flush();
        continue;
      }
      if (!session_ && !choose_session(tls_->alpn())) return;
      std::string& pt = tls_->plaintext();
      if (!pt.empty()) {
        std::string chunk;
        chunk.swap(pt);
        deliver_plaintext({reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()});
      }
      if (!finished_ && tls_->peer_closed()) {
        finish();
        return;
      }
    } else if (!session_) {
      sniff_.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
      size_t cmp = std::min(sniff_.size(), kH2Preface.size());
      bool maybe_h2 = sniff_.compare(0, cmp, kH2Preface.substr(0, cmp)) == 0;
      if (maybe_h2 && sniff_.size() < kH2Preface.size()) continue;  // need more bytes to decide
      std::string first;
      first.swap(sniff_);
      if (!choose_session(maybe_h2 ? "h2c" : "")) return;
      deliver_plaintext({reinterpret_cast<const uint8_t*>(first.data()), first.size()});
    } else {
      deliver_plaintext(data);
    }
  }
  flush();
}

bool TcpConnection::choose_session(std::string_view alpn) {
  session_ = factory_.create(alpn, *this);
  if (!session_) {
    finish();
    return false;
  }
  timer_.stop();  // the session arms its own timeouts from here on
  in_session_call_ = true;
  session_->start();
  in_session_call_ = false;
  if (shutdown_requested_) session_->request_shutdown();
  return !finished_;
}

void TcpConnection::deliver_plaintext(std::span<const uint8_t> data) {
  if (!session_ || finished_ || closing_ || data.empty()) return;
  in_session_call_ = true;
  bool ok = session_->on_data(data);
  in_session_call_ = false;
  if (!ok) close(true);
}

void TcpConnection::on_writable_socket() {
  flush();
  if (!finished_ && session_ && pending_write_bytes() == 0) {
    in_session_call_ = true;
    session_->on_writable();
    in_session_call_ = false;
    flush();
  }
}

void TcpConnection::flush() {
  while (!finished_ && out_pos_ < out_.size()) {
    ssize_t n = ::send(fd_.get(), out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      spdlog::debug("write to {}: {}", peer_, strerror(errno));
      finish();
      return;
    }
    out_pos_ += static_cast<size_t>(n);
  }
  if (finished_) return;
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
    if (wake_session_on_drain_ && session_ && !closing_) {
      wake_session_on_drain_ = false;
      want_write();  // deferred on_writable(): never re-enter the session from its own call
    }
    if (closing_ && !lingering_) {
      // Half-close so the peer sees EOF after our last byte, then keep reading (and discarding)
      // until its EOF or a short timeout: closing with unread input would send an RST that can
      // destroy the response still in flight (the "lingering close" of nginx and Apache).
      ::shutdown(fd_.get(), SHUT_WR);
      lingering_ = true;
      reading_paused_ = false;
      timer_.start(kLingerSeconds);
    }
  } else if (out_pos_ > (1u << 20)) {
    out_.erase(0, out_pos_);
    out_pos_ = 0;
  }
  update_interest();
}

void TcpConnection::update_interest() {
  if (finished_) return;
  int ev = 0;
  if (!reading_paused_ && (!closing_ || lingering_)) ev |= EV_READ;
  if (pending_write_bytes() > 0) ev |= EV_WRITE;
  io_.set_events(ev);
}

void TcpConnection::on_timer() {
  if (finished_) return;
  if (!session_ || lingering_) {  // handshake / first bytes took too long, or linger over
    finish();
    return;
  }
  in_session_call_ = true;
  session_->on_timeout();
  in_session_call_ = false;
  flush();
}

void TcpConnection::finish() {
  if (finished_) return;
  finished_ = true;
  io_.stop();
  timer_.stop();
  kick_.stop();
  if (session_) session_->on_close();
  if (on_closed_) on_closed_(this);
}

}  // namespace mirror::server
