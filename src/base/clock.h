// Clocks: a monotonic nanosecond clock (for QUIC and timeouts) and wall-clock helpers.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace mirror {

using Duration = std::chrono::nanoseconds;

inline uint64_t monotonic_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// RFC 3339 with nanoseconds and trailing zero fractions trimmed, in UTC ("...Z"),
// the shape Go's time.Time marshals to.
std::string rfc3339_now();
std::string rfc3339(std::chrono::system_clock::time_point tp);
// IMF-fixdate for HTTP headers: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::chrono::system_clock::time_point tp);
// The current time as an IMF-fixdate for Date fields, formatted at most once a second per thread.
const std::string& current_http_date();
// Parses an IMF-fixdate; returns false on anything else.
bool parse_http_date(const std::string& s, std::chrono::system_clock::time_point& out);

}  // namespace mirror
