// Health checks and the /health, /ready, /live endpoints, in the original server's shapes
// (research seed §3):
//   GET /health  runs every check now; 200 for ok/degraded, 503 for down;
//                {"status","timestamp","version","uptime","checks":{name:{"name","status",
//                 "message"?,"last_checked","duration_ms"}}}
//   GET /ready   the cached overall status {"status","timestamp"}; 503 when down or nothing has
//                run yet
//   GET /live    200 {"status":"alive","timestamp"}
// Each check runs on its own short-lived thread with a timeout, so a stuck check (a hung NFS
// statvfs) reports "Health check timed out" instead of stalling the worker longer than that.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "web/router.h"

namespace mirror::app {

enum class HealthStatus { kOk, kDegraded, kDown };
std::string_view health_status_name(HealthStatus s);  // "ok", "degraded", "down"

// What a checker returns.
struct CheckResult {
  HealthStatus status = HealthStatus::kOk;
  std::string message;  // why, when not ok

  static CheckResult ok() { return {}; }
  static CheckResult degraded(std::string why) { return {HealthStatus::kDegraded, std::move(why)}; }
  static CheckResult down(std::string why) { return {HealthStatus::kDown, std::move(why)}; }
};

// A check. Runs on a helper thread: it must be thread-safe and must not touch a worker's loop.
using CheckFn = std::function<CheckResult()>;

// One check's latest outcome.
struct CheckRecord {
  std::string name;
  HealthStatus status = HealthStatus::kDown;
  std::string message;
  std::chrono::system_clock::time_point last_checked;
  int64_t duration_ms = 0;  // whole milliseconds, as the original reports them
};

class HealthManager {
 public:
  struct Options {
    std::chrono::milliseconds check_timeout{5000};  // per check, like the original
    std::string version;  // reported in /health; empty: build_info().version
  };

  explicit HealthManager(Options options);
  ~HealthManager();  // stops the periodic refresh (waits for a run in progress)
  HealthManager(const HealthManager&) = delete;
  HealthManager& operator=(const HealthManager&) = delete;

  // Adds (or replaces) a checker. Thread-safe.
  void add_checker(std::string name, CheckFn fn);

  // Runs every checker now, concurrently, each bounded by the timeout; merges the results into
  // the cache and returns them. Thread-safe; blocks the caller for at most about the timeout.
  std::map<std::string, CheckRecord> run_checks();
  // run_checks() for timers: refreshes the cache /ready reads.
  void refresh() { run_checks(); }

  std::map<std::string, CheckRecord> cached() const;
  // Over the cache: any down -> down, else any degraded -> degraded, else ok; empty -> down.
  HealthStatus overall() const;

  // Refreshes now and then every `interval` on a thread of its own, until stop_periodic() or
  // destruction. The original uses 30 s.
  void start_periodic(std::chrono::milliseconds interval);
  void stop_periodic();

  const std::string& version() const { return options_.version; }
  std::chrono::steady_clock::time_point started() const { return started_; }

 private:
  Options options_;
  std::chrono::steady_clock::time_point started_;

  mutable std::mutex mu_;  // guards checkers_ and results_ (not on any hot path)
  std::map<std::string, std::shared_ptr<const CheckFn>> checkers_;
  std::map<std::string, CheckRecord> results_;

  std::mutex periodic_mu_;
  std::condition_variable_any periodic_cv_;
  std::jthread periodic_;
};

// Built-in checkers (seed §3; messages as the original's).
// disk: statvfs(path); down below min_free_bytes available or above max_used_ratio used.
CheckFn disk_checker(std::string path = "/", double max_used_ratio = 0.9,
                     uint64_t min_free_bytes = uint64_t{1} << 30);
// memory: this process's resident set (/proc/self/statm) against limit_bytes; down above
// max_ratio of it. (The Go original used its live heap; RSS is the honest C++ equivalent.)
CheckFn memory_checker(uint64_t limit_bytes = uint64_t{8} << 30, double max_ratio = 0.9);

// "2 days 6 hours 30 minutes 15 seconds": non-zero units, seconds also when nothing else shows.
std::string format_duration(int days, int hours, int minutes, int seconds);
std::string format_uptime(std::chrono::seconds uptime);

nlohmann::ordered_json check_json(const CheckRecord& r);

// GET /health, /ready, /live on `router`. The manager must outlive the router.
void register_health_routes(web::Router& router, std::shared_ptr<HealthManager> health);

}  // namespace mirror::app
