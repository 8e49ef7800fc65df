#include "http/error_body.h"

#include "base/json.h"

namespace mirror::http {

std::string protocol_error_body(std::string_view type, std::string_view message) {
  std::string out = R"({"error":{"type":)";
  append_json_string(out, type);
  out += R"(,"message":)";
  append_json_string(out, message);
  out += "}}";
  return out;
}

}  // namespace mirror::http
