#include "server/session_factory.h"

#include "h1/session.h"
#include "h2/session.h"
#include "quic/options.h"
#include "server/server.h"

namespace mirror::server {
namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

template <typename D>
D as(Duration d) {
  return std::chrono::duration_cast<D>(d);
}

class ConfiguredSessionFactory final : public SessionFactory {
 public:
  ConfiguredSessionFactory(const ServerContext& ctx, http::Handler& handler) : handler_(handler) {
    const auto& s = ctx.config.server;
    const auto& l = s.limits;
    h1_limits_.max_request_line = l.max_request_line;
    h1_limits_.max_header_count = l.max_header_count;
    h1_limits_.max_header_bytes = l.max_header_bytes;
    h1_limits_.max_body_size = l.max_body_size;
    h1_opts_.alt_svc = ctx.alt_svc;
    h1_opts_.header_timeout = seconds(s.header_timeout);
    h1_opts_.idle_timeout = seconds(s.idle_timeout);
    h1_opts_.read_timeout = seconds(s.read_timeout);
    h1_opts_.write_timeout = seconds(s.write_timeout);

    h2_opts_.max_concurrent_streams = static_cast<uint32_t>(l.h2_max_concurrent_streams);
    h2_opts_.initial_window_size = static_cast<uint32_t>(l.h2_initial_window_size);
    h2_opts_.max_header_count = l.max_header_count;
    h2_opts_.max_header_bytes = l.max_header_bytes;
    h2_opts_.max_body_size = l.max_body_size;
    if (l.max_resets_per_second > 0) h2_opts_.max_resets_per_second = l.max_resets_per_second;
    h2_opts_.idle_timeout = seconds(s.idle_timeout);
    h2_opts_.alt_svc = ctx.alt_svc;
  }

  std::unique_ptr<net::StreamSession> create(std::string_view alpn,
                                             net::StreamTransport& transport) override {
    if (alpn == "h2" || alpn == "h2c") {
      h2::Options o = h2_opts_;
      o.is_cleartext = (alpn == "h2c");
      if (o.is_cleartext) o.alt_svc.clear();  // h3 is advertised for the TLS origin only
      return std::make_unique<h2::Session>(transport, handler_, o);
    }
    h1::Options o = h1_opts_;
    if (!transport.is_tls()) o.alt_svc.clear();
    return std::make_unique<h1::Session>(transport, handler_, h1_limits_, o);
  }

 private:
  http::Handler& handler_;
  h1::Limits h1_limits_;
  h1::Options h1_opts_;
  h2::Options h2_opts_;
};

}  // namespace

std::unique_ptr<SessionFactory> make_session_factory(const ServerContext& ctx, http::Handler& handler) {
  return std::make_unique<ConfiguredSessionFactory>(ctx, handler);
}

quic::Options quic_options(const config::Config& config) {
  const auto& s = config.server;
  const auto& l = s.limits;
  quic::Options o;
  o.port = s.http3_port;
  o.max_incoming_streams = s.max_incoming_streams;
  o.max_incoming_uni_streams = s.max_incoming_uni_streams;
  o.max_stream_receive_window = s.max_stream_receive_window;
  o.max_connection_receive_window = s.max_connection_receive_window;
  o.initial_stream_receive_window = std::min<uint64_t>(o.initial_stream_receive_window, s.max_stream_receive_window);
  o.initial_connection_receive_window =
      std::min<uint64_t>(o.initial_connection_receive_window, s.max_connection_receive_window);
  o.handshake_idle_timeout = as<std::chrono::milliseconds>(s.handshake_idle_timeout);
  o.max_idle_timeout = as<std::chrono::milliseconds>(s.max_idle_timeout);
  o.keep_alive_period = as<std::chrono::milliseconds>(s.keep_alive_period);
  o.enable_datagrams = s.enable_datagrams;
  o.enable_0rtt = s.enable_0rtt;
  switch (s.congestion_control) {
    case config::CongestionControl::kReno: o.congestion_control = quic::CongestionControl::kReno; break;
    case config::CongestionControl::kCubic: o.congestion_control = quic::CongestionControl::kCubic; break;
    case config::CongestionControl::kBbr: o.congestion_control = quic::CongestionControl::kBbr; break;
    case config::CongestionControl::kBbr2: o.congestion_control = quic::CongestionControl::kBbr2; break;
  }
  switch (s.retry) {
    case config::RetryMode::kAuto: o.retry = quic::RetryMode::kAuto; break;
    case config::RetryMode::kAlways: o.retry = quic::RetryMode::kAlways; break;
    case config::RetryMode::kNever: o.retry = quic::RetryMode::kNever; break;
  }
  o.retry_threshold = s.retry_threshold;
  o.max_connections = s.max_connections_per_worker;
  o.max_handshakes = s.max_handshakes_per_worker;
  o.qlog_dir = s.qlog_dir;
  o.shutdown_timeout = as<std::chrono::milliseconds>(s.shutdown_timeout);
  o.max_header_bytes = l.max_header_bytes;
  o.max_header_count = l.max_header_count;
  o.max_body_size = l.max_body_size;
  o.max_resets_per_second = static_cast<uint32_t>(l.max_resets_per_second);
  return o;
}

}  // namespace mirror::server
