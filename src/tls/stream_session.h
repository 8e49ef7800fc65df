// TLS over a byte stream (TCP) with a memory transport: the owner reads the socket and feeds
// ciphertext in, takes plaintext out, writes plaintext in and sends ciphertext_out(). This object
// never touches a socket and never blocks. One per connection, used on one thread.
#pragma once

#include <gnutls/gnutls.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/c_handle.h"
#include "base/result.h"

namespace mirror::tls {

class Credentials;
class TicketKeys;

struct ServerOptions {
  std::string min_version = "1.3";  // "1.2" also allows TLS 1.2; "1.3" offers TLS 1.3 only
  std::vector<std::string> alpn = {"h2", "http/1.1"};  // server preference order
  const TicketKeys* ticket_keys = nullptr;  // enables session resumption when set (not owned)
};

class ServerSession {
 public:
  // Errors: code "tls.config" (bad min_version, priority string, credentials).
  static Result<std::unique_ptr<ServerSession>> create(const Credentials& creds,
                                                       const ServerOptions& options);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Appends ciphertext from the peer, drives the handshake, and after it decrypts every complete
  // record into plaintext(). Errors: "tls.handshake" (with GnuTLS's message; the alert to send is
  // already in ciphertext_out()) or "tls.record". After an error, flush ciphertext_out() and close.
  Result<void> feed(std::span<const uint8_t> ciphertext);

  bool handshake_done() const { return handshake_done_; }
  // A handshake or record error happened: flush ciphertext_out() (it may hold an alert), close.
  bool failed() const { return failed_; }
  // The negotiated ALPN protocol ("h2", "http/1.1"), empty if the client offered none.
  std::string_view alpn() const { return alpn_; }
  // "TLS1.3" / "TLS1.2" once the handshake is done.
  std::string_view version() const;
  // True if the handshake resumed a session from a ticket.
  bool resumed() const;

  // Decrypted bytes from the peer; the owner consumes them and erases what it used.
  std::string& plaintext() { return plaintext_; }

  // Encrypts plaintext into ciphertext_out() (records of up to 16 KiB). Only after the handshake.
  Result<void> write(std::span<const uint8_t> plaintext);
  Result<void> write(std::string_view plaintext) {
    return write(std::span(reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size()));
  }
  // Ciphertext to send; the owner erases the prefix the socket accepted.
  std::string& ciphertext_out() { return out_; }

  // Queues close_notify into ciphertext_out() (once).
  void shutdown();
  // The peer sent close_notify (or closed the TLS stream cleanly).
  bool peer_closed() const { return peer_closed_; }

  // The GnuTLS session, for logging/inspection (not for I/O).
  gnutls_session_t native() const { return session_.get(); }

  // Memory transport, called by GnuTLS through trampolines.
  ssize_t on_push(const void* data, size_t len);
  ssize_t on_pull(void* data, size_t len);
  int on_pull_timeout(unsigned int ms);

 private:
  ServerSession() = default;
  Result<void> drive_handshake();
  Result<void> read_records();

  CHandle<gnutls_session_int, gnutls_deinit> session_;
  std::string in_;         // ciphertext received, not yet consumed by GnuTLS
  size_t in_pos_ = 0;      // consumed prefix of in_
  std::string out_;        // ciphertext to send
  std::string plaintext_;  // decrypted application data
  std::string alpn_;
  bool handshake_done_ = false;
  bool peer_closed_ = false;
  bool shutdown_sent_ = false;
  bool failed_ = false;
  bool discard_client_hello_ = false;  // a declined renegotiation's ClientHello is still queued
};

}  // namespace mirror::tls
