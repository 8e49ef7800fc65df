#include "tls/stream_session.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "tls/credentials.h"
#include "tls/gnutls_util.h"
#include "tls/ticket_key.h"

namespace mirror::tls {
namespace {

constexpr size_t kMaxRecordPlaintext = 16384;
// Bounds the retry loops below: GnuTLS over a memory transport never needs more than a few passes.
constexpr int kMaxSpins = 64;

ssize_t push_cb(gnutls_transport_ptr_t p, const void* data, size_t len) noexcept {
  return static_cast<ServerSession*>(p)->on_push(data, len);
}
ssize_t pull_cb(gnutls_transport_ptr_t p, void* data, size_t len) noexcept {
  return static_cast<ServerSession*>(p)->on_pull(data, len);
}
int pull_timeout_cb(gnutls_transport_ptr_t p, unsigned int ms) noexcept {
  return static_cast<ServerSession*>(p)->on_pull_timeout(ms);
}

// Priority caches are parsed once and shared by every session (GnuTLS only reads them).
gnutls_priority_t priority_for(bool allow_tls12) {
  static const Priority tls13 = [] {
    gnutls_priority_t p = nullptr;
    gnutls_priority_init(&p, "NORMAL:-VERS-ALL:+VERS-TLS1.3", nullptr);
    return Priority(p);
  }();
  static const Priority tls12 = [] {
    gnutls_priority_t p = nullptr;
    gnutls_priority_init(&p, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", nullptr);
    return Priority(p);
  }();
  return allow_tls12 ? tls12.get() : tls13.get();
}

}  // namespace

Result<std::unique_ptr<ServerSession>> ServerSession::create(const Credentials& creds,
                                                             const ServerOptions& options) {
  bool allow_tls12;
  if (options.min_version == "1.3") {
    allow_tls12 = false;
  } else if (options.min_version == "1.2") {
    allow_tls12 = true;
  } else {
    return make_error("tls.config", fmt::format("tls: min_version must be \"1.2\" or \"1.3\", not "
                                                "\"{}\"", options.min_version));
  }
  gnutls_priority_t priority = priority_for(allow_tls12);
  if (!priority) return make_error("tls.config", "tls: invalid built-in priority string");

  std::unique_ptr<ServerSession> s(new ServerSession());
  gnutls_session_t raw = nullptr;
  int rc = gnutls_init(&raw, GNUTLS_SERVER | GNUTLS_NONBLOCK);
  if (rc < 0) return gnutls_error("tls.config", "tls: gnutls_init", rc);
  s->session_.reset(raw);

  rc = gnutls_priority_set(raw, priority);
  if (rc < 0) return gnutls_error("tls.config", "tls: gnutls_priority_set", rc);
  rc = gnutls_credentials_set(raw, GNUTLS_CRD_CERTIFICATE, creds.get());
  if (rc < 0) return gnutls_error("tls.config", "tls: gnutls_credentials_set", rc);

  if (!options.alpn.empty()) {
    std::vector<gnutls_datum_t> protocols;
    for (const std::string& p : options.alpn) protocols.push_back(borrow(p));
    // MANDATORY only fails a client that offers ALPN with no protocol in common; a client that
    // offers none still connects (alpn() is then empty).
    rc = gnutls_alpn_set_protocols(raw, protocols.data(), static_cast<unsigned>(protocols.size()),
                                   GNUTLS_ALPN_MANDATORY | GNUTLS_ALPN_SERVER_PRECEDENCE);
    if (rc < 0) return gnutls_error("tls.config", "tls: gnutls_alpn_set_protocols", rc);
  }
  if (options.ticket_keys) {
    if (auto r = options.ticket_keys->enable(raw); !r) return r.error();
  }

  // The owner enforces its own timeouts; GnuTLS must never wait.
  gnutls_handshake_set_timeout(raw, 0);
  gnutls_record_set_timeout(raw, 0);
  gnutls_transport_set_ptr(raw, s.get());
  gnutls_transport_set_push_function(raw, push_cb);
  gnutls_transport_set_pull_function(raw, pull_cb);
  gnutls_transport_set_pull_timeout_function(raw, pull_timeout_cb);
  return s;
}

ServerSession::~ServerSession() = default;

ssize_t ServerSession::on_push(const void* data, size_t len) {
  out_.append(static_cast<const char*>(data), len);
  return static_cast<ssize_t>(len);
}

ssize_t ServerSession::on_pull(void* data, size_t len) {
  size_t available = in_.size() - in_pos_;
  if (available == 0) {
    gnutls_transport_set_errno(session_.get(), EAGAIN);
    return -1;
  }
  size_t n = std::min(len, available);
  memcpy(data, in_.data() + in_pos_, n);
  in_pos_ += n;
  return static_cast<ssize_t>(n);
}

int ServerSession::on_pull_timeout(unsigned int) {
  if (in_pos_ < in_.size()) return 1;
  gnutls_transport_set_errno(session_.get(), EAGAIN);
  return -1;
}

Result<void> ServerSession::feed(std::span<const uint8_t> ciphertext) {
  if (failed_) return make_error("tls.state", "tls: session already failed");
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  }
  in_.append(reinterpret_cast<const char*>(ciphertext.data()), ciphertext.size());

