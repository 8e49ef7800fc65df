// The request context that middleware and handlers see. It wraps one http::Exchange and is kept
// alive (shared_ptr) until the exchange completes, so handlers may answer later (async).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/exchange.h"

namespace mirror::web {

class Context : public std::enable_shared_from_this<Context> {
 public:
  explicit Context(std::shared_ptr<http::Exchange> exchange);

  http::Request& req() { return exchange_->request(); }
  // The response being built. Middleware may set headers before calling next(); handlers fill it
  // and call send() (or one of the helpers in web/response.h).
  http::Response& res() { return response_; }

  // Commits res() to the wire. Runs the before-send hooks (outermost middleware last) first.
  // Idempotent: only the first call sends.
  void send();
  bool sent() const { return sent_; }
  // The peer is gone; async handlers should stop producing.
  bool closed() const { return exchange_->closed(); }
  http::Exchange& exchange() { return *exchange_; }
  std::shared_ptr<http::Exchange> exchange_ptr() { return exchange_; }

  // Path parameters set by the router ("id" for /api/v1/streams/{id}), and the matched pattern
  // (low-cardinality label for metrics).
  std::string_view param(std::string_view name) const;
  void set_param(std::string name, std::string value);
  const std::string& route_pattern() const { return route_pattern_; }
  void set_route_pattern(std::string p) { route_pattern_ = std::move(p); }

  const std::string& request_id() const { return request_id_; }
  void set_request_id(std::string id) { request_id_ = std::move(id); }

  std::chrono::steady_clock::time_point start_time() const { return start_; }

  // Hook run just before the response head is committed (to add headers, e.g. CORS).
  void before_send(std::function<void(Context&)> fn) { before_send_.push_back(std::move(fn)); }
  // Hook run when the exchange has ended (access log, metrics). Runs in registration order.
  void on_finish(std::function<void(Context&, const http::Completion&)> fn) {
    on_finish_.push_back(std::move(fn));
  }

  // Arbitrary per-request values for middleware (e.g. the authenticated principal).
  void set_value(std::string key, std::string value) { values_.emplace_back(std::move(key), std::move(value)); }
  const std::string* value(std::string_view key) const;

 private:
  friend class Pipeline;
  void finish(const http::Completion& c);

  std::shared_ptr<http::Exchange> exchange_;
  http::Response response_;
  bool sent_ = false;
  std::vector<std::pair<std::string, std::string>> params_;
  std::string route_pattern_;
  std::string request_id_;
  std::chrono::steady_clock::time_point start_;
  std::vector<std::function<void(Context&)>> before_send_;
  std::vector<std::function<void(Context&, const http::Completion&)>> on_finish_;
  std::vector<std::pair<std::string, std::string>> values_;
};

using Next = std::function<void()>;
using HandlerFn = std::function<void(Context&)>;

// Onion middleware (STYLE.md §8): do work, call next() (or not), do more work.
class Middleware {
 public:
  virtual ~Middleware() = default;
  virtual void handle(Context& ctx, const Next& next) = 0;
};

}  // namespace mirror::web
