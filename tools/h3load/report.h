// The end-of-run report: h2load's text layout, or one JSON object for scripts.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "h3load/stats.h"

namespace h3load {

struct RunResult {
  Stats stats;                         // merged over all workers
  double elapsed_s = 0;                // wall time of the measured phase
  bool timing_mode = false;            // -D given
  uint64_t requests_total = 0;         // -n, or requests started with -D
  uint64_t not_issued = 0;             // -n requests never sent (counted as failed + errored)
  size_t clients = 0, threads = 0, max_concurrent = 0;
  std::optional<uint64_t> check_size;  // --check-size, echoed in the report
};

// Charges -n requests that were never sent (a connection could not be made, or work was
// abandoned) to failed and errored, as h2load does, and records how many in not_issued.
void account_not_issued(RunResult& r);

// Requests completed per second and bytes received per second over the measured phase.
double requests_per_second(const RunResult& r);
double bytes_per_second(const RunResult& r);

void print_text(const RunResult& r, std::ostream& out);
void print_json(const RunResult& r, std::ostream& out);

// True if any request failed or errored (the process then exits non-zero).
bool run_failed(const RunResult& r);

// h2load's number formats: "1.23ms" / "456us" / "2.00s", and "1.50MB" (powers of 1024).
std::string format_duration(double seconds);
std::string format_bytes(double bytes);

}  // namespace h3load
