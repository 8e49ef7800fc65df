// GET /version: build metadata and the versions of the libraries Mirror runs with.
//   {"version","git_commit","build_time","compiler","os","arch","libraries":{name:version}}
// The protocol libraries' versions come from the server (the app may not include their headers);
// it fills them from the libraries' runtime version functions.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "web/router.h"

namespace mirror::app {

// Compiled into build_info.cc only, the one file that gets the build-time defines.
struct BuildInfo {
  std::string_view version;     // project version, e.g. "0.1.0"
  std::string_view git_commit;  // short hash or "unknown"
  std::string_view build_time;  // RFC 3339 UTC or "unknown"
};
BuildInfo build_info();

// "g++ 12.2.0", "clang++ 14.0.6".
std::string compiler_name();

// The body of /version. `libraries` (e.g. {"ngtcp2","0.12.1"}) is merged over the versions the
// app layer knows itself (nlohmann_json, fmt, spdlog); keys come out sorted.
nlohmann::ordered_json version_json(const std::map<std::string, std::string>& libraries);

// GET /version (Content-Type application/json, Cache-Control: public, max-age=3600).
void register_version_routes(web::Router& router, std::map<std::string, std::string> libraries);

}  // namespace mirror::app
