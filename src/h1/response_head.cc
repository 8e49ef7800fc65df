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


}  // namespace mirror::h1
