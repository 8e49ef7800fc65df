// Byte sizes in config values: a plain integer ("65536") or a number with a unit
// ("64KiB", "6 MiB", "1GB"). Binary units KiB/MiB/GiB are powers of 1024; KB/MB/GB (and K/M/G)
// are powers of 1000, as the names say.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace mirror::config {

// Errors (code "config.size") explain the problem without naming a key.
Result<uint64_t> parse_size(std::string_view text);

// The largest binary unit that divides the value exactly: 65536 → "64KiB", 1000 → "1000".
std::string format_size(uint64_t bytes);

}  // namespace mirror::config
