// Go-style durations ("30s", "1m30s", "500ms", "1.5h", "300us", "0") ⇄ mirror::Duration.
#pragma once

#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"

namespace mirror::config {

// Parses a non-negative Go time.ParseDuration string: one or more <number><unit> parts, the
// number possibly with a fraction; units ns, us (µs, μs), ms, s, m, h. A bare "0" is allowed.
// Errors (code "config.duration") explain the problem without naming a key.
Result<Duration> parse_duration(std::string_view text);

// An exact spelling that parse_duration() reads back to the same value, without zero parts:
// "0s", "10ns", "300us", "1.5ms", "500ms", "1.5s", "1m30s", "1h", "2h45m", "1h0.5s".
std::string format_duration(Duration d);

}  // namespace mirror::config
