#include "h3/request_policy.h"

#include "http/error_body.h"

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



std::string error_json(std::string_view type, std::string_view message) {
  return http::protocol_error_body(type, message);
}

}  // namespace mirror::h3
