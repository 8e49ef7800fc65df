// h3load command line: h2load's flags where they make sense for HTTP/3, plus a few QUIC knobs.
#pragma once

#include <ngtcp2/ngtcp2.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace h3load {

// One https:// URI from the command line. All URIs must name the same host and port: a
// connection goes to one server, and the paths are used round-robin (like h2load).
struct Target {
  std::string host;       // "127.0.0.1", "example.com", "::1" (no brackets)
  std::string port;       // "443" when the URI has none
  std::string authority;  // ":authority" value, e.g. "127.0.0.1:4433" or "[::1]:4433"
  std::string path;       // ":path" value including the query, "/" when empty
};

struct Header {
  std::string name;  // lower-case
  std::string value;
};

struct Options {
  // Workload.
  uint64_t requests = 1;        // -n: total requests (ignored with -D)
  size_t clients = 1;           // -c: QUIC connections open at the same time
  size_t max_concurrent = 1;    // -m: requests in flight per connection
  size_t threads = 1;           // -t: worker threads, each with its own event loop
  double duration_s = 0;        // -D: run for this long instead of -n requests (0 = off)
  double warm_up_s = 0;         // --warm-up-time: traffic not counted before the measurement
  std::vector<Target> targets;  // positional URIs, used round-robin per connection

  // Request shape.
  std::string method = "GET";    // --method; POST when -d is given
  std::vector<Header> headers;   // -H "name: value" (":authority" etc. override pseudo-headers)
  std::optional<std::string> body;  // -d FILE contents, sent with content-length

  // Checks.
  std::optional<uint64_t> check_size;  // --check-size: a body of any other length fails

  // Timeouts (nanoseconds; 0 = none).
  uint64_t inactivity_timeout_ns = 0;              // -N/--timeout: no response bytes for this long
  uint64_t connect_timeout_ns = 10'000'000'000;    // --connect-timeout: QUIC handshake deadline
  uint64_t idle_timeout_ns = 30'000'000'000;       // --idle-timeout: QUIC max_idle_timeout TP
  uint64_t initial_rtt_ns = NGTCP2_DEFAULT_INITIAL_RTT;  // --initial-rtt (RFC 9002: 333ms)

  // QUIC / TLS.
  ngtcp2_cc_algo cc = NGTCP2_CC_ALGO_CUBIC;  // --cc reno|cubic|bbr|bbr2
  std::string sni;                           // --sni; default: the URI host unless it is an IP
  size_t max_udp_payload_size = 0;           // --max-udp-payload-size (0 = ngtcp2 default 1452)
  uint64_t max_data = 15 << 20;              // --max-data: connection flow-control window
  uint64_t max_stream_data = 6 << 20;        // --max-stream-data: per-stream window
  uint64_t max_window = 24 << 20;            // auto-tuning ceilings (ngtcp2 settings)
  uint64_t max_stream_window = 16 << 20;

  // Output.
  bool verbose = false;  // -v: per-connection and per-request lines on stderr
  bool json = false;     // --json: one JSON object on stdout instead of the text report

  bool timing_mode() const { return duration_s > 0; }
};

// Parses argv; prints --help / --version itself and returns an Error whose code is "exit:0".
mirror::Result<Options> parse_options(int argc, char** argv);

// "10" (seconds), "10s", "250ms", "100us", "2m", "1h" -> seconds. nullopt if malformed.
std::optional<double> parse_duration_s(const std::string& text);
// "1024", "64K", "1M", "2G" (IEC, powers of 1024) -> bytes. nullopt if malformed.
std::optional<uint64_t> parse_size(const std::string& text);
// "https://host[:port]/path?query" -> Target. Error for other schemes or a missing host.
mirror::Result<Target> parse_uri(const std::string& uri);

}  // namespace h3load
