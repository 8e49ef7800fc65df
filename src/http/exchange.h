// One request/response exchange: implemented once per protocol (an h1 request on a connection, an
// h2 stream, an h3 stream). The application never sees which (STYLE.md §2).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "http/message.h"

namespace mirror::http {

// How an exchange ended, reported once to the completion callback.
struct Completion {
  int status = 0;              // status sent (0 if none was)
  uint64_t body_bytes = 0;     // response body bytes handed to the transport
  bool aborted = false;        // peer reset / connection lost / shutdown before the end
};

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  virtual ~Exchange() = default;

  Request& request() { return request_; }
  const Request& request() const { return request_; }

  // Sends the response (head, body, trailers). Call once; later calls are ignored. Safe to call
  // after the peer went away (it is then a no-op).
  virtual void respond(Response response) = 0;
  // The response body producer has more data (after it returned pending).
  virtual void resume() = 0;
  // True once the protocol side is gone (stream reset, connection closed).
  virtual bool closed() const = 0;
  // Sends an interim 1xx response (e.g. 103 Early Hints). Optional per protocol.
  virtual void send_informational(int status, const Headers& headers) {}

  bool responded() const { return responded_; }
  // Called exactly once when the exchange ends (after the last byte or on abort).
  void on_complete(std::function<void(const Completion&)> fn) { on_complete_ = std::move(fn); }

 protected:
  // For protocol implementations: report the end once.
  void complete(const Completion& c) {
    if (auto fn = std::move(on_complete_)) {
      on_complete_ = nullptr;
      fn(c);
    }
  }

  Request request_;
  bool responded_ = false;

 private:
  std::function<void(const Completion&)> on_complete_;
};

// What protocol sessions call when a request is ready (the server's web::Pipeline implements it).
class Handler {
 public:
  virtual ~Handler() = default;
  virtual void handle(std::shared_ptr<Exchange> exchange) = 0;
};

}  // namespace mirror::http
