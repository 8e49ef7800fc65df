#include "config/size.h"

#include <fmt/format.h>

#include <cctype>
#include <limits>

namespace mirror::config {
namespace {

struct Unit {
  std::string_view name;
  uint64_t bytes;
};

constexpr Unit kUnits[] = {
    {"", 1},           {"B", 1},
    {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30},
    {"KB", 1'000},     {"MB", 1'000'000},   {"GB", 1'000'000'000},
    {"K", 1'000},      {"M", 1'000'000},    {"G", 1'000'000'000},
};

Error bad(std::string_view text, std::string_view why) {
  return make_error("config.size", fmt::format("\"{}\" is not a size ({}; examples: 65536, "
                                               "64KiB, 6MiB)", text, why));
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<uint64_t> parse_size(std::string_view text) {
  std::string_view s = text;
  if (s.empty()) return bad(text, "it is empty");
  if (s.front() == '-') return bad(text, "negative sizes are not allowed");
  unsigned __int128 number = 0;
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    number = number * 10 + static_cast<unsigned>(s[i] - '0');
    if (number > std::numeric_limits<uint64_t>::max()) return bad(text, "too large");
    ++i;
  }
  if (i == 0) return bad(text, "it must start with a whole number");
  std::string_view unit = s.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  for (const Unit& u : kUnits) {
    // Binary units are matched exactly ("KiB"); decimal ones in any case ("kb", "Mb").
    bool binary = u.name.size() == 3;
    if (binary ? unit == u.name : equal_ignoring_case(unit, u.name)) {
      unsigned __int128 bytes = number * u.bytes;
      if (bytes > std::numeric_limits<uint64_t>::max()) return bad(text, "too large");
      return static_cast<uint64_t>(bytes);
    }
  }
  return bad(text, "unknown unit: use B, KiB, MiB, GiB, KB, MB or GB");
}

std::string format_size(uint64_t bytes) {
  if (bytes != 0) {
    if (bytes % (1ULL << 30) == 0) return fmt::format("{}GiB", bytes >> 30);
    if (bytes % (1ULL << 20) == 0) return fmt::format("{}MiB", bytes >> 20);
    if (bytes % (1ULL << 10) == 0) return fmt::format("{}KiB", bytes >> 10);
  }
  return std::to_string(bytes);
}

}  // namespace mirror::config
