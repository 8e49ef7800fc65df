// One HTTP/3 request stream and the http::Exchange the application sees for it.
//
// Lifetime: the Session owns Streams; a Stream owns a shared_ptr to its Exchange. The application
// may keep the Exchange longer (async handlers): when the stream or the connection goes away the
// Exchange is detached (back-pointer cleared), closed() turns true and respond()/resume() become
// no-ops. Completion is reported exactly once, at detach.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "h3/request_policy.h"
#include "http/exchange.h"

namespace mirror::h3 {

class Session;
class Stream;

class Exchange final : public http::Exchange {
 public:
  explicit Exchange(Stream* stream) : stream_(stream) {}

  void respond(http::Response response) override;
  void resume() override;
  bool closed() const override { return stream_ == nullptr; }
  void send_informational(int status, const http::Headers& headers) override;

  // Called by the Stream when it ends: clears the back-pointer and reports completion once.
  void detach(const http::Completion& c);
  void mark_responded() { responded_ = true; }

 private:
  Stream* stream_;
};

// Response body bytes handed to nghttp3 stay here until the peer acknowledges them.
struct BodyChunk {
  std::vector<uint8_t> data;
};

class Stream {
 public:
  Stream(Session& session, int64_t id, size_t max_header_bytes, size_t max_header_count)
      : session(session), id(id), headers(max_header_bytes, max_header_count) {}

  Session& session;
  const int64_t id;
  std::shared_ptr<Exchange> exchange;

  // --- request ---
  HeaderBudget headers;
  bool early = false;           // some request bytes arrived in 0-RTT
  bool dispatched = false;      // handed to the application (or answered by us)
  bool reading_stopped = false;  // we answered early (413/431/425): ignore the rest of the body
  bool bad_target = false;
  std::string cookie;  // h3 may split Cookie into several fields; rejoined with "; " (RFC 9114 §4.2.1)

  // --- response ---
  http::Response response;
  std::optional<http::BodyReader> reader;
  bool response_submitted = false;
  bool head_request = false;
  bool body_eof = false;          // the reader returned eof (EOF flag given to nghttp3)
  bool waiting_producer = false;  // read_data returned WOULDBLOCK for lack of producer data
  bool waiting_ack = false;       // read_data returned WOULDBLOCK for too many unacked bytes
  bool resume_requested = false;  // Exchange::resume() arrived while reading the producer
  uint64_t string_sent = 0;       // zero-copy string body: bytes handed out
  std::deque<BodyChunk> chunks;   // copied body bytes not yet acknowledged
  uint64_t chunk_front_acked = 0; // acknowledged prefix of chunks.front()
  uint64_t unacked = 0;           // body bytes handed to nghttp3, not yet acknowledged
  int status = 0;
  uint64_t body_bytes = 0;
};

}  // namespace mirror::h3
