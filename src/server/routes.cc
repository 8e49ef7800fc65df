#include "server/routes.h"

#include <ev.h>
#include <gnutls/gnutls.h>
#include <nghttp2/nghttp2ver.h>
#include <nghttp3/version.h>
#include <ngtcp2/version.h>
#include <nghttp2/nghttp2.h>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>
#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include "app/debug.h"
#include "app/health.h"
#include "app/static_files.h"
#include "app/version.h"
#include "middleware/access_log.h"
#include "middleware/recovery.h"
#include "middleware/request_id.h"
#include "quic/endpoint.h"
#include "server/server.h"
#include "server/worker.h"
#include "web/pipeline.h"
#include "web/response.h"

namespace mirror::server {
namespace {

// Runtime versions of the libraries we link (the app layer may not include their headers).
std::map<std::string, std::string> library_versions() {
  std::map<std::string, std::string> libs;
  libs["nghttp2"] = nghttp2_version(0)->version_str;
  libs["ngtcp2"] = ngtcp2_version(0)->version_str;
  libs["nghttp3"] = nghttp3_version(0)->version_str;
  libs["gnutls"] = gnutls_check_version(nullptr);
  libs["libev"] = fmt::format("{}.{}", ev_version_major(), ev_version_minor());
  libs["spdlog"] = fmt::format("{}.{}.{}", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH);
  return libs;
}

// Sum of every worker's QUIC counters (relaxed atomics: safe to read from any worker).
nlohmann::ordered_json quic_stats_json(const ServerContext& ctx) {
  quic::Stats total;
  for (Worker* w : ctx.worker_list) {
    if (w->quic()) total += w->quic()->stats();
  }
  nlohmann::ordered_json j;
  for (const auto& f : quic::kStatFields) j[f.name] = total.*f.member;
  return j;
}

}  // namespace

std::unique_ptr<http::Handler> build_pipeline(const ServerContext& ctx, int worker_id) {
  const auto& s = ctx.config.server;
  auto pipeline = std::make_unique<web::Pipeline>();
  // Outermost first: recovery catches everything below it; the request id is known to the log.
  pipeline->use(std::make_shared<middleware::Recovery>());
  pipeline->use(std::make_shared<middleware::RequestId>());
  pipeline->use(std::make_shared<middleware::AccessLog>());

  auto& router = pipeline->router();
  app::register_health_routes(router, ctx.health);
  app::register_version_routes(router, library_versions());
  if (s.debug_endpoints) {
    app::register_debug_routes(router, app::DebugInfo{.http_port = s.http_port,
                                                      .http3_port = s.http3_port,
                                                      .http11 = s.enable_http,
                                                      .http2 = s.enable_http2,
                                                      .http3 = s.enable_http3});
    const ServerContext* c = &ctx;
    pipeline->router().get("/debug/quic", [c](web::Context& rc) {
      web::send_json(rc, 200, quic_stats_json(*c));
    });
  }
  auto st = app::register_static_routes(router, {.root = s.static_dir});
  if (!st && worker_id == 0) spdlog::warn("static files: {}", st.error().message);
  return pipeline;
}

}  // namespace mirror::server
