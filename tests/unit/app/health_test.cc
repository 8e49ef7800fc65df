#include "app/health.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <stdexcept>
#include <thread>

#include "../web/fake_exchange.h"
#include "web/pipeline.h"

namespace mirror::app {
namespace {

using namespace std::chrono_literals;
using testing::FakeExchange;

const std::regex kRfc3339(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$)");

TEST(UptimeTest, OriginalCases) {
  EXPECT_EQ(format_uptime(45s), "45 seconds");
  EXPECT_EQ(format_uptime(2min + 30s), "2 minutes 30 seconds");
  EXPECT_EQ(format_uptime(3h + 15min + 45s), "3 hours 15 minutes 45 seconds");
  EXPECT_EQ(format_uptime(2 * 24h + 6h + 30min + 15s), "2 days 6 hours 30 minutes 15 seconds");
  EXPECT_EQ(format_duration(1, 2, 3, 4), "1 day 2 hours 3 minutes 4 seconds");
  EXPECT_EQ(format_duration(3, 0, 0, 0), "3 days");
  EXPECT_EQ(format_duration(1, 1, 1, 1), "1 day 1 hour 1 minute 1 second");
}

TEST(UptimeTest, EdgeCases) {
  EXPECT_EQ(format_uptime(0s), "0 seconds");
  EXPECT_EQ(format_uptime(1s), "1 second");
  EXPECT_EQ(format_uptime(2h + 5s), "2 hours 5 seconds");
  EXPECT_EQ(format_uptime(24h), "1 day");
  EXPECT_EQ(format_uptime(-5s), "0 seconds");
}

struct Served {
  int status;
  nlohmann::json body;
  std::shared_ptr<FakeExchange> ex;
};

Served get(web::Pipeline& p, std::string_view path) {
  auto ex = FakeExchange::make("GET", path);
  p.handle(ex);
  Served s{ex->status(), nlohmann::json::parse(ex->body(), nullptr, false), ex};
  return s;
}

std::shared_ptr<HealthManager> make_manager(std::chrono::milliseconds timeout = 2000ms) {
  return std::make_shared<HealthManager>(HealthManager::Options{timeout, "1.2.3"});
}

TEST(HealthManagerTest, OverallStatusRules) {
  auto h = make_manager();
  EXPECT_EQ(h->overall(), HealthStatus::kDown);  // nothing has run yet
  h->add_checker("a", [] { return CheckResult::ok(); });
  h->refresh();
  EXPECT_EQ(h->overall(), HealthStatus::kOk);
  h->add_checker("b", [] { return CheckResult::degraded("slow disk"); });
  h->refresh();
  EXPECT_EQ(h->overall(), HealthStatus::kDegraded);
  h->add_checker("c", [] { return CheckResult::down("gone"); });
  h->refresh();
  EXPECT_EQ(h->overall(), HealthStatus::kDown);
  auto cached = h->cached();
  ASSERT_EQ(cached.size(), 3u);
  EXPECT_EQ(cached["c"].message, "gone");
}

TEST(HealthManagerTest, SlowCheckTimesOutAndOthersStillReport) {
  auto h = make_manager(150ms);
  h->add_checker("fast", [] { return CheckResult::ok(); });
  h->add_checker("slow", [] {
    std::this_thread::sleep_for(2s);
    return CheckResult::ok();
  });
  auto start = std::chrono::steady_clock::now();
  auto results = h->run_checks();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 1s);
  EXPECT_GE(took, 140ms);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results["fast"].status, HealthStatus::kOk);
  EXPECT_EQ(results["slow"].status, HealthStatus::kDown);
  EXPECT_EQ(results["slow"].message, "Health check timed out");
  EXPECT_GE(results["slow"].duration_ms, 140);
  EXPECT_EQ(h->overall(), HealthStatus::kDown);
}

