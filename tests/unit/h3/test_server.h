// A tiny HTTP/3 server for end-to-end tests: N worker threads, each with a quic::Endpoint and an
// h3 application, a trivial handler, and cross-worker forwarding as the real server does it.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "h3/session.h"
#include "http/exchange.h"
#include "net/loop.h"
#include "quic/endpoint.h"
#include "quic/shared.h"
#include "tls/anti_replay.h"
#include "tls/credentials.h"
#include "tls/ticket_key.h"

namespace mirror::testing {

// A body produced 4 KiB at a time, pausing (pending) every other call and resuming from a timer,
// to exercise WOULDBLOCK + resume.
class SlowBody : public http::BodyProducer {
 public:
  SlowBody(struct ev_loop* loop, std::weak_ptr<http::Exchange> ex, size_t total)
      : ex_(std::move(ex)), left_(total) {
    timer_.init(loop, [this] {
      ready_ = true;
      if (auto e = ex_.lock()) e->resume();
    });
  }
  ReadResult read(std::span<uint8_t> out) override {
    ReadResult r;
    if (!ready_) {
      r.pending = true;
      if (!timer_.active()) timer_.start(0.001);
      return r;
    }
    ready_ = false;
    size_t n = std::min({out.size(), left_, size_t{4096}});
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>('a' + (produced_ + i) % 26);
    produced_ += n;
    left_ -= n;
    r.n = n;
    r.eof = left_ == 0;
    return r;
  }

 private:
  std::weak_ptr<http::Exchange> ex_;
  size_t left_;
  size_t produced_ = 0;
  bool ready_ = false;
  net::Timer timer_;
};

class TestHandler : public http::Handler {
 public:
  explicit TestHandler(struct ev_loop* loop) : loop_(loop) {}
  void handle(std::shared_ptr<http::Exchange> ex) override {
    handled.fetch_add(1);
    auto& req = ex->request();
    if (req.early_data) early.fetch_add(1);
    http::Response r;
    if (req.path == "/hello") {
      r.headers.set("content-type", "text/plain");
      r.body = std::string("hello from ") + std::string(http::protocol_name(req.protocol)) + "\n";
    } else if (req.path == "/echo") {
      r.body = req.method_str + " " + req.body;
    } else if (req.path == "/peer") {
      r.body = req.peer + (req.early_data ? " early" : " late");
    } else if (req.path.rfind("/big/", 0) == 0) {
      size_t n = std::stoul(req.path.substr(5));
      std::string s(n, 'x');
      for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
      r.body = std::move(s);
    } else if (req.path.rfind("/slow/", 0) == 0) {
      size_t n = std::stoul(req.path.substr(6));
      r.body = std::unique_ptr<http::BodyProducer>(new SlowBody(loop_, ex, n));
    } else if (req.path.rfind("/file/", 0) == 0) {
      // A file body read with pread as the peer's window opens (an unlinked temp file).
      size_t n = std::stoul(req.path.substr(6));
      char name[] = "/tmp/mirror-h3-file-XXXXXX";
      int fd = mkstemp(name);
      unlink(name);
      std::string s(n, 'x');
      for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
      if (write(fd, s.data(), s.size()) != static_cast<ssize_t>(s.size())) r.status = 500;
      auto file = std::make_shared<http::OpenFile>();
      file->fd = fd;
      file->size = n;
      r.body = http::FileBody{file, 0, n};
    } else if (req.path == "/trailers") {
      r.body = std::string("body");
      r.trailers.add("x-checksum", "abc");
    } else {
      r.status = 404;
      r.body = std::string("not found");
    }
    ex->respond(std::move(r));
  }
  std::atomic<int> handled{0};
  std::atomic<int> early{0};

