// Gives every request an id: the client's X-Request-ID when it is sane (1..128 characters of
// [A-Za-z0-9._-]), else a fresh UUIDv4-shaped one. Sets ctx.request_id() (used as trace_id in
// error bodies and by the access log) and the X-Request-ID response header.
#pragma once

#include <string>
#include <string_view>

#include "web/context.h"

namespace mirror::middleware {

class RequestId : public web::Middleware {
 public:
  void handle(web::Context& ctx, const web::Next& next) override;
};

// True if a client-supplied id may be echoed (it ends up in logs and headers).
bool is_sane_request_id(std::string_view id);
// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" from a per-thread PRNG seeded from the OS: unique enough
// to correlate logs, not a secret.
std::string generate_request_id();

}  // namespace mirror::middleware
