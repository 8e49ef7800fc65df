#include "server/server.h"

#include <ev.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/health.h"
#include "app/version.h"
#include "quic/endpoint.h"
#include "server/worker.h"
#include "tls/anti_replay.h"
#include "tls/credentials.h"
#include "tls/ticket_key.h"

namespace mirror::server {
namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// Main-thread loop state: signals, the drain watcher and the shutdown deadline.
struct MainLoop {
  struct ev_loop* loop = ev_default_loop(0);
  ev_signal sigterm{}, sigint{}, sighup{};
  ev_async drained{};
  ev_timer deadline{};
  Server* server = nullptr;
  std::function<void()> on_signal;
  std::function<void()> on_drained;
  std::function<void()> on_deadline;
  int signals_seen = 0;
};

MainLoop* g_main = nullptr;

void signal_cb(struct ev_loop*, ev_signal* w, int) noexcept {
  if (w->signum == SIGHUP) {
    spdlog::info("SIGHUP: configuration reload is not supported yet; ignoring");
    return;
  }
  if (++g_main->signals_seen > 1) {
    spdlog::warn("second signal: exiting now");
    spdlog::default_logger()->flush();
    _exit(1);
  }
  g_main->on_signal();
}
void drained_cb(struct ev_loop*, ev_async*, int) noexcept { g_main->on_drained(); }
void deadline_cb(struct ev_loop*, ev_timer*, int) noexcept { g_main->on_deadline(); }

}  // namespace

Server::Server(config::Config config) { ctx_.config = std::move(config); }

Server::~Server() = default;

Status Server::prepare() {
  const auto& s = ctx_.config.server;
  auto creds = tls::Credentials::load({s.tls_cert_file, s.tls_key_file, s.state_dir});
  if (!creds) return creds.error();
  ctx_.credentials = std::move(creds.value());
  auto keys = tls::TicketKeys::from_config(s.ticket_key_file);
  if (!keys) return keys.error();
  ctx_.ticket_keys = std::move(keys.value());
  auto anti_replay = tls::AntiReplay::create();
  if (!anti_replay) return anti_replay.error();
  ctx_.anti_replay = std::move(anti_replay.value());

  ctx_.workers = s.workers > 0 ? static_cast<int>(s.workers)
                               : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (s.enable_http3 && s.alt_svc_max_age > 0) {
    ctx_.alt_svc = fmt::format("h3=\":{}\"; ma={}", s.http3_port, s.alt_svc_max_age);
  }
  if (s.enable_http3) {
    auto shared = quic::Shared::create(ctx_.credentials, ctx_.ticket_keys,
                                       s.enable_0rtt ? ctx_.anti_replay : nullptr, ctx_.workers,
                                       !s.ticket_key_file.empty());
    if (!shared) return shared.error();
    ctx_.quic_shared = std::move(shared.value());
  }
  const auto& h = ctx_.config.health;
  ctx_.health = std::make_shared<app::HealthManager>(app::HealthManager::Options{
      .check_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(h.check_timeout),
      .version = std::string(app::build_info().version)});
  ctx_.health->add_checker("disk", app::disk_checker(h.disk_path, 0.9, h.disk_min_free));
  ctx_.health->add_checker("memory", app::memory_checker(h.memory_limit, 0.9));
  ctx_.health->refresh();  // so /ready is meaningful from the first request
  ctx_.health->start_periodic(std::chrono::duration_cast<std::chrono::milliseconds>(h.interval));

  for (int i = 0; i < ctx_.workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, ctx_));
    ctx_.worker_list.push_back(workers_.back().get());
  }
  for (auto& w : workers_) {
    auto st = w->bind();
    if (!st) return st;
  }
  return {};
}

int Server::run() {
  // Workers inherit this mask: signals are handled only by the main thread's loop.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto st = prepare();
  if (!st) {
    spdlog::critical("{}", st.error().message);
    spdlog::default_logger()->flush();
    return 1;
  }

  MainLoop main;
  g_main = &main;
  std::atomic<int> drained{0};
  const auto& s = ctx_.config.server;
  for (auto& w : workers_) {
    auto started = w->start([&] {
      drained.fetch_add(1);
      ev_async_send(main.loop, &main.drained);
    });
    if (!started) {
      spdlog::critical("{}", started.error().message);
      spdlog::default_logger()->flush();
      for (auto& other : workers_) other->stop();
      for (auto& other : workers_) other->join();
      workers_.clear();
      g_main = nullptr;
      return 1;
    }
  }
  spdlog::info("mirror listening: https://{}:{} (TCP{}{}), HTTP/3 on UDP {}{}; {} workers",
               s.listen_addresses.empty() ? "*" : s.listen_addresses.front(), s.http_port,
               s.enable_http ? ", h1" : " off", s.enable_http && s.enable_http2 ? "+h2" : "",
               s.enable_http3 ? std::to_string(s.http3_port) : std::string("off"),
               s.plain_port ? fmt::format(", cleartext on {}", s.plain_port) : std::string(),
               ctx_.workers);

  main.on_signal = [&] {
    spdlog::info("shutting down: draining connections (up to {}s)", seconds(s.shutdown_timeout));
    begin_shutdown();
    ev_timer_set(&main.deadline, seconds(s.shutdown_timeout), 0.);
    ev_timer_start(main.loop, &main.deadline);
  };
  main.on_drained = [&] {
    if (drained.load() == static_cast<int>(workers_.size())) {
      spdlog::info("all connections drained");
      ev_break(main.loop, EVBREAK_ALL);
    }
  };
  main.on_deadline = [&] {
    spdlog::warn("shutdown_timeout reached: closing remaining connections");
    ev_break(main.loop, EVBREAK_ALL);
  };

  ev_signal_init(&main.sigterm, signal_cb, SIGTERM);
  ev_signal_init(&main.sigint, signal_cb, SIGINT);
  ev_signal_init(&main.sighup, signal_cb, SIGHUP);
  ev_signal_start(main.loop, &main.sigterm);
  ev_signal_start(main.loop, &main.sigint);
  ev_signal_start(main.loop, &main.sighup);
  pthread_sigmask(SIG_UNBLOCK, &mask, nullptr);
  ev_async_init(&main.drained, drained_cb);
  ev_async_start(main.loop, &main.drained);
  ev_init(&main.deadline, deadline_cb);

  ev_run(main.loop, 0);

  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  workers_.clear();
  spdlog::info("bye");
  spdlog::default_logger()->flush();
  g_main = nullptr;
  return 0;
}

void Server::begin_shutdown() {
  ctx_.shutting_down = true;
  for (auto& w : workers_) w->begin_shutdown();
}

}  // namespace mirror::server