 private:
  struct ev_loop* loop_;
};

struct Worker {
  std::unique_ptr<net::EventThread> thread;
  std::unique_ptr<TestHandler> handler;
  std::unique_ptr<quic::Endpoint> endpoint;
};

class TestServer {
 public:
  // Returns an empty string on success, else the error.
  std::string start(int workers, const quic::Options& base, const std::string& state_dir) {
    auto creds = tls::Credentials::load(tls::CertOptions{"", "", state_dir});
    if (!creds) return creds.error().message;
    auto keys = tls::TicketKeys::generate();
    if (!keys) return keys.error().message;
    // GnuTLS refuses all 0-RTT during the first anti-replay window after start (it cannot know
    // ClientHellos seen before): a short window keeps 0-RTT tests fast.
    auto ar = tls::AntiReplay::create(std::chrono::milliseconds(1000));
    if (!ar) return ar.error().message;
    auto shared = quic::Shared::create(creds.value(), keys.value(), ar.value(), workers, false);
    if (!shared) return shared.error().message;
    shared_ = shared.value();
    options = base;
    for (int i = 0; i < workers; ++i) {
      auto w = std::make_unique<Worker>();
      w->thread = std::make_unique<net::EventThread>();
      w->handler = std::make_unique<TestHandler>(w->thread->loop());
      w->endpoint = std::make_unique<quic::Endpoint>(w->thread->loop(), i, options, shared_,
                                                     h3::make_application_factory(*w->handler));
      w->endpoint->set_forwarder([this](int target, quic::Datagram d) {
        auto* ep = workers_[target]->endpoint.get();
        workers_[target]->thread->post([ep, d = std::move(d)]() mutable { ep->deliver(std::move(d)); });
      });
      // Start on the worker's thread, as the server does; worker 0 picks the port for the rest.
      std::promise<std::string> started;
      auto* ep = w->endpoint.get();
      workers_.push_back(std::move(w));
      workers_.back()->thread->start([this, ep, &started] {
        auto r = ep->start({"127.0.0.1", "[::1]"});
        if (r && options.port == 0) options.port = ep->local_addresses()[0].port();
        started.set_value(r ? std::string() : r.error().message);
      });
      if (auto err = started.get_future().get(); !err.empty()) return err;
    }
    return {};
  }

  void stop() {
    for (auto& w : workers_) {
      auto* ep = w->endpoint.get();
      w->thread->post([ep] { ep->request_shutdown(); });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (auto& w : workers_) {
      while (w->endpoint->connection_count() > 0 && std::chrono::steady_clock::now() < deadline) {
        usleep(10000);
      }
    }
    for (auto& w : workers_) {
      w->thread->stop();
      w->thread->join();
    }
    for (auto& w : workers_) w->endpoint.reset();
    workers_.clear();
  }

  ~TestServer() {
    if (!workers_.empty()) stop();
  }

  quic::Stats total_stats() const {
    quic::Stats t;
    for (const auto& w : workers_) {
      auto s = w->endpoint->stats();
      t.connections_accepted += s.connections_accepted;
      t.handshakes_completed += s.handshakes_completed;
      t.connections_0rtt += s.connections_0rtt;
      t.requests_0rtt += s.requests_0rtt;
      t.early_requests_refused += s.early_requests_refused;
      t.retries_sent += s.retries_sent;
      t.datagrams_forwarded += s.datagrams_forwarded;
      t.path_migrations += s.path_migrations;
      t.stateless_resets_sent += s.stateless_resets_sent;
      t.version_negotiations_sent += s.version_negotiations_sent;
      t.requests += s.requests;
      t.connections_open += s.connections_open;
      t.datagrams_received += s.datagrams_received;
      t.datagrams_sent += s.datagrams_sent;
      t.datagrams_dropped += s.datagrams_dropped;
      t.connections_refused += s.connections_refused;
    }
    return t;
  }

  int handled() const {
    int n = 0;
    for (const auto& w : workers_) n += w->handler->handled.load();
    return n;
  }

  quic::Options options;

 private:
  std::shared_ptr<quic::Shared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace mirror::testing
