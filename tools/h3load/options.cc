#include "h3load/options.h"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

namespace h3load {

using mirror::make_error;

std::optional<double> parse_duration_s(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (value < 0 || !std::isfinite(value)) return std::nullopt;
  const std::string unit = text.substr(used);
  if (unit.empty() || unit == "s") return value;
  if (unit == "ms") return value / 1e3;
  if (unit == "us") return value / 1e6;
  if (unit == "m") return value * 60;
  if (unit == "h") return value * 3600;
  return std::nullopt;
}

std::optional<uint64_t> parse_size(const std::string& text) {
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return std::nullopt;
  size_t used = 0;
  uint64_t value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string unit = text.substr(used);
  if (unit.empty()) return value;
  if (unit.size() != 1) return std::nullopt;
  switch (std::toupper(static_cast<unsigned char>(unit[0]))) {
    case 'K': return value << 10;
    case 'M': return value << 20;
    case 'G': return value << 30;
    default: return std::nullopt;
  }
}

mirror::Result<Target> parse_uri(const std::string& uri) {
  static const std::string kScheme = "https://";
  if (uri.compare(0, kScheme.size(), kScheme) != 0) {
    return make_error("options.uri", "only https:// URIs are supported: " + uri);
  }
  std::string rest = uri.substr(kScheme.size());
  const size_t path_start = rest.find_first_of("/?");
  std::string hostport = rest.substr(0, path_start);
  Target t;
  t.path = path_start == std::string::npos ? "/" : rest.substr(path_start);
  if (t.path[0] == '?') t.path.insert(0, "/");
  if (const size_t hash = t.path.find('#'); hash != std::string::npos) t.path.resize(hash);

  if (!hostport.empty() && hostport[0] == '[') {  // [v6]:port
    const size_t close = hostport.find(']');
    if (close == std::string::npos) return make_error("options.uri", "bad IPv6 literal: " + uri);
    t.host = hostport.substr(1, close - 1);
    const std::string after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return make_error("options.uri", "bad authority: " + uri);
      t.port = after.substr(1);
    }
  } else {
    const size_t colon = hostport.rfind(':');
    t.host = hostport.substr(0, colon);
    if (colon != std::string::npos) t.port = hostport.substr(colon + 1);
  }
  if (t.host.empty()) return make_error("options.uri", "URI has no host: " + uri);
  if (t.port.empty()) t.port = "443";
  if (!std::all_of(t.port.begin(), t.port.end(), [](char c) { return std::isdigit(c); })) {
    return make_error("options.uri", "bad port in URI: " + uri);
  }
  const bool v6 = t.host.find(':') != std::string::npos;
  t.authority = (v6 ? "[" + t.host + "]" : t.host);
  if (t.port != "443") t.authority += ":" + t.port;
  return t;
}

