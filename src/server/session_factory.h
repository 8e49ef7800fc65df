// Maps the configuration onto each protocol's options and builds the session for a connection.
#pragma once

#include <memory>

#include "http/exchange.h"
#include "server/tcp_connection.h"

namespace mirror::quic {
struct Options;
}
namespace mirror::config {
struct Config;
}

namespace mirror::server {

struct ServerContext;

std::unique_ptr<SessionFactory> make_session_factory(const ServerContext& ctx, http::Handler& handler);
quic::Options quic_options(const config::Config& config);

}  // namespace mirror::server
