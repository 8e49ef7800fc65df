// The one table of configuration keys. Order follows config.h; docs/configuration.md and
// config/mirror.yaml list the same keys (tests/unit/config/docs_test.cc keeps them in step).
#include "config/keys.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>

#include "config/binding.h"

namespace mirror::config {
namespace detail {
namespace {

constexpr int64_t kPortMax = 65535;
constexpr int64_t kVarintMax = (int64_t{1} << 62) - 1;  // largest QUIC variable-length integer
constexpr int64_t kH2WindowMax = (int64_t{1} << 31) - 1;  // RFC 9113 §6.9.1
constexpr int64_t kMillisecond = 1'000'000;

// --- checks for string values ---

std::string ip_address(std::string& value) {
  in6_addr v6;
  in_addr v4;
  if (inet_pton(AF_INET, value.c_str(), &v4) == 1) return "";
  if (inet_pton(AF_INET6, value.c_str(), &v6) == 1) return "";
  return "is not an IPv4 or IPv6 address (examples: 0.0.0.0, ::, 127.0.0.1, ::1)";
}

std::string host_port(std::string& value) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) return "is not host:port (example: localhost:6379)";
  std::string_view port(value.data() + colon + 1, value.size() - colon - 1);
  int number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (ec != std::errc() || end != port.data() + port.size() || number < 1 || number > kPortMax) {
    return "is not host:port (the port must be 1-65535)";
  }
  return "";
}

std::string log_level(std::string& value) {
  std::string v;
  for (char c : value) v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "warning") v = "warn";
  if (v == "err") v = "error";
  if (v == "fatal" || v == "panic") v = "critical";  // the Go original's logrus levels
  for (std::string_view ok : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    if (v == ok) {
      value = v;
      return "";
    }
  }
  return "is not a log level (trace, debug, info, warn, error, critical, off)";
}

std::string url_path(std::string& value) {
  if (value.empty() || value.front() != '/') return "is not a URL path (it must start with '/')";
  return "";
}

std::string not_empty(std::string& value) { return value.empty() ? "must not be empty" : ""; }

// --- table helpers: one line per key below ---

Key flag(std::string_view path, bool* f, std::string_view doc) {
  return {path, Kind::kBool, f, doc};
}
Key port(std::string_view path, uint16_t* f, int64_t min, std::string_view doc) {
  return {path, Kind::kPort, f, doc, min, kPortMax};
}
template <typename T>
Key integer(std::string_view path, T* f, int64_t min, int64_t max, std::string_view doc) {
  return {path, Kind::kInteger, f, doc, min, max};
}
Key size(std::string_view path, uint64_t* f, int64_t min, int64_t max, std::string_view doc) {
  return {path, Kind::kSize, f, doc, min, max};
}
Key duration(std::string_view path, Duration* f, int64_t min_ns, std::string_view doc) {
  return {path, Kind::kDuration, f, doc, min_ns};
}
Key text(std::string_view path, std::string* f, std::string_view doc, Check check = nullptr) {
  return {path, Kind::kString, f, doc, 0, 0, check};
}
Key secret(std::string_view path, std::string* f, std::string_view doc) {
  return {path, Kind::kString, f, doc, 0, 0, nullptr, /*secret=*/true};
}
Key file(std::string_view path, std::string* f, std::string_view doc) {
  return {path, Kind::kFile, f, doc};
}
Key list(std::string_view path, std::vector<std::string>* f, std::string_view doc, Check check) {
  return {path, Kind::kList, f, doc, 0, 0, check};
}
template <typename E>
Key choice(std::string_view path, E* f, std::string_view doc) {
  return {path, Kind::kChoice, f, doc};
}

}  // namespace