namespace {

mirror::Result<Header> parse_header(const std::string& text) {
  // A leading ':' belongs to the name (":authority: x"), so search for the separator after it.
  const size_t colon = text.find(':', text.empty() || text[0] != ':' ? 0 : 1);
  if (colon == std::string::npos || colon == 0) {
    return make_error("options.header", "expected \"name: value\": " + text);
  }
  Header h{text.substr(0, colon), text.substr(colon + 1)};
  std::transform(h.name.begin(), h.name.end(), h.name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  const size_t first = h.value.find_first_not_of(" \t");
  h.value = first == std::string::npos ? "" : h.value.substr(first);
  return h;
}

std::optional<ngtcp2_cc_algo> parse_cc(const std::string& name) {
  if (name == "reno") return NGTCP2_CC_ALGO_RENO;
  if (name == "cubic") return NGTCP2_CC_ALGO_CUBIC;
  if (name == "bbr") return NGTCP2_CC_ALGO_BBR;
  if (name == "bbr2") return NGTCP2_CC_ALGO_BBR2;
  return std::nullopt;
}

uint64_t to_ns(double seconds) { return static_cast<uint64_t>(std::llround(seconds * 1e9)); }

// The raw strings CLI11 fills; converted and validated by finish().
struct RawFlags {
  std::string duration, warm_up, timeout, connect_timeout, idle_timeout, initial_rtt;
  std::string max_data, max_stream_data, cc = "cubic", data_file;
  std::vector<std::string> headers, uris;
  std::string method;
  bool insecure = true;
};

mirror::Status finish(RawFlags& raw, Options& o) {
  auto seconds = [](const std::string& flag, const std::string& text,
                    double& out) -> mirror::Status {
    if (text.empty()) return {};
    auto v = parse_duration_s(text);
    if (!v) return make_error("options." + flag, flag + ": bad duration: " + text);
    out = *v;
    return {};
  };
  double timeout = 0, connect_timeout = o.connect_timeout_ns / 1e9, idle = o.idle_timeout_ns / 1e9;
  double initial_rtt = o.initial_rtt_ns / 1e9;
  for (auto st : {seconds("-D", raw.duration, o.duration_s),
                  seconds("--warm-up-time", raw.warm_up, o.warm_up_s),
                  seconds("--timeout", raw.timeout, timeout),
                  seconds("--connect-timeout", raw.connect_timeout, connect_timeout),
                  seconds("--idle-timeout", raw.idle_timeout, idle),
                  seconds("--initial-rtt", raw.initial_rtt, initial_rtt)}) {
    if (!st) return st;
  }
  o.inactivity_timeout_ns = to_ns(timeout);
  o.connect_timeout_ns = to_ns(connect_timeout);
  o.idle_timeout_ns = to_ns(idle);
  o.initial_rtt_ns = to_ns(initial_rtt);
  if (o.initial_rtt_ns == 0) return make_error("options.initial_rtt", "--initial-rtt must be > 0");

  for (auto [flag, text, out] : {std::tuple{"--max-data", &raw.max_data, &o.max_data},
                                 std::tuple{"--max-stream-data", &raw.max_stream_data,
                                            &o.max_stream_data}}) {
    if (text->empty()) continue;
    auto v = parse_size(*text);
    if (!v || *v == 0) return make_error("options.size", std::string(flag) + ": bad size: " + *text);
    *out = *v;
  }
  o.max_window = std::max(o.max_window, o.max_data);
  o.max_stream_window = std::max(o.max_stream_window, o.max_stream_data);

  auto cc = parse_cc(raw.cc);
  if (!cc) return make_error("options.cc", "--cc: expected reno, cubic, bbr or bbr2: " + raw.cc);
  o.cc = *cc;

  for (const auto& text : raw.headers) {
    auto h = parse_header(text);
    if (!h) return h.error();
    o.headers.push_back(std::move(h.value()));
  }

  if (!raw.data_file.empty()) {
    std::ifstream in(raw.data_file, std::ios::binary);
    if (!in) return make_error("options.data", "-d: cannot read " + raw.data_file);
    std::ostringstream content;
    content << in.rdbuf();
    o.body = content.str();
    o.method = "POST";
  }
  if (!raw.method.empty()) o.method = raw.method;

  if (raw.uris.empty()) return make_error("options.uri", "give at least one https:// URI");
  for (const auto& uri : raw.uris) {
    auto t = parse_uri(uri);
    if (!t) return t.error();
    if (!o.targets.empty() &&
        (t->host != o.targets[0].host || t->port != o.targets[0].port)) {
      return make_error("options.uri", "all URIs must use the same host and port: " + uri);
    }
    o.targets.push_back(std::move(t.value()));
  }
  if (o.sni.empty()) {
    in6_addr scratch;
    const bool numeric = inet_pton(AF_INET, o.targets[0].host.c_str(), &scratch) == 1 ||
                         inet_pton(AF_INET6, o.targets[0].host.c_str(), &scratch) == 1;
    if (!numeric) o.sni = o.targets[0].host;  // RFC 6066: no IP literals in SNI
  }

  if (o.clients == 0 || o.threads == 0 || o.max_concurrent == 0) {
    return make_error("options.range", "-c, -t and -m must be at least 1");
  }
  if (o.threads > o.clients) {
    std::cerr << "warning: -t " << o.threads << " > -c " << o.clients << "; using -t "
              << o.clients << "\n";
    o.threads = o.clients;
  }
  if (!o.timing_mode()) {
    if (o.warm_up_s > 0) return make_error("options.warm_up", "--warm-up-time needs -D");
    if (o.requests < o.clients) {
      return make_error("options.range", "-n must be at least -c (each client needs a request)");
    }
  }
  return {};
}

}  // namespace

mirror::Result<Options> parse_options(int argc, char** argv) {
  Options o;
  RawFlags raw;
  CLI::App app{"h3load: HTTP/3 load generator (h2load-style output)", "h3load"};
  app.set_version_flag("--version", "h3load 0.1 (ngtcp2 " NGTCP2_VERSION ")");
  app.add_option("uris", raw.uris, "https:// URIs (same host:port), used round-robin")
      ->required();
  app.add_option("-n,--requests", o.requests, "Total number of requests")->capture_default_str();
  app.add_option("-c,--clients", o.clients, "Number of concurrent QUIC connections")
      ->capture_default_str();
  app.add_option("-m,--max-concurrent-streams", o.max_concurrent,
                 "Requests in flight per connection")->capture_default_str();
  app.add_option("-t,--threads", o.threads, "Worker threads")->capture_default_str();
  app.add_option("-D,--duration", raw.duration,
                 "Run for this long (e.g. 10, 10s, 500ms) instead of -n requests");
  app.add_option("--warm-up-time", raw.warm_up, "With -D: unmeasured traffic first");
  app.add_option("-H,--header", raw.headers, "Extra header \"name: value\" (repeatable)");
  app.add_option("-d,--data", raw.data_file, "POST the contents of FILE");
  app.add_option("--method", raw.method, "Request method (default GET, or POST with -d)");
  app.add_option("-N,--timeout", raw.timeout,
                 "Fail a connection's requests if no response bytes arrive for this long "
                 "(default: off)");
  app.add_option("--connect-timeout", raw.connect_timeout, "QUIC handshake timeout (default 10s)");
  app.add_option("--idle-timeout", raw.idle_timeout, "QUIC max_idle_timeout (default 30s)");
  app.add_option("--initial-rtt", raw.initial_rtt,
                 "RTT assumed before the first sample; paces the first flights (default 333ms)");
  app.add_option("--cc", raw.cc, "Congestion control: reno, cubic, bbr, bbr2")
      ->capture_default_str();
  app.add_option("--sni", o.sni, "TLS server name (default: URI host unless it is an IP)");
  app.add_flag("--insecure,-k", raw.insecure,
               "Do not verify the server certificate (always the case; accepted for scripts)");
  app.add_option("--max-udp-payload-size", o.max_udp_payload_size,
                 "Largest UDP payload to send (default 1452)");
  app.add_option("--max-data", raw.max_data, "Connection flow-control window (default 15M)");
  app.add_option("--max-stream-data", raw.max_stream_data,
                 "Per-stream flow-control window (default 6M)");
  app.add_option("--check-size", o.check_size,
                 "Count a response whose body is not exactly N bytes as failed");
  app.add_flag("-v,--verbose", o.verbose, "Per-connection and per-request lines on stderr");
  app.add_flag("--json", o.json, "Print one JSON summary object instead of the text report");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return make_error("exit:" + std::to_string(code), e.what());
  }
  if (auto st = finish(raw, o); !st) return st.error();
  return o;
}

}  // namespace h3load
