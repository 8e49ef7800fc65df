// Test doubles for h1::Session: a transport that records what the session does to it, a handler
// that keeps the exchanges, and a response body producer driven through shared state.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "h1/session.h"

namespace mirror::h1::testing_support {

class FakeTransport : public net::StreamTransport {
 public:
  void write(std::span<const uint8_t> data) override {
    EXPECT_FALSE(closed) << "write after close";
    written.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (count_pending) pending += data.size();
  }
  size_t pending_write_bytes() const override { return pending; }
  void want_write() override { ++want_write_calls; }
  void pause_reading() override { paused = true; }
  void resume_reading() override { paused = false; }
  void set_timeout(double seconds) override {
    timeout = seconds;
    ++timeout_sets;
  }
  void close(bool g) override {
    closed = true;
    graceful = g;
  }
  const std::string& peer() const override { return peer_; }
  bool is_tls() const override { return tls; }

  std::string take() { return std::exchange(written, {}); }

  std::string written;
  size_t pending = 0;
  bool count_pending = false;  // when true, written bytes stay "queued" until the test drains
  int want_write_calls = 0;
  bool paused = false;
  double timeout = -1;
  int timeout_sets = 0;
  bool closed = false;
  bool graceful = false;
  bool tls = false;
  std::string peer_ = "192.0.2.7:41000";
};

class FakeHandler : public http::Handler {
 public:
  void handle(std::shared_ptr<http::Exchange> ex) override {
    exchanges.push_back(ex);
    if (on_request) on_request(*ex);
  }
  std::vector<std::shared_ptr<http::Exchange>> exchanges;
  std::function<void(http::Exchange&)> on_request;
};

// A response body producer driven by the test through shared state.
struct ProducerState {
  std::deque<std::string> chunks;
  bool eof = false;
  bool aborted = false;
  int reads = 0;
};

class TestProducer : public http::BodyProducer {
 public:
  explicit TestProducer(std::shared_ptr<ProducerState> s) : s_(std::move(s)) {}
  ReadResult read(std::span<uint8_t> out) override {
    ++s_->reads;
    ReadResult r;
    if (s_->chunks.empty()) {
      r.eof = s_->eof;
      r.pending = !s_->eof;
      return r;
    }
    std::string& c = s_->chunks.front();
    r.n = std::min(out.size(), c.size());
    memcpy(out.data(), c.data(), r.n);
    c.erase(0, r.n);
    if (c.empty()) s_->chunks.pop_front();
    r.eof = s_->chunks.empty() && s_->eof;
    return r;
  }
  void on_abort() override { s_->aborted = true; }

 private:
  std::shared_ptr<ProducerState> s_;
};

inline http::Response text(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.set("content-type", "text/plain");
  r.body = std::move(body);
  return r;
}

inline std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class SessionTest : public testing::Test {
 protected:
  void make(Options opts = {}, Limits limits = {}) {
    session = std::make_unique<Session>(transport, handler, limits, std::move(opts));
    session->start();
  }
  bool feed(std::string_view s) { return session->on_data(bytes(s)); }
  void respond_with(std::string body) {
    handler.on_request = [body](http::Exchange& ex) { ex.respond(text(200, body)); };
  }

  FakeTransport transport;
  FakeHandler handler;
  std::unique_ptr<Session> session;
};

inline constexpr std::string_view kGet = "GET /hello?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n";

inline size_t count(std::string_view hay, std::string_view needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace mirror::h1::testing_support