std::vector<Key> bind(Config& c) {
  Server& s = c.server;
  Limits& l = c.server.limits;
  return {
      // server: listeners
      port("server.http3_port", &s.http3_port, 1, "UDP port for HTTP/3 (QUIC)."),
      port("server.http_port", &s.http_port, 1,
           "TCP port for HTTPS (HTTP/1.1 and HTTP/2 over TLS). May equal http3_port."),
      flag("server.enable_http", &s.enable_http, "Start the TLS TCP listener (HTTP/1.1, HTTP/2)."),
      flag("server.enable_http2", &s.enable_http2, "Offer HTTP/2 (ALPN h2) on the TCP listener."),
      flag("server.enable_http3", &s.enable_http3, "Start the QUIC listener (HTTP/3)."),
      list("server.listen_addresses", &s.listen_addresses,
           "IP addresses every listener binds; \"::\" is IPv6-only so it can share a port with "
           "\"0.0.0.0\".",
           ip_address),
      port("server.plain_port", &s.plain_port, 0,
           "Cleartext TCP port (HTTP/1.1 and HTTP/2 prior knowledge); 0 = off."),
      // server: TLS
      file("server.tls_cert_file", &s.tls_cert_file,
           "PEM certificate chain. Empty (with tls_key_file) = a generated dev certificate."),
      file("server.tls_key_file", &s.tls_key_file,
           "PEM private key. Set both tls_cert_file and tls_key_file, or neither."),
      choice("server.tls_min_version", &s.tls_min_version,
             "Lowest TLS version on the TCP listener (QUIC is always TLS 1.3)."),
      text("server.state_dir", &s.state_dir,
           "Where the dev certificate is kept. Empty = $XDG_STATE_HOME/mirror, else "
           "~/.local/state/mirror, else /tmp/mirror-state-<uid>."),
      file("server.ticket_key_file", &s.ticket_key_file,
           "TLS session-ticket key file, to share resumption across restarts; empty = random."),
      // server: timeouts
      duration("server.read_timeout", &s.read_timeout, 0,
               "Longest stall while reading a request, head or body (TCP); 0 = no limit."),
      duration("server.write_timeout", &s.write_timeout, 0,
               "Longest stall while the peer accepts no response bytes (TCP); 0 = no limit."),
      duration("server.idle_timeout", &s.idle_timeout, 0,
               "Keep-alive: an idle TCP connection is closed after this; 0 = no limit."),
      duration("server.header_timeout", &s.header_timeout, 0,
               "Longest time to receive a whole request head (TCP); 0 = no limit."),
      duration("server.shutdown_timeout", &s.shutdown_timeout, 0,
               "Graceful shutdown: time to let requests finish before connections are cut."),
      // server: QUIC
      integer("server.max_incoming_streams", &s.max_incoming_streams, 1, int64_t{1} << 60,
              "Concurrent bidirectional QUIC streams (requests) a client may open."),
      integer("server.max_incoming_uni_streams", &s.max_incoming_uni_streams, 3, int64_t{1} << 60,
              "Unidirectional QUIC streams a client may open (HTTP/3 needs at least 3)."),
      duration("server.max_idle_timeout", &s.max_idle_timeout, kMillisecond,
               "QUIC idle timeout: a connection with no traffic this long is closed."),
      duration("server.handshake_idle_timeout", &s.handshake_idle_timeout, kMillisecond,
               "A QUIC handshake that makes no progress this long is abandoned."),
      duration("server.keep_alive_period", &s.keep_alive_period, 0,
               "Send QUIC PINGs this often on idle connections; 0 = off."),
      size("server.max_stream_receive_window", &s.max_stream_receive_window, 1024, kVarintMax,
           "QUIC flow-control window per stream."),
      size("server.max_connection_receive_window", &s.max_connection_receive_window, 1024,
           kVarintMax, "QUIC flow-control window per connection."),
      flag("server.enable_datagrams", &s.enable_datagrams,
           "Advertise QUIC DATAGRAM frames and HTTP/3 SETTINGS_H3_DATAGRAM."),
      flag("server.enable_0rtt", &s.enable_0rtt,
           "Accept 0-RTT early data on resumed QUIC connections (safe methods only)."),
      choice("server.congestion_control", &s.congestion_control,
             "QUIC congestion controller."),
      choice("server.retry", &s.retry,
             "QUIC Retry (address validation): always, never, or auto under handshake load."),
      integer("server.retry_threshold", &s.retry_threshold, 1, 1'000'000'000,
              "With retry: auto, handshakes in progress on a worker before Retry is used."),
      integer("server.alt_svc_max_age", &s.alt_svc_max_age, 0, 1'000'000'000,
              "Seconds in the Alt-Svc header that advertises HTTP/3 on TCP; 0 = no header."),
      text("server.qlog_dir", &s.qlog_dir,
           "Write a qlog file per QUIC connection here; empty = off."),
      // server: workers
      integer("server.workers", &s.workers, 0, 1024,
              "Worker threads, each with its own event loop; 0 = number of CPU cores."),
      integer("server.max_connections_per_worker", &s.max_connections_per_worker, 1, 10'000'000,
              "Open connections (TCP and QUIC) per worker; more are refused."),
      integer("server.max_handshakes_per_worker", &s.max_handshakes_per_worker, 1, 10'000'000,
              "TLS and QUIC handshakes in progress per worker; more are refused."),
      // server: application
      flag("server.debug_endpoints", &s.debug_endpoints, "Serve /debug/* endpoints."),
      secret("server.api_key", &s.api_key,
             "X-API-Key required on POST, PUT, PATCH and DELETE; empty = no check."),
      text("server.static_dir", &s.static_dir,
           "Directory served under /static/ (relative to the working directory)."),
      flag("server.https_redirect", &s.https_redirect,
           "Accepted so old configs load; has no effect (as in the original)."),
      // server.limits
      size("server.limits.max_request_line", &l.max_request_line, 64, int64_t{1} << 30,
           "Longest HTTP/1.1 request line; longer gets 414."),
      integer("server.limits.max_header_count", &l.max_header_count, 1, 65535,
              "Most header fields in a request; more gets 431."),
      size("server.limits.max_header_bytes", &l.max_header_bytes, 1024, int64_t{1} << 30,
           "Most header bytes (names and values) in a request; more gets 431."),
      size("server.limits.max_body_size", &l.max_body_size, 1, kVarintMax,
           "Largest request body; larger gets 413."),
      integer("server.limits.h2_max_concurrent_streams", &l.h2_max_concurrent_streams, 1,
              kH2WindowMax, "HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS."),
      size("server.limits.h2_initial_window_size", &l.h2_initial_window_size, 1, kH2WindowMax,
           "HTTP/2 SETTINGS_INITIAL_WINDOW_SIZE (per-stream receive window)."),
      integer("server.limits.max_resets_per_second", &l.max_resets_per_second, 0, 1'000'000'000,
              "Stream resets per second a connection may cause before it is closed (HTTP/2 and "
              "HTTP/3 rapid reset); 0 = no limit."),
      // logging
      text("logging.level", &c.logging.level,
           "trace, debug, info, warn, error, critical or off (warning, fatal, panic accepted).",
           log_level),
      choice("logging.format", &c.logging.format, "Log line format."),
      text("logging.output", &c.logging.output, "stderr, stdout or a file path.", not_empty),
      integer("logging.max_size", &c.logging.max_size, 0, 1'000'000,
              "Megabytes before rotation. Accepted for compatibility; unused for now."),
      integer("logging.max_backups", &c.logging.max_backups, 0, 1'000'000,
              "Rotated files to keep. Accepted for compatibility; unused for now."),
      integer("logging.max_age", &c.logging.max_age, 0, 1'000'000,
              "Days to keep rotated files. Accepted for compatibility; unused for now."),
      // redis
      flag("redis.enabled", &c.redis.enabled,
           "Keep shared state in Redis; false = the embedded in-memory store."),
      list("redis.addresses", &c.redis.addresses, "Redis servers as host:port; the first is used.",
           host_port),
      secret("redis.password", &c.redis.password, "AUTH password; empty = none."),
      integer("redis.db", &c.redis.db, 0, 1'000'000, "Database index (SELECT)."),
      integer("redis.max_retries", &c.redis.max_retries, 0, 1000,
              "Retries of a failed command."),
      duration("redis.dial_timeout", &c.redis.dial_timeout, kMillisecond, "Connect timeout."),
      duration("redis.read_timeout", &c.redis.read_timeout, kMillisecond, "Reply timeout."),
      duration("redis.write_timeout", &c.redis.write_timeout, kMillisecond, "Send timeout."),
      integer("redis.pool_size", &c.redis.pool_size, 1, 1'000'000, "Connections per process."),
      integer("redis.min_idle_conns", &c.redis.min_idle_conns, 0, 1'000'000,
              "Connections kept open when idle; at most pool_size."),
      // health
      text("health.disk_path", &c.health.disk_path, "Filesystem watched by the disk checker.",
           not_empty),
      size("health.disk_min_free", &c.health.disk_min_free, 0, kVarintMax,
           "The disk check is down below this many free bytes (or above 90% used)."),
      size("health.memory_limit", &c.health.memory_limit, 1, kVarintMax,
           "Process RSS limit; the memory check is down above 90% of it."),
      duration("health.check_timeout", &c.health.check_timeout, kMillisecond,
               "A health checker taking longer reports down (\"Health check timed out\")."),
      duration("health.interval", &c.health.interval, kMillisecond,
               "How often checks run in the background to refresh the cached /ready result."),
      // metrics
      flag("metrics.enabled", &c.metrics.enabled, "Serve Prometheus metrics."),
      text("metrics.path", &c.metrics.path, "URL path of the metrics endpoint.", url_path),
      port("metrics.port", &c.metrics.port, 0,
           "0 = serve on the main listeners; otherwise a separate cleartext HTTP/1.1 port."),
  };
}

}  // namespace detail

std::string env_name(std::string_view path) {
  std::string name = "MIRROR_";
  for (char c : path) {
    name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

const std::vector<KeyInfo>& key_table() {
  static const std::vector<KeyInfo> table = [] {
    Config defaults;
    std::vector<KeyInfo> rows;
    for (const detail::Key& key : detail::bind(defaults)) {
      rows.push_back({std::string(key.path), env_name(key.path), detail::type_name(key),
                      detail::format_value(key), std::string(key.doc)});
    }
    return rows;
  }();
  return table;
}

}  // namespace mirror::config
