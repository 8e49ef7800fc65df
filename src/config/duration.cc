#include "config/duration.h"

#include <fmt/format.h>

#include <cstdint>
#include <limits>

namespace mirror::config {
namespace {

struct Unit {
  std::string_view name;
  int64_t ns;
};

// Longest names first so "ms" is not read as "m" followed by garbage.
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},  // U+00B5 MICRO SIGN, as Go accepts
    {"\xCE\xBCs", 1'000},  // U+03BC GREEK SMALL LETTER MU, as Go accepts
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

Error bad(std::string_view text, std::string_view why) {
  return make_error("config.duration", fmt::format("\"{}\" is not a duration ({}; examples: 30s, "
                                                   "1m30s, 500ms)", text, why));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  constexpr __int128 kMax = std::numeric_limits<int64_t>::max();
  std::string_view s = text;
  if (s.empty()) return bad(text, "it is empty");
  if (s.front() == '-') return bad(text, "negative durations are not allowed");
  if (s.front() == '+') s.remove_prefix(1);
  if (s == "0") return Duration{0};
  if (s.empty()) return bad(text, "no number");

  __int128 total = 0;
  while (!s.empty()) {
    // <digits>[.<digits>]
    __int128 whole = 0;
    size_t i = 0;
    while (i < s.size() && is_digit(s[i])) {
      whole = whole * 10 + (s[i] - '0');
      if (whole > kMax) return bad(text, "too large");
      ++i;
    }
    bool has_whole = i > 0;
    int64_t frac = 0;       // the first 18 fractional digits
    int64_t frac_scale = 1; // 10^(digits kept)
    bool has_frac = false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && is_digit(s[i])) {
        has_frac = true;
        if (frac_scale < 1'000'000'000'000'000'000) {  // extra digits are below 1ns anyway
          frac = frac * 10 + (s[i] - '0');
          frac_scale *= 10;
        }
        ++i;
      }
    }
    if (!has_whole && !has_frac) {
      return bad(text, i < s.size() ? fmt::format("unexpected \"{}\"", s.substr(i, 1))
                                    : std::string("a number must come before each unit"));
    }
    s.remove_prefix(i);

    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (s.substr(0, u.name.size()) == u.name &&
          (unit == nullptr || u.name.size() > unit->name.size())) {
        unit = &u;
      }
    }
    if (unit == nullptr) {
      return bad(text, s.empty() ? "missing unit: use ns, us, ms, s, m or h"
                                 : "unknown unit: use ns, us, ms, s, m or h");
    }
    s.remove_prefix(unit->name.size());

    // |frac| < 1e18 and unit <= 3.6e12, so the product fits easily in 128 bits.
    __int128 part = whole * unit->ns + static_cast<__int128>(frac) * unit->ns / frac_scale;
    total += part;
    if (total > kMax) return bad(text, "too large");
  }
  return Duration{static_cast<int64_t>(total)};
}

namespace {

// Appends value/scale with the fraction's trailing zeros removed, then the unit.
void append_scaled(std::string& out, int64_t value, int64_t scale, std::string_view unit) {
  out += std::to_string(value / scale);
  int64_t rest = value % scale;
  if (rest != 0) {
    int digits = 0;
    for (int64_t s = scale; s > 1; s /= 10) ++digits;
    std::string frac = fmt::format("{:0{}}", rest, digits);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    out += '.';
    out += frac;
  }
  out += unit;
}

}  // namespace

std::string format_duration(Duration d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {  // not produced by parse_duration, but keep the function total
    out += '-';
    if (ns == std::numeric_limits<int64_t>::min()) return "-2562047h47m16.854775808s";
    ns = -ns;
  }
  constexpr int64_t kSecond = 1'000'000'000;
  if (ns < kSecond) {
    if (ns >= 1'000'000) {
      append_scaled(out, ns, 1'000'000, "ms");
    } else if (ns >= 1'000) {
      append_scaled(out, ns, 1'000, "us");
    } else {
      append_scaled(out, ns, 1, "ns");
    }
    return out;
  }
  int64_t hours = ns / (3600 * kSecond);
  ns %= 3600 * kSecond;
  int64_t minutes = ns / (60 * kSecond);
  ns %= 60 * kSecond;
  if (hours != 0) out += fmt::format("{}h", hours);
  if (minutes != 0) out += fmt::format("{}m", minutes);
  if (ns != 0) append_scaled(out, ns, kSecond, "s");
  return out;
}

}  // namespace mirror::config
