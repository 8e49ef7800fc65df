#include "app/version.h"

#include <gtest/gtest.h>

#include "../web/fake_exchange.h"
#include "app/debug.h"
#include "web/pipeline.h"

namespace mirror::app {
namespace {

using testing::FakeExchange;

TEST(VersionTest, ShapeAndLibraries) {
  nlohmann::ordered_json j = version_json({{"ngtcp2", "0.12.1"}, {"fmt", "override"}});
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"version", "git_commit", "build_time", "compiler", "os",
                                            "arch", "libraries"}));
  EXPECT_FALSE(j["version"].get<std::string>().empty());
  EXPECT_FALSE(j["git_commit"].get<std::string>().empty());
  EXPECT_EQ(j["os"], "linux");
#if defined(__x86_64__)
  EXPECT_EQ(j["arch"], "amd64");
#endif
  EXPECT_EQ(j["libraries"]["ngtcp2"], "0.12.1");
  EXPECT_EQ(j["libraries"]["fmt"], "override");  // the server's value wins
  EXPECT_TRUE(j["libraries"].contains("nlohmann_json"));
  EXPECT_TRUE(j["libraries"].contains("spdlog"));
}

TEST(VersionTest, CompilerName) {
#if defined(__GNUC__) && !defined(__clang__)
  EXPECT_EQ(compiler_name().rfind("g++ ", 0), 0u);
  EXPECT_EQ(std::string(__VERSION__).rfind(compiler_name().substr(4), 0), 0u) << __VERSION__;
#endif
}

TEST(VersionTest, EndpointHeadersAndBody) {
  web::Pipeline p;
  register_version_routes(p.router(), {{"nghttp3", "0.8.0"}});
  auto ex = FakeExchange::make("GET", "/version");
  p.handle(ex);
  EXPECT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->header_value("content-type"), "application/json");
  EXPECT_EQ(ex->header_value("cache-control"), "public, max-age=3600");
  std::string body = ex->body();
  ASSERT_FALSE(body.empty());
  EXPECT_EQ(body.back(), '}');  // json.Marshal in the original: no trailing newline
  auto j = nlohmann::json::parse(body);
  EXPECT_EQ(j["libraries"]["nghttp3"], "0.8.0");
  EXPECT_EQ(j["version"], std::string(build_info().version));
}

TEST(DebugTest, InfoShape) {
  web::Pipeline p;
  register_debug_routes(p.router(), DebugInfo{8080, 8443, true, false, true});
  auto ex = FakeExchange::make("GET", "/debug/info");
  p.handle(ex);
  EXPECT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->header_value("content-type"), "application/json");
  EXPECT_EQ(ex->body(),
            "{\"debug_enabled\":true,\"ports\":{\"http\":8080,\"http3\":8443},"
            "\"protocols\":{\"http11\":true,\"http2\":false,\"http3\":true}}\n");
}

}  // namespace
}  // namespace mirror::app
