// Builds a worker's request pipeline: global middleware and every route of the app.
#pragma once

#include <memory>

#include "http/exchange.h"

namespace mirror::server {

struct ServerContext;

std::unique_ptr<http::Handler> build_pipeline(const ServerContext& ctx, int worker_id);

}  // namespace mirror::server
