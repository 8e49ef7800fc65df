// QUIC endpoint settings (one struct, every field documented with its default) and the counters an
// endpoint keeps.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace mirror::quic {

enum class CongestionControl { kReno, kCubic, kBbr, kBbr2 };
// Address validation with Retry: never, for every tokenless Initial, or only while this worker has
// more handshakes in progress than Options::retry_threshold (a cheap defence against floods).
enum class RetryMode { kNever, kAlways, kAuto };

struct Options {
  uint16_t port = 443;  // UDP port every worker binds (SO_REUSEPORT)

  // Streams the peer may have open at once; credit is extended as request streams close.
  uint64_t max_incoming_streams = 5000;      // bidirectional (requests)
  uint64_t max_incoming_uni_streams = 1000;  // unidirectional (h3 control + QPACK need 3)

  // Flow control: initial windows; ngtcp2 auto-tunes them up to the max_* values.
  uint64_t initial_stream_receive_window = 512 * 1024;
  uint64_t max_stream_receive_window = 6 * 1024 * 1024;
  uint64_t initial_connection_receive_window = 1024 * 1024;
  uint64_t max_connection_receive_window = 15 * 1024 * 1024;

  std::chrono::milliseconds handshake_idle_timeout{5000};  // give up an unfinished handshake
  std::chrono::milliseconds max_idle_timeout{30000};       // transport parameter max_idle_timeout
  std::chrono::milliseconds keep_alive_period{0};          // 0 = no PINGs to keep idle conns open

  bool enable_datagrams = true;  // advertise max_datagram_frame_size (RFC 9221); frames are counted
  bool enable_0rtt = true;       // accept TLS early data (0-RTT); unsafe methods get 425
  CongestionControl congestion_control = CongestionControl::kCubic;

  RetryMode retry = RetryMode::kAuto;
  size_t retry_threshold = 100;  // kAuto: Retry when handshakes in progress on this worker exceed it

  size_t max_connections = 10000;  // per worker; beyond it new connections are refused
  size_t max_handshakes = 1000;    // per worker; handshakes in progress

  std::chrono::seconds retry_token_lifetime{10};
  std::chrono::seconds new_token_lifetime{24 * 3600};  // NEW_TOKEN tokens (skip Retry next time)

  uint32_t stateless_resets_per_second = 100;  // per worker; 0 disables stateless reset

  std::string qlog_dir;  // non-empty: one <odcid>.sqlog file per connection
  std::chrono::milliseconds shutdown_timeout{10000};  // in-flight requests get this long after GOAWAY

  // HTTP/3 request limits (enforced by h3::Session).
  size_t max_header_bytes = 1024 * 1024;  // decoded field section (name+value+32 each) -> 431
  size_t max_header_count = 128;          // fields per section -> 431
  uint64_t max_body_size = 10 * 1024 * 1024;  // request body -> 413
  uint32_t max_resets_per_second = 200;  // RESET_STREAM+STOP_SENDING per conn -> H3_EXCESSIVE_LOAD
  size_t qpack_max_dtable_capacity = 4096;  // QPACK decoder dynamic table we allow the peer
  size_t qpack_blocked_streams = 100;

  int socket_buffer_bytes = 4 * 1024 * 1024;  // SO_RCVBUF/SO_SNDBUF (FORCE variants tried first)
  bool enable_gso = true;                     // UDP_SEGMENT when the kernel has it
  size_t max_gso_segments = 64;
};

// Per-endpoint counters. Updated on the worker thread, read from anywhere (relaxed atomics).
struct Counters {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_refused{0};     // over max_connections / max_handshakes
  std::atomic<uint64_t> handshakes_completed{0};
  std::atomic<uint64_t> handshake_timeouts{0};
  std::atomic<uint64_t> connections_0rtt{0};        // handshakes where early data was accepted
  std::atomic<uint64_t> requests_0rtt{0};           // requests that arrived in 0-RTT
  std::atomic<uint64_t> early_requests_refused{0};  // 425 Too Early
  std::atomic<uint64_t> retries_sent{0};
  std::atomic<uint64_t> invalid_tokens{0};
  std::atomic<uint64_t> version_negotiations_sent{0};
  std::atomic<uint64_t> stateless_resets_sent{0};
  std::atomic<uint64_t> datagrams_received{0};  // UDP datagrams
  std::atomic<uint64_t> datagrams_sent{0};
  std::atomic<uint64_t> datagrams_forwarded{0};  // handed to another worker (CID names it)
  std::atomic<uint64_t> datagrams_dropped{0};
  std::atomic<uint64_t> quic_datagram_frames_received{0};  // RFC 9221 DATAGRAM frames
  std::atomic<uint64_t> path_migrations{0};                 // validated new client paths
  std::atomic<uint64_t> gso_sends{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> excessive_load_closes{0};  // connections closed for reset floods
};

// A plain snapshot of Counters.
struct Stats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;
  uint64_t handshakes_completed = 0;
  uint64_t handshake_timeouts = 0;
  uint64_t connections_0rtt = 0;
  uint64_t requests_0rtt = 0;
  uint64_t early_requests_refused = 0;
  uint64_t retries_sent = 0;
  uint64_t invalid_tokens = 0;
  uint64_t version_negotiations_sent = 0;
  uint64_t stateless_resets_sent = 0;
  uint64_t datagrams_received = 0;
  uint64_t datagrams_sent = 0;
  uint64_t datagrams_forwarded = 0;
  uint64_t datagrams_dropped = 0;
  uint64_t quic_datagram_frames_received = 0;
  uint64_t path_migrations = 0;
  uint64_t gso_sends = 0;
  uint64_t requests = 0;
  uint64_t excessive_load_closes = 0;
  uint64_t connections_open = 0;
  uint64_t handshakes_in_progress = 0;
};

Stats snapshot(const Counters& c);

// Every counter with its report name: one list for sums across workers and for reports.
struct StatField {
  const char* name;
  uint64_t Stats::*member;
};
inline constexpr StatField kStatFields[] = {
    {"connections_accepted", &Stats::connections_accepted},
    {"connections_refused", &Stats::connections_refused},
    {"handshakes_completed", &Stats::handshakes_completed},
    {"handshake_timeouts", &Stats::handshake_timeouts},
    {"connections_0rtt", &Stats::connections_0rtt},
    {"requests_0rtt", &Stats::requests_0rtt},
    {"early_requests_refused", &Stats::early_requests_refused},
    {"retries_sent", &Stats::retries_sent},
    {"invalid_tokens", &Stats::invalid_tokens},
    {"version_negotiations_sent", &Stats::version_negotiations_sent},
    {"stateless_resets_sent", &Stats::stateless_resets_sent},
    {"datagrams_received", &Stats::datagrams_received},
    {"datagrams_sent", &Stats::datagrams_sent},
    {"datagrams_forwarded", &Stats::datagrams_forwarded},
    {"datagrams_dropped", &Stats::datagrams_dropped},
    {"quic_datagram_frames_received", &Stats::quic_datagram_frames_received},
    {"path_migrations", &Stats::path_migrations},
    {"gso_sends", &Stats::gso_sends},
    {"requests", &Stats::requests},
    {"excessive_load_closes", &Stats::excessive_load_closes},
    {"connections_open", &Stats::connections_open},
    {"handshakes_in_progress", &Stats::handshakes_in_progress},
};

inline Stats& operator+=(Stats& a, const Stats& b) {
  for (const auto& f : kStatFields) a.*f.member += b.*f.member;
  return a;
}

}  // namespace mirror::quic
