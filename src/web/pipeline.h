// The application entry point the protocol sessions call (http::Handler): global middleware,
// then the router's match (route middleware, then the handler). Global middleware also runs for
// 404, 405, OPTIONS and malformed paths, so those answers carry the request id, CORS headers and
// an access-log line (the Go original skipped middleware for them).
//
// Setup (single-threaded, before serving): use(...) global middleware outermost first, add routes
// on router(). Serving: handle() may be called from every worker thread at once.
#pragma once

#include <memory>
#include <vector>

#include "http/exchange.h"
#include "web/context.h"
#include "web/router.h"

namespace mirror::web {

class Pipeline : public http::Handler {
 public:
  Pipeline();

  Pipeline& use(std::shared_ptr<Middleware> mw);
  Pipeline& use(FnMiddleware::Fn fn);
  Router& router() { return router_; }

  // Creates the Context, hooks its on_finish hooks to the exchange's completion, routes, runs the
  // onion. A handler that returns without sending and without ctx.defer() is a bug: the client
  // gets a 500 INTERNAL_ERROR and the log a line saying which route did it.
  void handle(std::shared_ptr<http::Exchange> exchange) override;

 private:
  static void run(Context& ctx, size_t index);

  std::vector<std::shared_ptr<Middleware>> global_;
  Router router_;
  // Terminal handlers for requests no route takes.
  HandlerFn not_found_;
  HandlerFn method_not_allowed_;
  HandlerFn options_;
  HandlerFn bad_request_;
};

}  // namespace mirror::web
