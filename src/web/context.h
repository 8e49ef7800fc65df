// The request context that middleware and handlers see. It wraps one http::Exchange and is kept
// alive (shared_ptr) until the exchange completes, so handlers may answer later (async): call
// defer(), keep shared_from_this(), and send() when ready (on the same worker thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/exchange.h"

namespace mirror::web {

class Context;
class Middleware;

using Next = std::function<void()>;
using HandlerFn = std::function<void(Context&)>;

// Onion middleware (STYLE.md §8): do work, call next() (or not), do more work. Work that must
// happen when the response is committed or the exchange ends (an async handler may answer after
// next() returned) belongs in ctx.before_send() / ctx.on_finish() hooks.
class Middleware {
 public:
  virtual ~Middleware() = default;
  virtual void handle(Context& ctx, const Next& next) = 0;
};

class Context : public std::enable_shared_from_this<Context> {
 public:
  explicit Context(std::shared_ptr<http::Exchange> exchange);

  http::Request& req() { return exchange_->request(); }
  const http::Request& req() const { return exchange_->request(); }
  // The response being built. Middleware may set headers before calling next(); handlers fill it
  // and call send() (or one of the helpers in web/response.h). Moved out by send().
  http::Response& res() { return response_; }

  // Commits res() to the wire. Runs the before-send hooks first (most recently added first, so
  // the outermost middleware has the last word); each hook runs at most once, even if one throws
  // and send() is called again (by the recovery middleware). Only the first completed call sends.
  void send();
  bool sent() const { return sent_; }
  // Status of the response that send() committed (0 before).
  int sent_status() const { return sent_status_; }

  // "I will answer later": the handler returns without sending and keeps shared_from_this().
  // Without it, the pipeline treats a handler that returned without sending as a bug (500).
  void defer() { deferred_ = true; }
  bool deferred() const { return deferred_; }

  // The peer is gone; async handlers should stop producing.
  bool closed() const { return exchange_->closed(); }
  http::Exchange& exchange() { return *exchange_; }
  std::shared_ptr<http::Exchange> exchange_ptr() { return exchange_; }

  // Path parameters set by the router ("id" for /api/v1/streams/{id}, percent-decoded; "*" for
  // a trailing wildcard, raw), and the matched pattern (a low-cardinality label for metrics;
  // empty when no route matched).
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
  // Register before the response is sent: the exchange may end inside send() (small bodies), and
  // hooks added after the end never run.
  void on_finish(std::function<void(Context&, const http::Completion&)> fn) {
    on_finish_.push_back(std::move(fn));
  }

  // Arbitrary per-request values for middleware (e.g. the authenticated principal).
  void set_value(std::string key, std::string value);
  const std::string* value(std::string_view key) const;

 private:
  friend class Pipeline;
  // Called once by the pipeline when the exchange completes: runs the on_finish hooks.
  void finish(const http::Completion& c);

  std::shared_ptr<http::Exchange> exchange_;
  http::Response response_;
  bool sent_ = false;
  bool deferred_ = false;
  int sent_status_ = 0;
  std::vector<std::pair<std::string, std::string>> params_;
  std::string route_pattern_;
  std::string request_id_;
  std::chrono::steady_clock::time_point start_;
  std::vector<std::function<void(Context&)>> before_send_;
  std::vector<std::function<void(Context&, const http::Completion&)>> on_finish_;
  std::vector<std::pair<std::string, std::string>> values_;

  // The onion the pipeline runs for this request (kept here, not on the stack, so a middleware
  // may call next() later). Pointers into the pipeline's and router's lists, which outlive
  // every request.
  std::vector<Middleware*> chain_;
  const HandlerFn* handler_ = nullptr;
};

// Adapts a lambda to Middleware (small middleware and tests).
class FnMiddleware : public Middleware {
 public:
  using Fn = std::function<void(Context&, const Next&)>;
  explicit FnMiddleware(Fn fn) : fn_(std::move(fn)) {}
  void handle(Context& ctx, const Next& next) override { fn_(ctx, next); }

 private:
  Fn fn_;
};

}  // namespace mirror::web
