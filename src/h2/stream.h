// One HTTP/2 request stream as an http::Exchange. The session owns it while the stream is open;
// the application may keep it (shared_ptr) longer: once the stream or the connection is gone,
// closed() is true and respond()/resume() do nothing.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <optional>
#include <string>

#include "http/exchange.h"

namespace mirror::h2 {

class Session;

class Stream final : public http::Exchange {
 public:
  Stream(Session* session, int32_t id);

  // http::Exchange
  void respond(http::Response response) override;
  void resume() override;
  bool closed() const override { return closed_; }
  void send_informational(int status, const http::Headers& headers) override;

  int32_t id() const { return id_; }

  // The nghttp2 data provider's read callback target (trampoline in stream.cc).
  ssize_t read_body(uint8_t* buf, size_t length, uint32_t* data_flags);

 private:
  friend class Session;

  // The stream ended (END_STREAM both ways, RST_STREAM, or connection gone): report completion.
  void finish(uint32_t error_code);
  // Makes nghttp2 pull the body from this stream's response. Returns the provider to submit, or
  // nullopt when the response has no DATA frames (END_STREAM goes on HEADERS).
  std::optional<nghttp2_data_provider> body_provider(bool head_only);

  Session* session_;  // nullptr once the stream closed or the session went away
  int32_t id_;

  // Request side, while headers and body arrive.
  size_t block_fields_ = 0;  // in the current header block
  size_t block_bytes_ = 0;
  bool in_trailers_ = false;
  bool fields_too_large_ = false;
  std::string cookie_;  // h2 splits Cookie into crumbs; joined with "; " (RFC 9113 8.2.3)
  bool request_complete_ = false;  // END_STREAM received
  bool rejected_ = false;          // answered by the session itself (4xx); the handler never runs
  bool dispatched_ = false;        // handed to the handler

  // Response side.
  http::Response response_;
  std::optional<http::BodyReader> reader_;
  int64_t promised_length_ = -1;  // content-length we sent with a body (-1: none)
  int status_ = 0;
  bool head_sent_ = false;
  bool end_stream_sent_ = false;
  bool body_eof_ = false;
  bool deferred_ = false;          // read_body returned NGHTTP2_ERR_DEFERRED
  bool in_read_ = false;           // inside the body's read()
  bool resume_requested_ = false;  // resume() from inside the body's read()
  bool closed_ = false;
  uint64_t body_bytes_ = 0;
};

}  // namespace mirror::h2
