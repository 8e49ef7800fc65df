#include "middleware/access_log.h"

#include <chrono>
#include <string_view>

#include "base/log.h"

namespace mirror::middleware {
namespace {

void log_request(web::Context& ctx, const http::Completion& c) {
  const http::Request& req = ctx.req();
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - ctx.start_time())
          .count();
  log::event(spdlog::level::info, "request",
             {{"method", req.method_str.empty() ? http::method_name(req.method)
                                                : std::string_view(req.method_str)},
              {"path", std::string_view(req.path)},
              {"status", static_cast<int64_t>(c.status)},
              {"bytes", c.body_bytes},
              {"duration_ms", ms},
              {"protocol", http::protocol_name(req.protocol)},
              {"peer", std::string_view(req.peer)},
              {"request_id", std::string_view(ctx.request_id())},
              {"user_agent", req.headers.get_or("user-agent")},
              {"aborted", c.aborted}});
}

}  // namespace

void AccessLog::handle(web::Context& ctx, const web::Next& next) {
  ctx.on_finish(log_request);
  next();
}

}  // namespace mirror::middleware