TEST(HealthManagerTest, ChecksRunConcurrently) {
  auto h = make_manager(2s);
  for (const char* name : {"a", "b", "c"}) {
    h->add_checker(name, [] {
      std::this_thread::sleep_for(200ms);
      return CheckResult::ok();
    });
  }
  auto start = std::chrono::steady_clock::now();
  auto results = h->run_checks();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);  // not 600 ms in sequence
  for (const auto& [name, rec] : results) {
    EXPECT_EQ(rec.status, HealthStatus::kOk) << name;
    EXPECT_GE(rec.duration_ms, 199) << name;
  }
}

TEST(HealthManagerTest, ThrowingCheckerIsDown) {
  auto h = make_manager();
  h->add_checker("boom", []() -> CheckResult { throw std::runtime_error("redis exploded"); });
  auto results = h->run_checks();
  EXPECT_EQ(results["boom"].status, HealthStatus::kDown);
  EXPECT_EQ(results["boom"].message, "redis exploded");
}

TEST(HealthManagerTest, PeriodicRefresh) {
  auto h = make_manager();
  std::atomic<int> runs{0};
  h->add_checker("count", [&runs] {
    ++runs;
    return CheckResult::ok();
  });
  h->start_periodic(40ms);
  std::this_thread::sleep_for(200ms);
  h->stop_periodic();
  int seen = runs.load();
  EXPECT_GE(seen, 2);  // immediately, then every 40 ms (loose: the box may be busy)
  EXPECT_LE(seen, 7);  // never more often than the interval
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(runs.load(), seen);  // stopped
  EXPECT_EQ(h->overall(), HealthStatus::kOk);
}

TEST(HealthEndpointsTest, HealthShapeWhenOk) {
  auto h = make_manager();
  h->add_checker("memory", [] { return CheckResult::ok(); });
  h->add_checker("disk", [] { return CheckResult::ok(); });
  web::Pipeline p;
  register_health_routes(p.router(), h);

  Served s = get(p, "/health");
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.ex->header_value("content-type"), "application/json");
  EXPECT_EQ(s.ex->header_value("cache-control"), "no-cache, no-store, must-revalidate");
  ASSERT_TRUE(s.body.is_object()) << s.ex->body();
  // Key order as the original's struct.
  std::string raw = s.ex->body();
  size_t k_status = raw.find("\"status\""), k_ts = raw.find("\"timestamp\""),
         k_version = raw.find("\"version\""), k_uptime = raw.find("\"uptime\""),
         k_checks = raw.find("\"checks\"");
  EXPECT_LT(k_status, k_ts);
  EXPECT_LT(k_ts, k_version);
  EXPECT_LT(k_version, k_uptime);
  EXPECT_LT(k_uptime, k_checks);
  EXPECT_EQ(raw.back(), '\n');

  EXPECT_EQ(s.body["status"], "ok");
  EXPECT_TRUE(std::regex_match(s.body["timestamp"].get<std::string>(), kRfc3339));
  EXPECT_EQ(s.body["version"], "1.2.3");
  EXPECT_EQ(s.body["uptime"], "0 seconds");
  ASSERT_EQ(s.body["checks"].size(), 2u);
  const auto& disk = s.body["checks"]["disk"];
  EXPECT_EQ(disk["name"], "disk");
  EXPECT_EQ(disk["status"], "ok");
  EXPECT_FALSE(disk.contains("message"));
  EXPECT_TRUE(std::regex_match(disk["last_checked"].get<std::string>(), kRfc3339));
  EXPECT_TRUE(disk["duration_ms"].is_number_integer());
  EXPECT_EQ(disk.size(), 4u);
}

