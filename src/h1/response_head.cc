#include "h1/response_head.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "base/clock.h"
#include "http/message.h"

namespace mirror::h1 {
namespace {

bool is_safe_name(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c >= 0x7f || c == ':') return false;
  }
  return true;
}

bool is_safe_value(std::string_view value) {
  for (unsigned char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

}  // namespace

void append_status_line(std::string& out, int status) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += http::reason_phrase(status);
  out += "\r\n";
}

void append_fields(std::string& out, const http::Headers& fields) {
  for (const auto& f : fields) {
    if (!is_safe_name(f.name) || !is_safe_value(f.value)) continue;
    out += f.name;
    out += ": ";
    out += f.value;
    out += "\r\n";
  }
}

const std::string& current_http_date() {
  thread_local time_t formatted_for = 0;
  thread_local std::string value;
  time_t now = time(nullptr);
  if (now != formatted_for || value.empty()) {
    value = http_date(std::chrono::system_clock::from_time_t(now));
    formatted_for = now;
  }
  return value;
}

std::string json_error_body(std::string_view type, std::string_view message) {
  std::string out = R"({"error":{"type":")";
  auto append_escaped = [&out](std::string_view s) {
    for (unsigned char c : s) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
    }
  };
  append_escaped(type);
  out += R"(","message":")";
  append_escaped(message);
  out += R"("}})";
  return out;
}

}  // namespace mirror::h1
