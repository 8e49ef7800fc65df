// GET <prefix>/* from a directory: Content-Type by extension, strong ETag, Last-Modified,
// conditional requests (If-None-Match, If-Modified-Since -> 304), single byte ranges (206/416,
// If-Range), bodies streamed from the open file with pread (http::FileBody), never read whole.
// No directory listings; anything that could escape the root is 404 (see static_path.h).
#pragma once

#include <string>

#include "base/result.h"
#include "web/router.h"

namespace mirror::app {

struct StaticOptions {
  std::string root;                // directory to serve
  std::string prefix = "/static";  // files answer at <prefix>/<path below root>
  bool allow_openat2 = true;       // false forces the realpath() fallback (tests)
};

// Opens the root (error if it is not a readable directory) and adds GET <prefix>/*.
Status register_static_routes(web::Router& router, const StaticOptions& options);

}  // namespace mirror::app
