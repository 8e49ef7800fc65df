// One accepted TCP connection: socket I/O, optional TLS (GnuTLS over a memory transport), and the
// HTTP session chosen by ALPN (h2 / http/1.1) or, on the cleartext port, by the h2 preface.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/unique_fd.h"
#include "http/exchange.h"
#include "net/loop.h"
#include "net/stream_session.h"
#include "tls/stream_session.h"

namespace mirror::server {

class SessionFactory;

class TcpConnection final : public net::StreamTransport {
 public:
  // on_closed is called once, from the loop, when the connection is finished; the owner then
  // destroys it (never from inside this object's own callbacks).
  TcpConnection(struct ev_loop* loop, UniqueFd fd, std::string peer,
                std::unique_ptr<tls::ServerSession> tls, SessionFactory& factory,
                double handshake_timeout, std::function<void(TcpConnection*)> on_closed);
  ~TcpConnection() override;

  void start();
  // Graceful shutdown: GOAWAY / Connection: close; closes when in-flight requests finish.
  void request_shutdown();
  bool idle() const;

  // net::StreamTransport
  void write(std::span<const uint8_t> data) override;
  size_t pending_write_bytes() const override { return out_.size() - out_pos_; }
  void want_write() override;
  void pause_reading() override;
  void resume_reading() override;
  void set_timeout(double seconds) override;
  void close(bool graceful) override;
  const std::string& peer() const override { return peer_; }
  bool is_tls() const override { return tls_ != nullptr; }

 private:
  void on_io(int revents);
  void on_readable();
  void on_writable_socket();
  void deliver_plaintext(std::span<const uint8_t> data);
  bool choose_session(std::string_view alpn);
  void flush();
  void update_interest();
  void finish();  // closes the socket and tells the owner, once
  void on_timer();

  UniqueFd fd_;
  std::string peer_;
  std::unique_ptr<tls::ServerSession> tls_;
  SessionFactory& factory_;
  std::function<void(TcpConnection*)> on_closed_;
  std::unique_ptr<net::StreamSession> session_;

  net::IoWatcher io_;
  net::Timer timer_;
  net::Timer kick_;  // deferred on_writable() for want_write()

  std::string out_;  // bytes for the socket (ciphertext when TLS)
  size_t out_pos_ = 0;
  std::string sniff_;  // cleartext port: bytes read before the protocol is known
  bool reading_paused_ = false;
  bool closing_ = false;    // graceful close requested: finish when out_ drains
  bool lingering_ = false;  // write side shut down; draining the peer's input until EOF
  bool finished_ = false;
  bool shutdown_requested_ = false;
  bool in_session_call_ = false;
  bool wake_session_on_drain_ = false;  // see write()
};

// Builds the protocol session for a connection (the server fills in handler, limits, options).
class SessionFactory {
 public:
  virtual ~SessionFactory() = default;
  // alpn: "h2", "http/1.1" or "" (no ALPN: HTTP/1.1); "h2c" for prior-knowledge cleartext h2.
  virtual std::unique_ptr<net::StreamSession> create(std::string_view alpn,
                                                     net::StreamTransport& transport) = 0;
};

}  // namespace mirror::server
