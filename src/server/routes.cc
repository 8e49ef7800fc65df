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
    if (!w->quic()) continue;
    quic::Stats s = w->quic()->stats();
#define MIRROR_ADD(field) total.field += s.field;
    MIRROR_ADD(connections_accepted) MIRROR_ADD(connections_refused) MIRROR_ADD(handshakes_completed)
    MIRROR_ADD(handshake_timeouts) MIRROR_ADD(connections_0rtt) MIRROR_ADD(requests_0rtt)
    MIRROR_ADD(early_requests_refused) MIRROR_ADD(retries_sent) MIRROR_ADD(invalid_tokens)
    MIRROR_ADD(version_negotiations_sent) MIRROR_ADD(stateless_resets_sent)
    MIRROR_ADD(datagrams_received) MIRROR_ADD(datagrams_sent) MIRROR_ADD(datagrams_forwarded)
    MIRROR_ADD(datagrams_dropped) MIRROR_ADD(quic_datagram_frames_received)
    MIRROR_ADD(path_migrations) MIRROR_ADD(gso_sends) MIRROR_ADD(requests)
    MIRROR_ADD(excessive_load_closes) MIRROR_ADD(connections_open) MIRROR_ADD(handshakes_in_progress)
#undef MIRROR_ADD
  }
  nlohmann::ordered_json j;
  j["connections_accepted"] = total.connections_accepted;
  j["connections_refused"] = total.connections_refused;
  j["handshakes_completed"] = total.handshakes_completed;
  j["handshake_timeouts"] = total.handshake_timeouts;
  j["connections_0rtt"] = total.connections_0rtt;
  j["requests_0rtt"] = total.requests_0rtt;
  j["early_requests_refused"] = total.early_requests_refused;
  j["retries_sent"] = total.retries_sent;
  j["invalid_tokens"] = total.invalid_tokens;
  j["version_negotiations_sent"] = total.version_negotiations_sent;
  j["stateless_resets_sent"] = total.stateless_resets_sent;
  j["datagrams_received"] = total.datagrams_received;
  j["datagrams_sent"] = total.datagrams_sent;
  j["datagrams_forwarded"] = total.datagrams_forwarded;
  j["datagrams_dropped"] = total.datagrams_dropped;
  j["quic_datagram_frames_received"] = total.quic_datagram_frames_received;
  j["path_migrations"] = total.path_migrations;
  j["gso_sends"] = total.gso_sends;
  j["requests"] = total.requests;
  j["excessive_load_closes"] = total.excessive_load_closes;
  j["connections_open"] = total.connections_open;
  j["handshakes_in_progress"] = total.handshakes_in_progress;
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
