#include "app/health.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <system_error>
#include <utility>

#include "app/version.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "web/response.h"

namespace mirror::app {

std::string_view health_status_name(HealthStatus s) {
  switch (s) {
    case HealthStatus::kOk:
      return "ok";
    case HealthStatus::kDegraded:
      return "degraded";
    case HealthStatus::kDown:
      return "down";
  }
  return "down";
}

namespace {

using SteadyClock = std::chrono::steady_clock;

// Shared between run_checks() and the thread running one check; the thread may outlive the wait
// (on timeout), so it owns its half through a shared_ptr.
struct PendingCheck {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  CheckResult result;
  SteadyClock::time_point finished;
};

void run_one(const std::shared_ptr<PendingCheck>& p, const std::shared_ptr<const CheckFn>& fn) {
  CheckResult r;
  // Not the request path: an exception escaping this thread would terminate the server, so a
  // throwing checker is reported as down instead.
  try {
    r = (*fn)();
  } catch (const std::exception& e) {
    r = CheckResult::down(e.what());
  } catch (...) {
    r = CheckResult::down("health check threw");
  }
  std::lock_guard lk(p->mu);
  p->result = std::move(r);
  p->finished = SteadyClock::now();
  p->done = true;
  p->cv.notify_all();
}

int64_t whole_ms(SteadyClock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

HealthManager::HealthManager(Options options)
    : options_(std::move(options)), started_(SteadyClock::now()) {
  if (options_.version.empty()) options_.version = std::string(build_info().version);
}

HealthManager::~HealthManager() { stop_periodic(); }

void HealthManager::add_checker(std::string name, CheckFn fn) {
  std::lock_guard lk(mu_);
  checkers_[std::move(name)] = std::make_shared<const CheckFn>(std::move(fn));
}

std::map<std::string, CheckRecord> HealthManager::run_checks() {
  std::vector<std::pair<std::string, std::shared_ptr<const CheckFn>>> checkers;
  {
    std::lock_guard lk(mu_);
    checkers.assign(checkers_.begin(), checkers_.end());
  }

  const auto start = SteadyClock::now();
  std::vector<std::shared_ptr<PendingCheck>> pending;
  pending.reserve(checkers.size());
  for (const auto& [name, fn] : checkers) {
    auto p = std::make_shared<PendingCheck>();
    try {
      std::thread(run_one, p, fn).detach();
    } catch (const std::system_error& e) {  // out of threads: say so rather than fail /health
      p->result = CheckResult::down(fmt::format("could not start health check: {}", e.what()));
      p->finished = SteadyClock::now();
      p->done = true;
    }
    pending.push_back(std::move(p));
  }

  const auto deadline = start + options_.check_timeout;
  std::map<std::string, CheckRecord> results;
  for (size_t i = 0; i < checkers.size(); ++i) {
    PendingCheck& p = *pending[i];
    CheckRecord rec;
    rec.name = checkers[i].first;
    std::unique_lock lk(p.mu);
    if (p.cv.wait_until(lk, deadline, [&] { return p.done; })) {
      rec.status = p.result.status;
      rec.message = p.result.message;
      rec.duration_ms = whole_ms(p.finished - start);
    } else {
      rec.status = HealthStatus::kDown;
      rec.message = "Health check timed out";
      rec.duration_ms = whole_ms(SteadyClock::now() - start);
    }
    lk.unlock();
    rec.last_checked = std::chrono::system_clock::now();
    if (rec.status != HealthStatus::kOk) {
      log::event(spdlog::level::warn, "health check failed",
                 {{"checker", std::string_view(rec.name)},
                  {"status", health_status_name(rec.status)},
                  {"error", std::string_view(rec.message)},
                  {"duration_ms", rec.duration_ms}});
    }
    results.emplace(rec.name, std::move(rec));
  }

  std::lock_guard lk(mu_);
  for (const auto& [name, rec] : results) results_[name] = rec;
  return results;
}

std::map<std::string, CheckRecord> HealthManager::cached() const {
  std::lock_guard lk(mu_);
  return results_;
}

HealthStatus HealthManager::overall() const {
  std::lock_guard lk(mu_);
  if (results_.empty()) return HealthStatus::kDown;
  bool degraded = false;
  for (const auto& [name, rec] : results_) {
    if (rec.status == HealthStatus::kDown) return HealthStatus::kDown;
    if (rec.status == HealthStatus::kDegraded) degraded = true;
  }
  return degraded ? HealthStatus::kDegraded : HealthStatus::kOk;
}

void HealthManager::start_periodic(std::chrono::milliseconds interval) {
  stop_periodic();
  periodic_ = std::jthread([this, interval](std::stop_token stop) {
    while (!stop.stop_requested()) {
      refresh();
      std::unique_lock lk(periodic_mu_);
      periodic_cv_.wait_for(lk, stop, interval, [] { return false; });
    }
  });
}

void HealthManager::stop_periodic() {
  if (periodic_.joinable()) {
    periodic_.request_stop();
    periodic_.join();
  }
}

// ---- built-in checkers ----

CheckFn disk_checker(std::string path, double max_used_ratio, uint64_t min_free_bytes) {
  return [path = std::move(path), max_used_ratio, min_free_bytes]() -> CheckResult {
    if (path.empty()) return CheckResult::down("disk checker path is empty");
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0) {
      return CheckResult::down(
          fmt::format("failed to get disk stats for {}: {}", path, std::strerror(errno)));
    }
    uint64_t total = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
    uint64_t avail = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
    if (total == 0)
      return CheckResult::down(fmt::format("disk reports zero total space for {}", path));
    constexpr uint64_t kMiB = 1024 * 1024;
    if (avail < min_free_bytes) {
      return CheckResult::down(
          fmt::format("disk space critically low on {}: {} MB available, minimum {} MB required",
                      path, avail / kMiB, min_free_bytes / kMiB));
    }
    double used = static_cast<double>(total - avail) / static_cast<double>(total);
    if (used > max_used_ratio) {
      return CheckResult::down(
          fmt::format("disk usage on {} is {:.1f}%, exceeds threshold of {:.1f}%", path, used * 100,
                      max_used_ratio * 100));
    }
    return CheckResult::ok();
  };
}

namespace {

// Resident set size of this process, from /proc/self/statm (pages).
Result<uint64_t> resident_bytes() {
  UniqueFd fd(::open("/proc/self/statm", O_RDONLY | O_CLOEXEC));
  if (!fd) return make_error("io", fmt::format("open /proc/self/statm: {}", std::strerror(errno)));
  char buf[256];
  ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return make_error("io", "read /proc/self/statm failed");
  const char* p = buf;
  const char* end = buf + n;
  uint64_t size_pages = 0;
  uint64_t resident_pages = 0;
  auto r1 = std::from_chars(p, end, size_pages);
  if (r1.ec != std::errc() || r1.ptr == end) return make_error("parse", "bad /proc/self/statm");
  auto r2 = std::from_chars(r1.ptr + 1, end, resident_pages);
  if (r2.ec != std::errc()) return make_error("parse", "bad /proc/self/statm");
  return resident_pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

CheckFn memory_checker(uint64_t limit_bytes, double max_ratio) {
  return [limit_bytes, max_ratio]() -> CheckResult {
    if (limit_bytes == 0) return CheckResult::down("memory limit is not configured (zero)");
    auto rss = resident_bytes();
    if (!rss) return CheckResult::down(rss.error().message);
    double ratio = static_cast<double>(*rss) / static_cast<double>(limit_bytes);
    if (ratio > max_ratio) {
      constexpr uint64_t kMiB = 1024 * 1024;
      return CheckResult::down(fmt::format(
          "memory usage is {:.1f}% of limit ({} MB / {} MB), exceeds threshold of {:.1f}%",
          ratio * 100, *rss / kMiB, limit_bytes / kMiB, max_ratio * 100));
    }
    return CheckResult::ok();
  };
}

// ---- formatting and endpoints ----

std::string format_duration(int days, int hours, int minutes, int seconds) {
  std::string out;
  auto unit = [&](int value, std::string_view name) {
    if (!out.empty()) out += ' ';
    out += std::to_string(value);
    out += ' ';
    out += name;
    if (value != 1) out += 's';
  };
  if (days > 0) unit(days, "day");
  if (hours > 0) unit(hours, "hour");
  if (minutes > 0) unit(minutes, "minute");
  if (seconds > 0 || out.empty()) unit(seconds, "second");
  return out;
}

std::string format_uptime(std::chrono::seconds uptime) {
  int64_t s = uptime.count() < 0 ? 0 : uptime.count();
  return format_duration(static_cast<int>(s / 86400), static_cast<int>(s / 3600 % 24),
                         static_cast<int>(s / 60 % 60), static_cast<int>(s % 60));
}

nlohmann::ordered_json check_json(const CheckRecord& r) {
  nlohmann::ordered_json j;
  j["name"] = r.name;
  j["status"] = health_status_name(r.status);
  if (!r.message.empty()) j["message"] = r.message;
  j["last_checked"] = rfc3339(r.last_checked);
  j["duration_ms"] = r.duration_ms;
  return j;
}

namespace {

void send_health_json(web::Context& ctx, int status, const nlohmann::ordered_json& j) {
  ctx.res().headers.set("cache-control", "no-cache, no-store, must-revalidate");
  web::send_json(ctx, status, j);
}

}  // namespace

void register_health_routes(web::Router& router, std::shared_ptr<HealthManager> health) {
  router.get("/health", [health](web::Context& ctx) {
    std::map<std::string, CheckRecord> checks = health->run_checks();
    HealthStatus overall = health->overall();
    nlohmann::ordered_json j;
    j["status"] = health_status_name(overall);
    j["timestamp"] = rfc3339_now();
    j["version"] = health->version();
    j["uptime"] = format_uptime(
        std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - health->started()));
    if (!checks.empty()) {
      auto& out = j["checks"];
      for (const auto& [name, rec] : checks) out[name] = check_json(rec);
    }
    send_health_json(ctx, overall == HealthStatus::kDown ? 503 : 200, j);
  });

  router.get("/ready", [health](web::Context& ctx) {
    HealthStatus overall = health->overall();
    nlohmann::ordered_json j;
    j["status"] = health_status_name(overall);
    j["timestamp"] = rfc3339_now();
    send_health_json(ctx, overall == HealthStatus::kDown ? 503 : 200, j);
  });

  router.get("/live", [](web::Context& ctx) {
    nlohmann::ordered_json j;
    j["status"] = "alive";
    j["timestamp"] = rfc3339_now();
    send_health_json(ctx, 200, j);
  });
}

}  // namespace mirror::app
