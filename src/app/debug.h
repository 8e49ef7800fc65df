// GET /debug/info, POST/PUT /debug/echo, GET /debug/stream?n=N — registered only when the config's debug_endpoints is on (the server decides).
//   {"debug_enabled":true,"ports":{"http":N,"http3":N},"protocols":{"http11":b,"http2":b,"http3":b}}
#pragma once

#include "web/router.h"

namespace mirror::app {

struct DebugInfo {
  int http_port = 0;    // TCP (h1/h2) port
  int http3_port = 0;   // UDP (h3) port
  bool http11 = false;  // enable_http
  bool http2 = false;   // enable_http2 (reported even when http11 is off, like the original)
  bool http3 = true;
};

void register_debug_routes(web::Router& router, const DebugInfo& info);

}  // namespace mirror::app
