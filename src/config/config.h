// Mirror's whole configuration as one documented struct (STYLE.md §11).
//
// Every field says what it means and its default. The same facts live in the key table
// (keys.cc), from which YAML parsing, MIRROR_* environment names, unknown-key detection,
// dump_yaml() and the checks against docs/configuration.md are all derived. When you add a field
// here, add its row to keys.cc, then to docs/configuration.md and config/mirror.yaml (unit tests
// fail until those two match keys.cc).
//
// The YAML key names under `server:`, `redis:`, `logging:` and `metrics:` are the Go original's,
// so an existing Mirror config.yaml loads unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/clock.h"  // mirror::Duration (std::chrono::nanoseconds)
#include "base/log.h"    // mirror::log::Format

namespace mirror::config {

using namespace std::chrono_literals;

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * kKiB;

// Lowest TLS version accepted on the TCP listeners. QUIC always uses TLS 1.3 (RFC 9001).
enum class TlsVersion { k1_2, k1_3 };

// QUIC congestion controller; the values map one-to-one to ngtcp2 0.12's ngtcp2_cc_algo
// (NGTCP2_CC_ALGO_RENO, _CUBIC, _BBR, _BBR2).
enum class CongestionControl { kReno, kCubic, kBbr, kBbr2 };

// When a QUIC Retry (address validation, RFC 9000 §8.1.2) is sent to a new client.
enum class RetryMode {
  kAuto,    // only while more than `retry_threshold` handshakes are in progress on a worker
  kAlways,  // every new connection without a valid token
  kNever,
};

// Request size limits, shared by all protocols unless the name says otherwise.
// YAML: the `server.limits:` section. Env: MIRROR_SERVER_LIMITS_<NAME>.
struct Limits {
  uint64_t max_request_line = 8 * kKiB;       // HTTP/1.1 request line bytes; longer → 414
  uint64_t max_header_count = 100;            // header fields per request; more → 431
  uint64_t max_header_bytes = 64 * kKiB;      // total header bytes (names + values); more → 431
  uint64_t max_body_size = 10 * kMiB;         // request body bytes; more → 413
  uint64_t h2_max_concurrent_streams = 100;   // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS
  uint64_t h2_initial_window_size = 1 * kMiB; // HTTP/2 SETTINGS_INITIAL_WINDOW_SIZE (per stream)
  uint64_t max_resets_per_second = 200;       // h2 RST_STREAM / h3 reset rate before the
                                              // connection is closed (rapid reset); 0 = no limit
};

// `server:` — listeners, TLS, QUIC transport, timeouts, workers and app switches.
struct Server {
  // --- listeners ---
  uint16_t http3_port = 8443;  // UDP port for HTTP/3 (QUIC)
  uint16_t http_port = 8443;   // TCP port for HTTPS (HTTP/1.1 + HTTP/2 over TLS); may equal the
                               // UDP port, since TCP and UDP ports are separate
  bool enable_http = true;     // start the TLS TCP listener (the Go original defaulted to false)
  bool enable_http2 = true;    // offer "h2" in ALPN on the TCP listener
  bool enable_http3 = true;    // start the QUIC/HTTP/3 listener
  // Addresses every listener binds. "::" is bound with IPV6_V6ONLY so that "0.0.0.0" and "::"
  // can share a port. Each entry must be an IPv4 or IPv6 literal.
  std::vector<std::string> listen_addresses = {"0.0.0.0", "::"};
  uint16_t plain_port = 0;  // cleartext TCP port (HTTP/1.1 + HTTP/2 prior knowledge); 0 = off

  // --- TLS ---
  std::string tls_cert_file;  // PEM certificate chain; empty (with tls_key_file) = dev certificate
  std::string tls_key_file;   // PEM private key; must be set together with tls_cert_file
  TlsVersion tls_min_version = TlsVersion::k1_3;  // TCP listener only; "1.2" or "1.3"
  // Where the generated dev certificate (and other runtime state) is kept. Empty in the struct
  // means "choose": load() resolves it to $XDG_STATE_HOME/mirror, else $HOME/.local/state/mirror,
  // else /tmp/mirror-state-<uid>. After load() it is never empty.
  std::string state_dir;
  std::string ticket_key_file;  // TLS session-ticket key file (shared across restarts/hosts);
                                // empty = a random key per process

  // --- timeouts (TCP listeners; QUIC has its own below) ---
  Duration read_timeout = 30s;      // longest stall while reading a request (head or body)
  Duration write_timeout = 30s;     // longest stall while the peer does not accept response bytes
  Duration idle_timeout = 60s;      // keep-alive: idle connection (no request in flight) closes
  Duration header_timeout = 10s;    // longest time to receive a complete request head
  Duration shutdown_timeout = 10s;  // graceful shutdown: drain time before connections are cut

