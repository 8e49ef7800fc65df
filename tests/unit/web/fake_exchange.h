// A test double for http::Exchange: records the response instead of writing it, and lets the
// test end the exchange (normally or by abort) like a protocol session would.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "http/exchange.h"
#include "http/message.h"

namespace mirror::testing {

class FakeExchange : public http::Exchange {
 public:
  // By default the exchange completes as soon as the response is handed over (as h1 does for a
  // small body); set auto_complete = false to complete by hand.
  bool auto_complete = true;
  int respond_calls = 0;
  std::optional<http::Response> response;
  bool closed_flag = false;

  static std::shared_ptr<FakeExchange> make(std::string_view method, std::string_view target) {
    auto ex = std::make_shared<FakeExchange>();
    ex->request_.method = http::parse_method(method);
    ex->request_.method_str = std::string(method);
    ex->request_.set_target(target);
    ex->request_.authority = "localhost";
    ex->request_.peer = "127.0.0.1:40000";
    return ex;
  }

  FakeExchange& header(std::string_view name, std::string_view value) {
    request_.headers.add(name, value);
    return *this;
  }

  void respond(http::Response r) override {
    ++respond_calls;
    if (responded_) return;
    responded_ = true;
    response = std::move(r);
    if (auto_complete) end();
  }
  void resume() override {}
  bool closed() const override { return closed_flag; }

  // Ends the exchange: reports the completion (once).
  void end(bool aborted = false) {
    http::Completion c;
    c.aborted = aborted;
    if (response) {
      c.status = response->status;
      int64_t len = response->content_length();
      c.body_bytes = len > 0 ? static_cast<uint64_t>(len) : 0;
    }
    complete(c);
  }

  int status() const { return response ? response->status : 0; }
  std::string header_value(std::string_view name) const {
    if (!response) return {};
    const std::string* v = response->headers.get(name);
    return v ? *v : std::string();
  }
  bool has_header(std::string_view name) const { return response && response->headers.has(name); }
  std::string body() const {
    if (!response) return {};
    if (const auto* s = std::get_if<std::string>(&response->body)) return *s;
    return {};
  }
};

}  // namespace mirror::testing
