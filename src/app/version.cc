#include "app/version.h"

#include <fmt/core.h>
#include <spdlog/version.h>

#include <utility>

#include "web/response.h"

namespace mirror::app {
namespace {

// Go's names (GOOS/GOARCH), as the original reported them.
constexpr std::string_view kOs =
#if defined(__linux__)
    "linux";
#elif defined(__APPLE__)
    "darwin";
#else
    "unknown";
#endif

constexpr std::string_view kArch =
#if defined(__x86_64__)
    "amd64";
#elif defined(__aarch64__)
    "arm64";
#elif defined(__i386__)
    "386";
#else
        "unknown";
#endif

}  // namespace

std::string compiler_name() {
#if defined(__clang__)
  return fmt::format("clang++ {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  return fmt::format("g++ {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

nlohmann::ordered_json version_json(const std::map<std::string, std::string>& libraries) {
  std::map<std::string, std::string> libs = {
      {"nlohmann_json", fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR,
                                    NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH)},
      {"fmt",
       fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100)},
      {"spdlog", fmt::format("{}.{}.{}", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH)},
  };
  for (const auto& [name, version] : libraries) libs[name] = version;

  BuildInfo b = build_info();
  nlohmann::ordered_json j;
  j["version"] = b.version;
  j["git_commit"] = b.git_commit;
  j["build_time"] = b.build_time;
  j["compiler"] = compiler_name();
  j["os"] = kOs;
  j["arch"] = kArch;
  auto& out = j["libraries"];
  out = nlohmann::ordered_json::object();
  for (const auto& [name, version] : libs) out[name] = version;
  return j;
}

void register_version_routes(web::Router& router, std::map<std::string, std::string> libraries) {
  // The answer never changes while the process runs: render it once. Like the original
  // (json.Marshal), no trailing newline.
  auto body = std::make_shared<const std::string>(version_json(libraries).dump(
      -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  router.get("/version", [body](web::Context& ctx) {
    ctx.res().headers.set("cache-control", "public, max-age=3600");
    web::send_text(ctx, 200, *body, "application/json");
  });
}

}  // namespace mirror::app