  // --- QUIC transport ---
  uint64_t max_incoming_streams = 5000;      // initial_max_streams_bidi (concurrent requests)
  uint64_t max_incoming_uni_streams = 1000;  // initial_max_streams_uni
  Duration max_idle_timeout = 30s;           // QUIC max_idle_timeout transport parameter
  Duration handshake_idle_timeout = 5s;      // a handshake idle this long is abandoned
  Duration keep_alive_period = 0s;           // send PINGs this often when idle; 0 = off
  uint64_t max_stream_receive_window = 6 * kMiB;       // per-stream flow-control window
  uint64_t max_connection_receive_window = 15 * kMiB;  // per-connection flow-control window
  bool enable_datagrams = true;  // advertise max_datagram_frame_size and H3 SETTINGS_H3_DATAGRAM
  bool enable_0rtt = true;       // accept 0-RTT early data (GET/HEAD only, with anti-replay)
  CongestionControl congestion_control = CongestionControl::kCubic;
  RetryMode retry = RetryMode::kAuto;
  uint64_t retry_threshold = 100;      // handshakes in progress (per worker) before auto Retry
  uint64_t alt_svc_max_age = 86400;    // seconds, in `Alt-Svc: h3=":port"; ma=N` on TCP
                                       // responses; 0 = no Alt-Svc header
  std::string qlog_dir;                // write one qlog file per QUIC connection here; "" = off

  // --- workers and load shedding ---
  uint32_t workers = 0;                         // worker threads; 0 = number of CPU cores
  uint64_t max_connections_per_worker = 10000;  // TCP + QUIC connections; more are refused
  uint64_t max_handshakes_per_worker = 1000;    // TLS/QUIC handshakes in progress; more refused

  // --- application ---
  bool debug_endpoints = false;     // serve /debug/* endpoints
  std::string api_key;              // X-API-Key required on POST/PUT/PATCH/DELETE; "" = no auth
  std::string static_dir = "./static";  // files served under /static/ (relative to the cwd)
  bool https_redirect = false;      // accepted so old configs load; unused (as in the original)

  Limits limits;  // `server.limits:`
};

// `logging:`
struct Logging {
  // trace, debug, info, warn, error, critical, off. The Go original's names are accepted and
  // normalised: "warning" → warn, "fatal"/"panic" → critical.
  std::string level = "info";
  log::Format format = log::Format::kText;  // "text" or "json"
  std::string output = "stderr";            // "stderr", "stdout" or a file path
  int64_t max_size = 100;   // MB before rotation — accepted for compatibility, unused for now
  int64_t max_backups = 5;  // rotated files kept — accepted, unused for now
  int64_t max_age = 30;     // days to keep rotated files — accepted, unused for now
};

// `redis:` — parsed and validated now; the redis store uses it when `enabled` is true.
struct Redis {
  bool enabled = false;  // false = embedded in-memory store (the default; no Redis needed)
  std::vector<std::string> addresses = {"localhost:6379"};  // host:port; the first one is used
  std::string password;          // AUTH password; "" = none
  int64_t db = 0;                // SELECT index (0-15 on a stock Redis)
  int64_t max_retries = 3;       // retries of a failed command
  Duration dial_timeout = 5s;    // connect timeout
  Duration read_timeout = 3s;    // reply timeout
  Duration write_timeout = 3s;   // send timeout
  int64_t pool_size = 100;       // connections per process
  int64_t min_idle_conns = 10;   // connections kept open when idle; must be <= pool_size
};

// `metrics:` — Prometheus text exposition.
struct Metrics {
  bool enabled = true;
  std::string path = "/metrics";  // URL path; must start with '/'
  uint16_t port = 0;  // 0 = served on the main listeners; otherwise a separate cleartext HTTP/1.1
                      // listener on this port (what the Go original did, on 9090)
};

// `health:` — the checkers behind /health and /ready.
struct Health {
  std::string disk_path = "/";                  // filesystem the disk checker watches (statvfs)
  uint64_t disk_min_free = 1024 * kMiB;         // down below this many free bytes (or >90% used)
  uint64_t memory_limit = 8192 * kMiB;          // process RSS limit; down above 90% of it
  Duration check_timeout = 5s;                  // a checker taking longer reports down
  Duration interval = 30s;                      // background refresh of the cached /ready result
};

struct Config {
  Server server;
  Health health;
  Logging logging;
  Redis redis;
  Metrics metrics;

  // Not configuration keys — facts about how this Config was loaded.
  std::string source_file;          // the YAML file read ("" = none); reload re-reads it
  std::vector<std::string> notes;   // things worth a debug log line, e.g. ignored `ingestion:`
};

}  // namespace mirror::config
