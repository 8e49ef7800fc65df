#include "server/worker.h"

#include <future>

#include <spdlog/spdlog.h>

#include "h3/session.h"
#include "quic/endpoint.h"
#include "server/routes.h"
#include "server/server.h"
#include "server/session_factory.h"
#include "tls/anti_replay.h"
#include "tls/credentials.h"
#include "tls/stream_session.h"

namespace mirror::server {
namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Worker::Worker(int id, const ServerContext& ctx) : id_(id), ctx_(ctx) {
  pipeline_ = build_pipeline(ctx_, id_);
  sessions_ = make_session_factory(ctx_, *pipeline_);
  reaper_.init(thread_.loop(), [this] { graveyard_.clear(); });
}

Worker::~Worker() {
  // Connections hold references to the pipeline and factory: destroy them first.
  conns_.clear();
  graveyard_.clear();
  quic_.reset();
  acceptors_.clear();
}

Status Worker::bind() {
  const auto& s = ctx_.config.server;
  struct Port {
    int port;
    bool tls;
  };
  std::vector<Port> ports;
  if (s.enable_http) ports.push_back({s.http_port, true});
  if (s.plain_port != 0) ports.push_back({s.plain_port, false});
  for (const auto& addr : s.listen_addresses) {
    for (auto [port, tls] : ports) {
      auto fd = listen_tcp(addr, port);
      if (!fd) return fd.error();
      bool is_tls = tls;
      acceptors_.push_back(std::make_unique<TcpAcceptor>(
          thread_.loop(), std::move(fd.value()),
          [this, is_tls](UniqueFd cfd, std::string peer) { on_accept(std::move(cfd), std::move(peer), is_tls); }));
    }
  }
  if (s.enable_http3) {
    auto qopts = quic_options(ctx_.config);
    quic_ = std::make_unique<quic::Endpoint>(thread_.loop(), id_, qopts, ctx_.quic_shared,
                                             h3::make_application_factory(*pipeline_));
    quic_->set_forwarder([this](int target, quic::Datagram dg) {
      auto& workers = ctx_.worker_list;
      if (target < 0 || target >= static_cast<int>(workers.size())) return;
      Worker* owner = workers[static_cast<size_t>(target)];
      owner->thread().post([owner, dg = std::move(dg)]() mutable {
        if (owner->quic()) owner->quic()->deliver(std::move(dg));
      });
    });
  }
  return {};
}

Status Worker::start(std::function<void()> on_drained) {
  on_drained_ = std::move(on_drained);
  std::promise<Status> started;
  auto result = started.get_future();
  thread_.start([this, &started] {
    // GnuTLS anti-replay handles are per thread; take ours before the first 0-RTT ticket arrives
    // (the QUIC endpoint must start on its own thread for the same reason).
    if (ctx_.anti_replay) ctx_.anti_replay->get();
    if (quic_) {
      auto st = quic_->start(ctx_.config.server.listen_addresses);
      if (!st) {
        started.set_value(st.error());
        return;
      }
    }
    for (auto& a : acceptors_) a->start();
    started.set_value(Status{});
  });
  return result.get();
}

void Worker::begin_shutdown() {
  thread_.post([this] {
    shutting_down_ = true;
    for (auto& a : acceptors_) a->close();
    // Copy: request_shutdown may close (and unregister) a connection at once.
    std::vector<TcpConnection*> conns;
    conns.reserve(conns_.size());
    for (auto& [p, c] : conns_) conns.push_back(p);
    for (auto* c : conns) {
      if (conns_.count(c)) c->request_shutdown();
    }
    if (quic_) {
      quic_->set_on_drained([this] { check_drained(); });
      quic_->request_shutdown();
    }
    check_drained();
  });
}

void Worker::stop() { thread_.stop(); }

void Worker::on_accept(UniqueFd fd, std::string peer, bool tls) {
  const auto& s = ctx_.config.server;
  if (shutting_down_) return;
  if (conns_.size() >= s.max_connections_per_worker) {
    spdlog::warn("worker {}: max_connections_per_worker ({}) reached, refusing {}", id_,
                 s.max_connections_per_worker, peer);
    return;  // fd closes
  }
  std::unique_ptr<tls::ServerSession> tls_session;
  if (tls) {
    tls::ServerOptions opts;
    opts.min_version = s.tls_min_version == config::TlsVersion::k1_2 ? "1.2" : "1.3";
    opts.alpn = s.enable_http2 ? std::vector<std::string>{"h2", "http/1.1"}
                               : std::vector<std::string>{"http/1.1"};
    opts.ticket_keys = ctx_.ticket_keys.get();
    auto sess = tls::ServerSession::create(*ctx_.credentials, opts);
    if (!sess) {
      spdlog::error("tls session: {}", sess.error().message);
      return;
    }
    tls_session = std::move(sess.value());
  }
  auto conn = std::make_unique<TcpConnection>(
      thread_.loop(), std::move(fd), std::move(peer), std::move(tls_session), *sessions_,
      seconds(s.header_timeout), [this](TcpConnection* c) { on_connection_closed(c); });
  TcpConnection* raw = conn.get();
  conns_.emplace(raw, std::move(conn));
  tcp_count_.store(conns_.size(), std::memory_order_relaxed);
  raw->start();
}

void Worker::on_connection_closed(TcpConnection* conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  // Destroyed on the next loop pass: we are inside one of its callbacks now.
  graveyard_.push_back(std::move(it->second));
  conns_.erase(it);
  tcp_count_.store(conns_.size(), std::memory_order_relaxed);
  if (!reaper_.active()) reaper_.start(0.);
  if (shutting_down_) check_drained();
}

void Worker::check_drained() {
  if (!shutting_down_ || drained_reported_) return;
  if (!conns_.empty()) return;
  if (quic_ && quic_->connection_count() > 0) return;
  drained_reported_ = true;
  if (on_drained_) on_drained_();
}

}  // namespace mirror::server
