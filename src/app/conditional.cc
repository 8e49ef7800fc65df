#include "app/conditional.h"

#include <charconv>

#include "base/clock.h"
#include "http/headers.h"

namespace mirror::app {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view strip_weak(std::string_view tag) {
  if (tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/') tag.remove_prefix(2);
  return tag;
}

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

bool if_none_match_matches(std::string_view header, std::string_view etag) {
  std::string_view ours = strip_weak(etag);
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = trim(header.substr(0, comma));
    if (item == "*") return true;
    if (!item.empty() && strip_weak(item) == ours) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

bool if_range_matches(std::string_view header, std::string_view etag,
                      std::chrono::system_clock::time_point last_modified) {
  header = trim(header);
  if (header.empty()) return false;
  if (header.front() == '"' || header.substr(0, 2) == "W/") {
    return header.front() == '"' && etag.substr(0, 2) != "W/" && header == etag;
  }
  std::chrono::system_clock::time_point date;
  if (!parse_http_date(std::string(header), date)) return false;
  return date == std::chrono::time_point_cast<std::chrono::seconds>(last_modified);
}

RangeRequest parse_range(std::string_view header, uint64_t size) {
  RangeRequest full;
  header = trim(header);
  size_t eq = header.find('=');
  if (eq == std::string_view::npos || !http::iequals(trim(header.substr(0, eq)), "bytes")) {
    return full;
  }
  std::string_view spec = trim(header.substr(eq + 1));
  if (spec.find(',') != std::string_view::npos) return full;  // several ranges: whole file
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return full;
  std::string_view first = trim(spec.substr(0, dash));
  std::string_view last = trim(spec.substr(dash + 1));

  RangeRequest r;
  if (first.empty()) {  // suffix: the last n bytes
    uint64_t n = 0;
    if (!parse_u64(last, n)) return full;
    if (n == 0 || size == 0) {
      r.kind = RangeRequest::Kind::kUnsatisfiable;
      return r;
    }
    r.kind = RangeRequest::Kind::kPartial;
    r.length = n < size ? n : size;
    r.offset = size - r.length;
    return r;
  }
  uint64_t a = 0;
  if (!parse_u64(first, a)) return full;
  uint64_t b = 0;
  if (last.empty()) {
    b = UINT64_MAX;
  } else if (!parse_u64(last, b) || b < a) {
    return full;
  }
  if (a >= size) {
    r.kind = RangeRequest::Kind::kUnsatisfiable;
    return r;
  }
  if (b >= size) b = size - 1;
  r.kind = RangeRequest::Kind::kPartial;
  r.offset = a;
  r.length = b - a + 1;
  return r;
}

}  // namespace mirror::app
