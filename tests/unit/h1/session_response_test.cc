#include "h1/session.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "session_fakes.h"

namespace mirror::h1 {
namespace {

using namespace testing_support;

TEST_F(SessionTest, HeadGetsLengthButNoBody) {
  make();
  respond_with("hello");
  feed("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string out = transport.take();
  EXPECT_NE(out.find("content-length: 5\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
  EXPECT_EQ(out.find("hello"), std::string::npos);
  EXPECT_FALSE(transport.closed);
}

TEST_F(SessionTest, UnknownLengthIsChunkedWithTrailers) {
  make();
  auto state = std::make_shared<ProducerState>();
  state->chunks = {"hello ", "world"};
  handler.on_request = [state](http::Exchange& ex) {
    http::Response r;
    r.body = std::make_unique<TestProducer>(state);
    r.trailers.add("x-sum", "42");
    ex.respond(std::move(r));
  };
  http::Completion done;
  feed(kGet);
  handler.exchanges[0]->on_complete([&done](const http::Completion& c) { done = c; });
  // Still pending: the producer has no eof yet.
  std::string out = transport.take();
  EXPECT_NE(out.find("transfer-encoding: chunked\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("content-length"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n"), std::string::npos) << out;
  EXPECT_EQ(done.status, 0);
  state->eof = true;
  handler.exchanges[0]->resume();
  EXPECT_EQ(transport.take(), "0\r\nx-sum: 42\r\n\r\n");
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(done.body_bytes, 11u);
  EXPECT_FALSE(done.aborted);
  EXPECT_FALSE(transport.closed);
}

TEST_F(SessionTest, StreamingWritesEachChunkAsItComes) {
  make();
  auto state = std::make_shared<ProducerState>();
  handler.on_request = [state](http::Exchange& ex) {
    http::Response r;
    r.headers.set("content-type", "text/event-stream");
    r.body = std::make_unique<TestProducer>(state);
    ex.respond(std::move(r));
  };
  feed(kGet);
  transport.take();
  for (int i = 0; i < 3; ++i) {
    std::string event = "data: " + std::to_string(i) + "\n\n";
    state->chunks.push_back(event);
    handler.exchanges[0]->resume();
    std::string out = transport.take();
    EXPECT_NE(out.find(event), std::string::npos) << "event " << i << " not flushed: " << out;
  }
  // The client goes away: the producer hears about it and the exchange completes as aborted.
  http::Completion done;
  handler.exchanges[0]->on_complete([&done](const http::Completion& c) { done = c; });
  session->on_close();
  EXPECT_TRUE(state->aborted);
  EXPECT_TRUE(done.aborted);
  EXPECT_TRUE(handler.exchanges[0]->closed());
}

TEST_F(SessionTest, Http10UnknownLengthIsCloseDelimited) {
  make();
  auto state = std::make_shared<ProducerState>();
  state->chunks = {"abc"};
  state->eof = true;
  handler.on_request = [state](http::Exchange& ex) {
    http::Response r;
    r.body = std::make_unique<TestProducer>(state);
    ex.respond(std::move(r));
  };
  feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  std::string out = transport.take();
  EXPECT_EQ(out.find("transfer-encoding"), std::string::npos) << out;
  EXPECT_NE(out.find("connection: close\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 7), "\r\n\r\nabc");
  EXPECT_TRUE(transport.closed);
  EXPECT_TRUE(transport.graceful);
}

TEST_F(SessionTest, Http10KeepAliveIsAnnounced) {
  make();
  respond_with("x");
  feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_NE(transport.take().find("connection: keep-alive\r\n"), std::string::npos);
  EXPECT_FALSE(transport.closed);
  feed("GET / HTTP/1.0\r\n\r\n");
  EXPECT_NE(transport.take().find("connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(transport.closed);
}

TEST_F(SessionTest, NoBodyStatusesGetNoFraming) {
  make();
  handler.on_request = [](http::Exchange& ex) {
    http::Response r;
    r.status = ex.request().path == "/204" ? 204 : 304;
    ex.respond(std::move(r));
  };
  feed("GET /204 HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string out = transport.take();
  EXPECT_EQ(out.rfind("HTTP/1.1 204 No Content\r\n", 0), 0u);
  EXPECT_EQ(out.find("content-length"), std::string::npos) << out;
  EXPECT_EQ(out.find("transfer-encoding"), std::string::npos);
  feed("GET /304 HTTP/1.1\r\nHost: h\r\n\r\n");
  out = transport.take();
  EXPECT_EQ(out.rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u);
  EXPECT_EQ(out.find("content-length"), std::string::npos) << out;
  EXPECT_EQ(out.find("transfer-encoding"), std::string::npos);
  EXPECT_FALSE(transport.closed);
}

TEST_F(SessionTest, AltSvcAddedUnlessPresent) {
  Options opts;
  opts.alt_svc = "h3=\":443\"; ma=86400";
  make(opts);
  int n = 0;
  handler.on_request = [&n](http::Exchange& ex) {
    auto r = text(200, "x");
    if (++n == 2) r.headers.set("alt-svc", "clear");
    ex.respond(std::move(r));
  };
  feed(kGet);
  EXPECT_NE(transport.take().find("alt-svc: h3=\":443\"; ma=86400\r\n"), std::string::npos);
  feed(kGet);
  std::string out = transport.take();
  EXPECT_NE(out.find("alt-svc: clear\r\n"), std::string::npos);
  EXPECT_EQ(count(out, "alt-svc"), 1u);
}

TEST_F(SessionTest, ResponseSplittingHeaderIsDropped) {
  make();
  handler.on_request = [](http::Exchange& ex) {
    auto r = text(200, "x");
    r.headers.add("x-evil", "a\r\nSet-Cookie: owned=1");
    ex.respond(std::move(r));
  };
  feed(kGet);
  EXPECT_EQ(transport.written.find("owned"), std::string::npos) << transport.written;
}

TEST_F(SessionTest, BackpressureStopsPullingUntilWritable) {
  Options opts;
  opts.write_high_water = 1000;
  opts.body_chunk_size = 100;
  make(opts);
  transport.count_pending = true;
  std::string big(5000, 'b');
  respond_with(big);
  feed(kGet);
  size_t first = transport.written.size();
  EXPECT_LT(first, 1300u);  // stopped near the high-water mark, not at 5000
  EXPECT_FALSE(session->idle());
  session->on_writable();  // a wake-up while the queue is still full must not write
  EXPECT_EQ(transport.written.size(), first);
  EXPECT_EQ(transport.want_write_calls, 0);  // would make the transport spin on a full queue
  while (!session->idle()) {
    size_t before = transport.written.size();
    transport.pending = 0;  // the kernel took everything
    session->on_writable();
    ASSERT_GT(transport.written.size(), before);
  }
  EXPECT_NE(transport.written.find("content-length: 5000\r\n"), std::string::npos);
  EXPECT_EQ(transport.written.substr(transport.written.size() - 5000), big);
}

TEST_F(SessionTest, WriteTimeoutWhenPeerStopsReading) {
  Options opts;
  opts.write_high_water = 10;
  opts.write_timeout = 5;
  make(opts);
  transport.count_pending = true;
  auto state = std::make_shared<ProducerState>();
  state->chunks = {std::string(100, 'x')};
  handler.on_request = [state](http::Exchange& ex) {
    http::Response r;
    r.body = std::make_unique<TestProducer>(state);
    ex.respond(std::move(r));
  };
  bool aborted = false;
  feed(kGet);
  handler.exchanges[0]->on_complete([&](const http::Completion& c) { aborted = c.aborted; });
  EXPECT_EQ(transport.timeout, 5);
  int sets = transport.timeout_sets;
  session->on_writable();  // spurious: still full, so the deadline is not pushed back
  EXPECT_EQ(transport.timeout_sets, sets);
  session->on_timeout();
  EXPECT_TRUE(aborted);
  EXPECT_TRUE(state->aborted);
  EXPECT_TRUE(transport.closed);
  EXPECT_FALSE(transport.graceful);
}

TEST_F(SessionTest, EarlyHintsOnlyForHttp11) {
  make();
  handler.on_request = [](http::Exchange& ex) {
    http::Headers h;
    h.add("link", "</style.css>; rel=preload");
    ex.send_informational(103, h);
    ex.respond(text(200, "x"));
  };
  feed(kGet);
  EXPECT_EQ(transport.take().rfind("HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n"
                                   "HTTP/1.1 200 OK\r\n", 0), 0u);
  feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(transport.take().rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

}  // namespace
}  // namespace mirror::h1
