// Counters and timing samples. Each worker owns one Stats (no locks on the hot path); the main
// thread merges them after the workers have joined.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <vector>

namespace h3load {

// Keeps every sample up to a cap, then a uniform reservoir (Algorithm R) of that size, so a long
// -D run cannot exhaust memory. min/max/count/sum are exact regardless of the cap.
class Sampler {
 public:
  explicit Sampler(size_t cap = size_t{1} << 20) : cap_(cap) {}

  void add(double v);
  void merge(const Sampler& other);

  uint64_t count() const { return count_; }
  double min() const { return count_ ? min_ : 0; }
  double max() const { return count_ ? max_ : 0; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }
  const std::vector<double>& samples() const { return samples_; }

 private:
  size_t cap_;
  std::vector<double> samples_;
  uint64_t count_ = 0;
  double sum_ = 0, min_ = 0, max_ = 0;
  std::minstd_rand rng_{12345};
};

struct Stats {
  // Requests, counted as h2load does: "done" = stream finished; "succeeded" = done with 2xx/3xx
  // (and, with --check-size, the right body length); "failed" = not succeeded for any reason;
  // "errored" = failed without a complete response (reset, connection loss, never sent);
  // "timeout" = errored because --timeout fired.
  uint64_t req_started = 0;
  uint64_t req_done = 0;
  uint64_t req_completed = 0;        // done with a complete response, whatever the status
  uint64_t req_status_success = 0;   // reported as "succeeded"
  uint64_t req_failed = 0;
  uint64_t req_errored = 0;
  uint64_t req_timedout = 0;
  uint64_t size_mismatch = 0;        // --check-size failures (also counted in req_failed)
  std::array<uint64_t, 6> status{};  // index = status / 100

  // Bytes received: all QUIC stream data, HEADERS frame payloads, response bodies.
  uint64_t bytes_total = 0;
  uint64_t bytes_head = 0;
  uint64_t bytes_head_decomp = 0;  // decoded header name+value bytes (for "space savings")
  uint64_t bytes_body = 0;

  uint64_t udp_sent = 0;
  uint64_t udp_recv = 0;
  uint64_t connections = 0;         // QUIC connections attempted
  uint64_t connect_failures = 0;    // handshakes that never completed
  uint64_t connection_errors = 0;   // connections lost after the handshake
  uint64_t last_done_ns = 0;        // monotonic time the last measured request finished

  // Samples, in seconds.
  Sampler request_time;        // request sent -> stream closed, completed requests only
  Sampler connect_time;        // first Initial -> handshake completed, per connection
  Sampler ttfb;                // first Initial -> first response HEADERS, per connection
  Sampler client_rps{1 << 16}; // per logical client: completed requests / its active time

  void merge(const Stats& other);
};

// min / max / mean / sd / share within one sd, and percentiles, of one Sampler.
struct TimeStat {
  uint64_t count = 0;
  double min = 0, max = 0, mean = 0, sd = 0, within_sd = 0;  // within_sd in percent
  double p50 = 0, p90 = 0, p99 = 0;
};

TimeStat summarize(const Sampler& s);

}  // namespace h3load
