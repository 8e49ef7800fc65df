#include "h3/request_policy.h"

#include <cstdio>

namespace mirror::h3 {

bool refuse_early_request(http::Method method, bool early_data) {
  if (!early_data) return false;
  switch (method) {
    case http::Method::kGet:
    case http::Method::kHead:
    case http::Method::kOptions:
      return false;
    default:
      return true;
  }
}

bool is_connection_specific_header(std::string_view n) {
  return n == "connection" || n == "keep-alive" || n == "proxy-connection" ||
         n == "transfer-encoding" || n == "upgrade";
}

namespace {
void append_escaped(std::string& out, std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
}
}  // namespace

std::string error_json(std::string_view type, std::string_view message) {
  std::string out = "{\"error\":{\"type\":\"";
  append_escaped(out, type);
  out += "\",\"message\":\"";
  append_escaped(out, message);
  out += "\"}}";
  return out;
}

}  // namespace mirror::h3
