#include "web/pipeline.h"

#include "base/log.h"
#include "web/response.h"

namespace mirror::web {

Pipeline::Pipeline()
    : not_found_([](Context& ctx) { send_error(ctx, ErrorType::kNotFound, "endpoint not found"); }),
      method_not_allowed_(
          [](Context& ctx) { send_error(ctx, 405, ErrorType::kValidation, "Method not allowed"); }),
      options_([](Context& ctx) {
        ctx.res().status = 204;
        ctx.send();
      }),
      bad_request_([](Context& ctx) {
        send_error(ctx, ErrorType::kValidation, "malformed percent-encoding in path");
      }) {}

Pipeline& Pipeline::use(std::shared_ptr<Middleware> mw) {
  global_.push_back(std::move(mw));
  return *this;
}

Pipeline& Pipeline::use(FnMiddleware::Fn fn) {
  return use(std::make_shared<FnMiddleware>(std::move(fn)));
}

void Pipeline::run(Context& ctx, size_t index) {
  if (index < ctx.chain_.size()) {
    // Two pointers' worth of capture: std::function keeps it inline, no allocation.
    Next next = [&ctx, index] { run(ctx, index + 1); };
    ctx.chain_[index]->handle(ctx, next);
  } else {
    (*ctx.handler_)(ctx);
  }
}

void Pipeline::handle(std::shared_ptr<http::Exchange> exchange) {
  auto ctx = std::make_shared<Context>(exchange);
  // The exchange owns the context until it completes (then the hook is released), so async
  // handlers and on_finish hooks always have a live Context.
  exchange->on_complete([ctx](const http::Completion& c) { ctx->finish(c); });

  const http::Request& req = exchange->request();
  RouteMatch m = router_.match(req.method, req.path);
  ctx->chain_.reserve(global_.size() + m.middleware.size());
  for (const auto& mw : global_) ctx->chain_.push_back(mw.get());
  switch (m.kind) {
    case RouteMatch::Kind::kFound:
      for (auto& [name, value] : m.params) ctx->set_param(std::move(name), std::move(value));
      ctx->set_route_pattern(std::string(m.pattern));
      ctx->chain_.insert(ctx->chain_.end(), m.middleware.begin(), m.middleware.end());
      ctx->handler_ = m.handler;
      break;
    case RouteMatch::Kind::kNotFound:
      ctx->handler_ = &not_found_;
      break;
    case RouteMatch::Kind::kMethodNotAllowed:
      ctx->res().headers.set("allow", m.allow);
      ctx->handler_ = &method_not_allowed_;
      break;
    case RouteMatch::Kind::kOptions:
      ctx->res().headers.set("allow", m.allow);
      ctx->handler_ = &options_;
      break;
    case RouteMatch::Kind::kBadRequest:
      ctx->handler_ = &bad_request_;
      break;
  }

  run(*ctx, 0);

  if (!ctx->sent() && !ctx->deferred()) {
    log::event(spdlog::level::err, "bug: handler returned without sending or deferring",
               {{"method", req.method_str.empty() ? http::method_name(req.method)
                                                  : std::string_view(req.method_str)},
                {"path", std::string_view(req.path)},
                {"route", std::string_view(ctx->route_pattern())},
                {"request_id", std::string_view(ctx->request_id())}});
    send_error(*ctx, ErrorType::kInternal, "An unexpected error occurred");
  }
}

}  // namespace mirror::web
