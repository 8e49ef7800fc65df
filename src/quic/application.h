// The application protocol that runs on a QUIC connection (HTTP/3: h3::Session). quic/ sits below
// h3/ in the layers, so the connection talks to its application only through this interface, and
// the endpoint creates applications with an ApplicationFactory supplied from above.
//
// Every method is called on the connection's worker thread, from inside ngtcp2 callbacks or the
// connection's write loop. Methods returning int return 0 on success; on failure they first call
// Connection::set_application_error() and then return nonzero, which closes the connection.
#pragma once

#include <ngtcp2/ngtcp2.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>

namespace mirror::quic {

class Connection;

class Application {
 public:
  virtual ~Application() = default;

  // The 1-RTT keys are installed (for a server this happens while the handshake is still running,
  // so requests sent in 0-RTT can be served): open control streams.
  virtual int start() = 0;
  virtual void handshake_completed() {}

  // --- receive side (ngtcp2 callbacks) ---
  // early: the bytes arrived in 0-RTT packets. The application extends flow-control credit itself
  // (Connection::consume) for what it has consumed.
  virtual int recv_stream_data(int64_t stream_id, std::span<const uint8_t> data, bool fin,
                               bool early) = 0;
  virtual int acked_stream_data(int64_t stream_id, uint64_t bytes) = 0;
  // app_error_code is the peer's or ours; `set` is false when the stream closed cleanly.
  virtual int stream_close(int64_t stream_id, uint64_t app_error_code, bool set) = 0;
  virtual int stream_reset(int64_t stream_id, uint64_t app_error_code) = 0;         // RESET_STREAM
  virtual int stream_stop_sending(int64_t stream_id, uint64_t app_error_code) = 0;  // STOP_SENDING
  virtual void extend_max_remote_streams_bidi(uint64_t max_streams) = 0;
  virtual int extend_max_stream_data(int64_t stream_id) = 0;  // the peer gave more credit

  // --- send side (the connection's write loop, never inside a callback) ---
  // Fills up to vec.size() buffers of one stream. Returns the count (0 with *stream_id == -1: no
  // data), or a negative value after set_application_error().
  virtual int64_t write_stream_data(int64_t* stream_id, bool* fin, std::span<ngtcp2_vec> vec) = 0;
  virtual void stream_blocked(int64_t stream_id) = 0;   // QUIC flow control blocks it
  virtual void stream_shut_write(int64_t stream_id) = 0;
  virtual int stream_data_written(int64_t stream_id, size_t bytes) = 0;  // ngtcp2 took `bytes`

  // --- lifecycle ---
  // Graceful shutdown, step 1 (e.g. an h3 GOAWAY with the maximum id) and step 2 (the real GOAWAY
  // one round trip later, after which new requests are refused).
  virtual void shutdown_notice() = 0;
  virtual void shutdown() = 0;
  // No request is in flight: the connection may close now during shutdown.
  virtual bool idle() const = 0;
  // Application error code for a graceful close (H3_NO_ERROR).
  virtual uint64_t no_error_code() const = 0;
  // The connection is going away (closing, draining, dropped): abort whatever is open.
  virtual void connection_lost() = 0;
};

using ApplicationFactory = std::function<std::unique_ptr<Application>(Connection&)>;

}  // namespace mirror::quic