TEST(HealthEndpointsTest, HealthIs503WhenDownAndDegradedIs200) {
  auto h = make_manager();
  h->add_checker("redis",
                 [] { return CheckResult::down("redis ping failed: connection refused"); });
  web::Pipeline p;
  register_health_routes(p.router(), h);
  Served down = get(p, "/health");
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.body["status"], "down");
  EXPECT_EQ(down.body["checks"]["redis"]["message"], "redis ping failed: connection refused");

  h->add_checker("redis", [] { return CheckResult::degraded("slow"); });
  Served degraded = get(p, "/health");
  EXPECT_EQ(degraded.status, 200);
  EXPECT_EQ(degraded.body["status"], "degraded");
}

TEST(HealthEndpointsTest, HealthWithoutCheckersOmitsChecksAndIsDown) {
  auto h = make_manager();
  web::Pipeline p;
  register_health_routes(p.router(), h);
  Served s = get(p, "/health");
  EXPECT_EQ(s.status, 503);
  EXPECT_FALSE(s.body.contains("checks"));
}

TEST(HealthEndpointsTest, ReadyUsesTheCache) {
  auto h = make_manager();
  std::atomic<int> runs{0};
  h->add_checker("x", [&runs] {
    ++runs;
    return CheckResult::ok();
  });
  web::Pipeline p;
  register_health_routes(p.router(), h);

  Served before = get(p, "/ready");
  EXPECT_EQ(before.status, 503);
  EXPECT_EQ(before.body["status"], "down");
  EXPECT_EQ(runs.load(), 0);

  h->refresh();
  Served after = get(p, "/ready");
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.body["status"], "ok");
  EXPECT_EQ(after.body.size(), 2u);
  EXPECT_TRUE(std::regex_match(after.body["timestamp"].get<std::string>(), kRfc3339));
  EXPECT_EQ(after.ex->header_value("cache-control"), "no-cache, no-store, must-revalidate");
  EXPECT_EQ(runs.load(), 1);  // /ready did not run the checks
}

TEST(HealthEndpointsTest, Live) {
  auto h = make_manager();
  web::Pipeline p;
  register_health_routes(p.router(), h);
  Served s = get(p, "/live");
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.body["status"], "alive");
  EXPECT_EQ(s.body.size(), 2u);
  EXPECT_EQ(s.ex->header_value("cache-control"), "no-cache, no-store, must-revalidate");
}

TEST(BuiltinCheckersTest, Disk) {
  EXPECT_EQ(disk_checker("/", 1.0, 0)().status, HealthStatus::kOk);

  CheckResult low = disk_checker("/", 1.0, uint64_t{1} << 62)();
  EXPECT_EQ(low.status, HealthStatus::kDown);
  EXPECT_TRUE(std::regex_match(
      low.message,
      std::regex(
          R"(disk space critically low on /: \d+ MB available, minimum 4398046511104 MB required)")))
      << low.message;

  CheckResult full = disk_checker("/", 0.0, 0)();
  EXPECT_EQ(full.status, HealthStatus::kDown);
  EXPECT_TRUE(std::regex_match(
      full.message, std::regex(R"(disk usage on / is \d+\.\d%, exceeds threshold of 0\.0%)")))
      << full.message;

  CheckResult missing = disk_checker("/no/such/dir", 0.9, 0)();
  EXPECT_EQ(missing.status, HealthStatus::kDown);
  EXPECT_EQ(missing.message,
            "failed to get disk stats for /no/such/dir: No such file or directory");
}

TEST(BuiltinCheckersTest, Memory) {
  EXPECT_EQ(memory_checker()().status, HealthStatus::kOk);  // a test binary is far below 8 GiB
  CheckResult tight = memory_checker(1 << 20, 0.9)();       // 1 MiB: any process is above
  EXPECT_EQ(tight.status, HealthStatus::kDown);
  EXPECT_TRUE(std::regex_match(
      tight.message,
      std::regex(
          R"(memory usage is \d+\.\d% of limit \(\d+ MB / 1 MB\), exceeds threshold of 90\.0%)")))
      << tight.message;
  EXPECT_EQ(memory_checker(0, 0.9)().message, "memory limit is not configured (zero)");
}

}  // namespace
}  // namespace mirror::app