  Result<void> result;
  if (!handshake_done_) result = drive_handshake();
  if (result && handshake_done_ && !peer_closed_) result = read_records();

  // Drop what GnuTLS consumed; it keeps partial records in its own buffers, so this is rare work.
  if (in_pos_ > 0) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  return result;
}

Result<void> ServerSession::drive_handshake() {
  for (int spin = 0; spin < kMaxSpins; ++spin) {
    int rc = gnutls_handshake(session_.get());
    if (rc == GNUTLS_E_SUCCESS) {
      handshake_done_ = true;
      gnutls_datum_t proto{nullptr, 0};
      if (gnutls_alpn_get_selected_protocol(session_.get(), &proto) == 0) {
        alpn_.assign(reinterpret_cast<const char*>(proto.data), proto.size);
      }
      return {};
    }
    if (rc == GNUTLS_E_AGAIN) return {};  // needs more bytes from the peer
    if (rc == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(rc)) continue;  // e.g. warning alert
    failed_ = true;
    gnutls_alert_send_appropriate(session_.get(), rc);  // lands in out_; never blocks
    return make_error("tls.handshake", fmt::format("tls: handshake failed: {}", gnutls_strerror(rc)));
  }
  return {};
}

Result<void> ServerSession::read_records() {
  char buf[kMaxRecordPlaintext];
  int spins = 0;
  for (;;) {
    ssize_t n = gnutls_record_recv(session_.get(), buf, sizeof buf);
    if (n > 0) {
      plaintext_.append(buf, static_cast<size_t>(n));
      spins = 0;
      continue;
    }
    if (n == 0) {  // close_notify
      peer_closed_ = true;
      return {};
    }
    if (n == GNUTLS_E_AGAIN) return {};
    if (n == GNUTLS_E_PREMATURE_TERMINATION) {  // the stream ended without close_notify
      peer_closed_ = true;
      return {};
    }
    if (n == GNUTLS_E_REHANDSHAKE) {
      // A TLS 1.2 client asked to renegotiate; we never do. A warning alert says so, and the
      // connection carries on. GnuTLS keeps the ClientHello queued and reports it once more as
      // an unexpected packet (discarding it) on the next read; that one is expected.
      gnutls_alert_send(session_.get(), GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
      discard_client_hello_ = true;
    } else if (n == GNUTLS_E_UNEXPECTED_PACKET && discard_client_hello_) {
      discard_client_hello_ = false;
    } else if (n != GNUTLS_E_INTERRUPTED && gnutls_error_is_fatal(static_cast<int>(n))) {
      failed_ = true;
      gnutls_alert_send_appropriate(session_.get(), static_cast<int>(n));
      return make_error("tls.record",
                        fmt::format("tls: record error: {}", gnutls_strerror(static_cast<int>(n))));
    }
    if (++spins >= kMaxSpins) return {};
  }
}

Result<void> ServerSession::write(std::span<const uint8_t> plaintext) {
  if (failed_) return make_error("tls.state", "tls: session already failed");
  if (!handshake_done_) return make_error("tls.state", "tls: write before the handshake finished");
  if (shutdown_sent_) return make_error("tls.state", "tls: write after shutdown");
  int spins = 0;
  while (!plaintext.empty()) {
    size_t chunk = std::min(plaintext.size(), kMaxRecordPlaintext);
    ssize_t n = gnutls_record_send(session_.get(), plaintext.data(), chunk);
    if (n > 0) {
      plaintext = plaintext.subspan(static_cast<size_t>(n));
      spins = 0;
      continue;
    }
    // Our push never refuses bytes, so AGAIN/INTERRUPTED only mean "call again".
    if ((n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) && ++spins < kMaxSpins) continue;
    failed_ = true;
    return make_error("tls.record",
                      fmt::format("tls: send failed: {}", gnutls_strerror(static_cast<int>(n))));
  }
  return {};
}

void ServerSession::shutdown() {
  if (shutdown_sent_ || failed_) return;
  shutdown_sent_ = true;
  if (handshake_done_) {
    gnutls_bye(session_.get(), GNUTLS_SHUT_WR);  // queues close_notify; never waits
  } else {
    gnutls_alert_send(session_.get(), GNUTLS_AL_WARNING, GNUTLS_A_CLOSE_NOTIFY);
  }
}

std::string_view ServerSession::version() const {
  if (!handshake_done_) return {};
  const char* name = gnutls_protocol_get_name(gnutls_protocol_get_version(session_.get()));
  return name ? name : "";
}

bool ServerSession::resumed() const {
  return handshake_done_ && gnutls_session_is_resumed(session_.get()) != 0;
}

}  // namespace mirror::tls
