// Content-Type by file extension, for static files.
#pragma once

#include <string_view>

namespace mirror::app {

// The type for `path`'s extension (case-insensitive); "application/octet-stream" if unknown.
// Text types carry "; charset=utf-8".
std::string_view content_type_for(std::string_view path);

}  // namespace mirror::app
