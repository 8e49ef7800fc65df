#include "app/debug.h"

#include <nlohmann/json.hpp>

#include "web/response.h"

namespace mirror::app {

void register_debug_routes(web::Router& router, const DebugInfo& info) {
  // A Go map in the original: keys sorted, which nlohmann::json does too.
  nlohmann::json j;
  j["debug_enabled"] = true;
  j["ports"]["http"] = info.http_port;
  j["ports"]["http3"] = info.http3_port;
  j["protocols"]["http11"] = info.http11;
  j["protocols"]["http2"] = info.http2;
  j["protocols"]["http3"] = info.http3;
  router.get("/debug/info", [j = std::move(j)](web::Context& ctx) { web::send_json(ctx, 200, j); });
}

}  // namespace mirror::app
