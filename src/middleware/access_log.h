// One structured log line per request, written when the exchange ends (so it has the real status,
// the bytes sent and whether the peer aborted), through mirror::log::event:
//   request method=GET path=/health status=200 bytes=123 duration_ms=0.412 protocol=HTTP/3 ...
#pragma once

#include "web/context.h"

namespace mirror::middleware {

class AccessLog : public web::Middleware {
 public:
  void handle(web::Context& ctx, const web::Next& next) override;
};

}  // namespace mirror::middleware
