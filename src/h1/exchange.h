// The http::Exchange of one HTTP/1.1 request. The application may hold it (shared_ptr) longer than
// the connection lives: the back-pointer to the session is cleared when the exchange ends or the
// connection closes, and from then on respond()/resume() do nothing.
#pragma once

#include "http/exchange.h"

namespace mirror::h1 {

class Session;

class Exchange final : public http::Exchange {
 public:
  explicit Exchange(Session* session) : session_(session) {}

  void respond(http::Response response) override;
  void resume() override;
  bool closed() const override { return session_ == nullptr; }
  void send_informational(int status, const http::Headers& headers) override;

 private:
  friend class Session;
  void detach() { session_ = nullptr; }
  void finish(const http::Completion& c) { complete(c); }

  Session* session_;
};

}  // namespace mirror::h1
