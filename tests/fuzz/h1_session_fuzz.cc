// libFuzzer target for h1::Session: the input is a script of transport events (data in pieces,
// writable, timeout, shutdown, close) and application actions (respond now or later, with string,
// producer or empty bodies, resume producers). Looks for lifetime and re-entrancy bugs under ASan:
// an exchange answered after its connection is gone, a producer resumed after the response ended,
// writes after close.
//
//   clang++ -std=c++20 -g -fsanitize=fuzzer,address,undefined -DSPDLOG_FMT_EXTERNAL -Isrc \
//     tests/fuzz/h1_session_fuzz.cc src/h1/*.cc src/http/*.cc src/base/clock.cc \
//     -lspdlog -lfmt -o h1_session_fuzz
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "h1/session.h"

namespace {

using namespace mirror;

void check(bool ok) {
  if (!ok) abort();
}

class Transport : public net::StreamTransport {
 public:
  void write(std::span<const uint8_t> data) override {
    check(!closed);
    pending += data.size();
    written += data.size();
  }
  size_t pending_write_bytes() const override { return pending; }
  void want_write() override {}
  void pause_reading() override { paused = true; }
  void resume_reading() override { paused = false; }
  void set_timeout(double) override {}
  void close(bool) override { closed = true; }
  const std::string& peer() const override { return peer_; }
  bool is_tls() const override { return false; }

  size_t pending = 0;
  size_t written = 0;
  bool paused = false;
  bool closed = false;
  std::string peer_ = "127.0.0.1:1";
};

struct Source {
  std::string data;
  bool eof = false;
  bool aborted = false;
};

class Producer : public http::BodyProducer {
 public:
  explicit Producer(std::shared_ptr<Source> s) : s_(std::move(s)) {}
  ReadResult read(std::span<uint8_t> out) override {
    ReadResult r;
    r.n = std::min(out.size(), s_->data.size());
    memcpy(out.data(), s_->data.data(), r.n);
    s_->data.erase(0, r.n);
    r.eof = s_->data.empty() && s_->eof;
    r.pending = !r.eof && r.n == 0;
    return r;
  }
  void on_abort() override { s_->aborted = true; }

 private:
  std::shared_ptr<Source> s_;
};

class Handler : public http::Handler {
 public:
  void handle(std::shared_ptr<http::Exchange> ex) override {
    check(!ex->closed());
    if (sync_mode % 3 == 0) {
      respond(*ex);
    } else {
      waiting.push_back(std::move(ex));
    }
    ++sync_mode;
  }

  void respond(http::Exchange& ex) {
    http::Response r;
    switch (ex.request().path.size() % 5) {
      case 0: r.body = std::string(ex.request().body.size() + 10, 'x'); break;
      case 1: r.status = 204; break;
      case 2: {
        auto s = std::make_shared<Source>();
        s->data.assign(3000, 'p');
        sources.push_back(s);
        r.body = std::make_unique<Producer>(s);
        r.trailers.add("t", "1");
        break;
      }
      case 3: {
        auto s = std::make_shared<Source>();
        sources.push_back(s);
        r.headers.set("content-length", "5");
        s->data = "12345678";
        s->eof = true;
        r.body = std::make_unique<Producer>(s);
        break;
      }
      default: r.status = 404; break;
    }
    ex.respond(std::move(r));
  }

  unsigned sync_mode = 0;
  std::vector<std::shared_ptr<http::Exchange>> waiting;
  std::vector<std::shared_ptr<Source>> sources;
  std::vector<std::shared_ptr<http::Exchange>> finished;  // kept past the session's life
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Transport transport;
  Handler handler;
  h1::Limits limits;
  limits.max_request_line = 256;
  limits.max_header_count = 16;
  limits.max_header_bytes = 1024;
  limits.max_body_size = 2048;
  h1::Options opts;
  opts.write_high_water = 4096;
  opts.body_chunk_size = 512;
  opts.max_buffered_input = 512;
  auto session = std::make_unique<h1::Session>(transport, handler, limits, opts);
  session->start();

  size_t i = 0;
  while (i < size && session) {
    uint8_t op = data[i++];
    switch (op % 10) {
      case 0: case 1: case 2: case 3: {  // data from the peer
        size_t n = std::min<size_t>(size - i, 1 + op / 4);
        if (!transport.closed) {
          session->on_data(std::span<const uint8_t>(data + i, n));
        }
        i += n;
        break;
      }
      case 4:  // the kernel took everything
        transport.pending = 0;
        if (!transport.closed) session->on_writable();
        break;
      case 5:
        if (!transport.closed) session->on_timeout();
        break;
      case 6:  // producers get more data, some finish, and wake their exchanges
        for (auto& s : handler.sources) {
          s->data.append(100, 'q');
          if (op & 0x10) s->eof = true;
        }
        // Snapshots: resuming or answering one exchange may finish it and dispatch the next
        // pipelined request, which appends to these vectors.
        for (auto& ex : std::vector(handler.finished)) ex->resume();
        for (auto& ex : std::vector(handler.waiting)) ex->resume();
        break;
      case 7: {  // the application answers what it was holding
        auto held = std::exchange(handler.waiting, {});
        for (auto& ex : held) {
          handler.respond(*ex);
          handler.finished.push_back(ex);
        }
        break;
      }
      case 8:
        if (!transport.closed) session->request_shutdown();
        break;
      case 9:  // the connection goes away; sometimes the session is destroyed right after
        session->on_close();
        transport.closed = true;
        if (op & 0x10) session.reset();
        break;
    }
  }
  session.reset();
  // Everything the application still holds must now be inert.
  for (auto& ex : std::vector(handler.waiting)) {
    check(ex->closed());
    handler.respond(*ex);
    ex->resume();
  }
  for (auto& ex : handler.finished) check(ex->closed());
  return 0;
}
