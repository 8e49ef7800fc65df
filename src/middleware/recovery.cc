#include "middleware/recovery.h"

#include <exception>
#include <string_view>

#include "base/log.h"
#include "web/response.h"

namespace mirror::middleware {
namespace {

void report(web::Context& ctx, std::string_view what) {
  const http::Request& req = ctx.req();
  log::event(spdlog::level::err, "exception in request handler",
             {{"error", what},
              {"method", req.method_str.empty() ? http::method_name(req.method)
                                                : std::string_view(req.method_str)},
              {"path", std::string_view(req.path)},
              {"route", std::string_view(ctx.route_pattern())},
              {"request_id", std::string_view(ctx.request_id())}});
  if (!ctx.sent()) {
    web::send_error(ctx, web::ErrorType::kInternal, "An unexpected error occurred");
  }
}

}  // namespace

void Recovery::handle(web::Context& ctx, const web::Next& next) {
  try {
    next();
  } catch (const std::exception& e) {
    report(ctx, e.what());
  } catch (...) {
    report(ctx, "unknown exception");
  }
}

}  // namespace mirror::middleware
