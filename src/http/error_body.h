// The JSON error body that protocol layers send for requests they reject before any handler runs
// (parse errors, limits, 425 Too Early): the same shape as web::send_error, without a trace id.
#pragma once

#include <string>
#include <string_view>

namespace mirror::http {

// {"error":{"type":"<type>","message":"<message>"}}
std::string protocol_error_body(std::string_view type, std::string_view message);

}  // namespace mirror::http
