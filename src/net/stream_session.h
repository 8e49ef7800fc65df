// The contract between a byte-stream transport (TCP, TLS over TCP) and an HTTP protocol session
// (h1::Session, h2::Session). The transport owns the socket, TLS and timers' lifetime; the session
// turns plaintext bytes into http::Exchanges and responses back into bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace mirror::net {

// What a session can ask of the connection that carries it.
class StreamTransport {
 public:
  virtual ~StreamTransport() = default;
  // Queues plaintext for sending (encrypted by the transport if TLS). Never blocks.
  virtual void write(std::span<const uint8_t> data) = 0;
  // Plaintext bytes queued but not yet accepted by the kernel. Sessions stop producing body bytes
  // above a high-water mark (backpressure) and resume in on_writable().
  virtual size_t pending_write_bytes() const = 0;
  // Asks the transport to call session.on_writable() soon (after a flush or on the next loop pass).
  virtual void want_write() = 0;
  // Stops reading from the peer until resume_reading() (h1 while a request is being handled).
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
  // Arms (or re-arms) the session's single timeout; on expiry the transport calls on_timeout().
  // seconds <= 0 disarms it.
  virtual void set_timeout(double seconds) = 0;
  // Closes the connection after queued bytes are flushed (graceful=true) or at once.
  virtual void close(bool graceful) = 0;
  virtual const std::string& peer() const = 0;  // "ip:port"
  virtual bool is_tls() const = 0;
  struct ev_loop* loop() const { return loop_; }

 protected:
  struct ev_loop* loop_ = nullptr;
};

class StreamSession {
 public:
  virtual ~StreamSession() = default;
  // Called once before any data, with the transport to use.
  virtual void start() = 0;
  // Plaintext from the peer. Returns false if the connection must close (protocol error: the session
  // already queued its error response / GOAWAY).
  virtual bool on_data(std::span<const uint8_t> data) = 0;
  // The transport drained its queue below the high-water mark (or want_write() was called).
  virtual void on_writable() = 0;
  virtual void on_timeout() = 0;
  // The peer closed its side (EOF) or the connection broke; the session aborts open exchanges.
  virtual void on_close() = 0;
  // Graceful shutdown: GOAWAY (h2) / Connection: close (h1). Finish in-flight requests, take no new.
  virtual void request_shutdown() = 0;
  // True when no request is in flight (the server may close idle connections at shutdown).
  virtual bool idle() const = 0;
};

}  // namespace mirror::net
