#include "h1/session.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "session_fakes.h"

namespace mirror::h1 {
namespace {

using namespace testing_support;

TEST_F(SessionTest, FillsRequestAndWritesResponse) {
  make();
  transport.tls = true;
  respond_with("hi");
  EXPECT_TRUE(feed(kGet));
  ASSERT_EQ(handler.exchanges.size(), 1u);
  const http::Request& req = handler.exchanges[0]->request();
  EXPECT_EQ(req.method, http::Method::kGet);
  EXPECT_EQ(req.method_str, "GET");
  EXPECT_EQ(req.target, "/hello?x=1");
  EXPECT_EQ(req.path, "/hello");
  EXPECT_EQ(req.query, "x=1");
  EXPECT_EQ(req.authority, "example.com");
  EXPECT_EQ(req.scheme, "https");
  EXPECT_EQ(req.protocol, http::Protocol::kHttp11);
  EXPECT_EQ(req.peer, "192.0.2.7:41000");

  std::string out = transport.take();
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("content-length: 2\r\n"), std::string::npos);
  EXPECT_NE(out.find("server: mirror\r\n"), std::string::npos);
  EXPECT_NE(out.find("date: "), std::string::npos);
  EXPECT_EQ(out.find("connection:"), std::string::npos);  // keep-alive is the 1.1 default
  EXPECT_EQ(out.substr(out.size() - 6), "\r\n\r\nhi");
  EXPECT_FALSE(transport.closed);
  EXPECT_TRUE(session->idle());
  EXPECT_TRUE(handler.exchanges[0]->closed());  // finished: no more use for it
}

TEST_F(SessionTest, KeepAliveServesSequentialRequests) {
  make();
  int n = 0;
  handler.on_request = [&n](http::Exchange& ex) { ex.respond(text(200, "r" + std::to_string(++n))); };
  feed(kGet);
  feed(kGet);
  std::string out = transport.take();
  EXPECT_EQ(count(out, "HTTP/1.1 200 OK"), 2u);
  EXPECT_LT(out.find("r1"), out.find("r2"));
  EXPECT_FALSE(transport.closed);
}

TEST_F(SessionTest, PipelinedRequestsAreHandledOneAtATimeInOrder) {
  make();
  feed("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n"
       "abcGET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(handler.exchanges.size(), 1u);  // the next waits for this response
  EXPECT_EQ(handler.exchanges[0]->request().path, "/1");
  EXPECT_FALSE(session->idle());

  handler.exchanges[0]->respond(text(200, "one"));
  ASSERT_EQ(handler.exchanges.size(), 2u);
  EXPECT_EQ(handler.exchanges[1]->request().path, "/2");
  EXPECT_EQ(handler.exchanges[1]->request().body, "abc");
  handler.exchanges[1]->respond(text(201, "two"));
  ASSERT_EQ(handler.exchanges.size(), 3u);
  handler.exchanges[2]->respond(text(202, "three"));

  std::string out = transport.take();
  size_t a = out.find("200 OK"), b = out.find("201 Created"), c = out.find("202 Accepted");
  ASSERT_NE(c, std::string::npos) << out;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_TRUE(session->idle());
}

TEST_F(SessionTest, PausesReadingWhilePipelinedInputPilesUp) {
  Options opts;
  opts.max_buffered_input = 100;
  make(opts);
  std::string many;
  for (int i = 0; i < 10; ++i) many += "GET /p HTTP/1.1\r\nHost: h\r\n\r\n";
  feed(many);
  ASSERT_EQ(handler.exchanges.size(), 1u);
  EXPECT_TRUE(transport.paused);
  for (size_t i = 0; i < 10; ++i) {
    ASSERT_EQ(handler.exchanges.size(), i + 1);
    handler.exchanges[i]->respond(text(200, "x"));
  }
  EXPECT_FALSE(transport.paused);
  EXPECT_EQ(count(transport.written, "HTTP/1.1 200 OK"), 10u);
}

TEST_F(SessionTest, ExpectContinueSendsInterimResponseBeforeBody) {
  make();
  feed("PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(transport.take(), "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_TRUE(handler.exchanges.empty());
  respond_with("ok");
  feed("hel");
  feed("lo");
  ASSERT_EQ(handler.exchanges.size(), 1u);
  EXPECT_EQ(handler.exchanges[0]->request().body, "hello");
  EXPECT_EQ(transport.take().rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

TEST_F(SessionTest, ExpectContinueWithTooLargeBodyGets413WithoutContinue) {
  Limits limits;
  limits.max_body_size = 4;
  make({}, limits);
  EXPECT_FALSE(feed("PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  std::string out = transport.take();
  EXPECT_EQ(out.find("100 Continue"), std::string::npos);
  EXPECT_EQ(out.rfind("HTTP/1.1 413 ", 0), 0u) << out;
  EXPECT_TRUE(transport.closed);
  EXPECT_TRUE(handler.exchanges.empty());
}

TEST_F(SessionTest, UnknownExpectationGets417) {
  make();
  EXPECT_FALSE(feed("POST / HTTP/1.1\r\nHost: h\r\nExpect: something\r\n\r\n"));
  EXPECT_EQ(transport.written.rfind("HTTP/1.1 417 Expectation Failed\r\n", 0), 0u);
  EXPECT_TRUE(transport.closed);
}

TEST_F(SessionTest, ConnectionCloseFromClientClosesAfterResponse) {
  make();
  respond_with("bye");
  EXPECT_FALSE(feed("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" + std::string(kGet)));
  std::string out = transport.take();
  EXPECT_NE(out.find("connection: close\r\n"), std::string::npos);
  EXPECT_EQ(count(out, "HTTP/1.1 200"), 1u);  // the request after "close" is not served
  EXPECT_TRUE(transport.closed);
  EXPECT_TRUE(transport.graceful);
}

TEST_F(SessionTest, ConnectionCloseFromHandlerClosesAfterResponse) {
  make();
  handler.on_request = [](http::Exchange& ex) {
    auto r = text(200, "x");
    r.headers.set("Connection", "close");
    ex.respond(std::move(r));
  };
  feed(kGet);
  EXPECT_EQ(count(transport.written, "connection: close"), 1u);
  EXPECT_TRUE(transport.closed);
}

TEST_F(SessionTest, ProtocolErrorIsJsonAndBypassesHandler) {
  make();
  EXPECT_FALSE(feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  std::string out = transport.take();
  std::string body =
      R"({"error":{"type":"VALIDATION_ERROR","message":"both Content-Length and Transfer-Encoding present"}})";
  EXPECT_EQ(out.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("content-type: application/json\r\n"), std::string::npos);
  EXPECT_NE(out.find("connection: close\r\n"), std::string::npos);
  EXPECT_NE(out.find("content-length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - body.size()), body);
  EXPECT_TRUE(handler.exchanges.empty());
  EXPECT_TRUE(transport.closed);
  EXPECT_TRUE(transport.graceful);
  EXPECT_FALSE(feed(kGet));  // nothing more is read
  EXPECT_TRUE(transport.written.empty());
}

TEST_F(SessionTest, LimitsGiveTheirStatuses) {
  struct Case {
    std::string input;
    std::string status_line;
  };
  Limits limits;
  limits.max_request_line = 50;
  limits.max_header_count = 5;
  limits.max_header_bytes = 200;
  limits.max_body_size = 10;
  std::vector<Case> cases = {
      {"GET /" + std::string(60, 'a') + " HTTP/1.1\r\n", "HTTP/1.1 414 URI Too Long\r\n"},
      {"GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(300, 'v'),
       "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
      {"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n",
       "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", "HTTP/1.1 413 Content Too Large\r\n"},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n",
       "HTTP/1.1 413 Content Too Large\r\n"},
      {"GET / HTTP/2.0\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported\r\n"},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
       "HTTP/1.1 501 Not Implemented\r\n"},
  };
  for (const auto& c : cases) {
    FakeTransport t;
    FakeHandler h;
    Session s(t, h, limits, Options{});
    s.start();
    EXPECT_FALSE(s.on_data(bytes(c.input))) << c.status_line;
    EXPECT_EQ(t.written.rfind(c.status_line, 0), 0u) << t.written;
    EXPECT_NE(t.written.find(R"({"error":{"type":"VALIDATION_ERROR","message":")"),
              std::string::npos);
    EXPECT_TRUE(t.closed);
    EXPECT_TRUE(h.exchanges.empty());
  }
}

TEST_F(SessionTest, HeaderTimeoutCountsFromFirstByteAndSends408) {
  Options opts;
  opts.header_timeout = 7;
  opts.idle_timeout = 99;
  make(opts);
  EXPECT_EQ(transport.timeout, 7);  // a new connection must start a request in time
  feed("GET / HT");
  int sets = transport.timeout_sets;
  EXPECT_EQ(transport.timeout, 7);
  feed("T");  // trickling does not push the deadline back
  feed("P/1.1\r\nHost");
  EXPECT_EQ(transport.timeout_sets, sets);
  session->on_timeout();
  std::string out = transport.take();
  EXPECT_EQ(out.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << out;
  EXPECT_NE(out.find(R"({"error":{"type":"TIMEOUT","message":")"), std::string::npos);
  EXPECT_TRUE(transport.closed);
  EXPECT_TRUE(handler.exchanges.empty());
}

TEST_F(SessionTest, BodyTimeoutSends408) {
  Options opts;
  opts.read_timeout = 3;
  make(opts);
  feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(transport.timeout, 3);
  session->on_timeout();
  EXPECT_EQ(transport.written.rfind("HTTP/1.1 408 ", 0), 0u);
  EXPECT_TRUE(transport.closed);
  EXPECT_TRUE(handler.exchanges.empty());
}

TEST_F(SessionTest, IdleTimeoutJustCloses) {
  Options opts;
  opts.idle_timeout = 42;
  make(opts);
  respond_with("x");
  feed(kGet);
  transport.take();
  EXPECT_EQ(transport.timeout, 42);
  session->on_timeout();
  EXPECT_TRUE(transport.written.empty());
  EXPECT_TRUE(transport.closed);
}

TEST_F(SessionTest, NoTimeoutWhileHandlerWorks) {
  make();
  feed(kGet);
  EXPECT_EQ(transport.timeout, 0);
  session->on_timeout();  // a stray expiry changes nothing
  EXPECT_FALSE(transport.closed);
  handler.exchanges[0]->respond(text(200, "late"));
  EXPECT_NE(transport.written.find("late"), std::string::npos);
}

TEST_F(SessionTest, RespondAfterCloseIsANoOp) {
  make();
  feed(kGet);
  ASSERT_EQ(handler.exchanges.size(), 1u);
  std::shared_ptr<http::Exchange> ex = handler.exchanges[0];
  http::Completion done;
  int completions = 0;
  ex->on_complete([&](const http::Completion& c) {
    done = c;
    ++completions;
  });
  session->on_close();
  EXPECT_TRUE(ex->closed());
  EXPECT_EQ(completions, 1);
  EXPECT_TRUE(done.aborted);
  EXPECT_EQ(done.status, 0);
  session.reset();  // the connection is gone; the app still holds the exchange
  ex->respond(text(200, "too late"));
  ex->resume();
  EXPECT_TRUE(transport.written.empty());
  EXPECT_EQ(completions, 1);
}

TEST_F(SessionTest, SessionDestroyedWithoutOnCloseAbortsExchange) {
  make();
  feed(kGet);
  std::shared_ptr<http::Exchange> ex = handler.exchanges[0];
  bool aborted = false;
  ex->on_complete([&](const http::Completion& c) { aborted = c.aborted; });
  session.reset();
  EXPECT_TRUE(aborted);
  EXPECT_TRUE(ex->closed());
  ex->respond(text(200, "x"));  // must not touch the freed session
}

TEST_F(SessionTest, ShutdownWhenIdleClosesNow) {
  make();
  EXPECT_TRUE(session->idle());
  session->request_shutdown();
  EXPECT_TRUE(transport.closed);
  EXPECT_TRUE(transport.graceful);
}

TEST_F(SessionTest, ShutdownDuringRequestClosesAfterResponse) {
  make();
  feed(kGet);
  EXPECT_FALSE(session->idle());
  session->request_shutdown();
  EXPECT_FALSE(transport.closed);
  handler.exchanges[0]->respond(text(200, "last"));
  EXPECT_NE(transport.written.find("connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(transport.closed);
}

TEST_F(SessionTest, ChunkedRequestBodyWithTrailersReachesHandler) {
  make();
  respond_with("ok");
  feed("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n");
  EXPECT_TRUE(handler.exchanges.empty());
  feed("0\r\nX-T: 1\r\n\r\n");
  ASSERT_EQ(handler.exchanges.size(), 1u);
  EXPECT_EQ(handler.exchanges[0]->request().body, "abcd");
  EXPECT_EQ(handler.exchanges[0]->request().trailers.get_or("x-t"), "1");
}

TEST_F(SessionTest, AbsoluteFormAndOptionsAsterisk) {
  make();
  respond_with("x");
  feed("GET http://other.example:81/p?q HTTP/1.1\r\nHost: h\r\n\r\n");
  feed("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(handler.exchanges.size(), 2u);
  EXPECT_EQ(handler.exchanges[0]->request().authority, "other.example:81");
  EXPECT_EQ(handler.exchanges[0]->request().path, "/p");
  EXPECT_EQ(handler.exchanges[0]->request().query, "q");
  EXPECT_EQ(handler.exchanges[0]->request().scheme, "http");
  EXPECT_EQ(handler.exchanges[1]->request().path, "*");
}

TEST_F(SessionTest, UpgradeH2cIsIgnored) {
  make();
  respond_with("plain");
  feed("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
       "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
  std::string out = transport.take();
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_EQ(out.find("101"), std::string::npos);
}

}  // namespace
}  // namespace mirror::h1
