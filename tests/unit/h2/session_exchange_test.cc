// Requests and responses through h2::Session, driven by an nghttp2 client (no sockets).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "harness.h"

namespace mirror::h2::testing {
namespace {

TEST(H2Exchange, GetWithStringBodyFillsRequestAndResponse) {
  Harness h;
  h.opts.alt_svc = "h3=\":8443\"; ma=86400";
  h.handler.on_request = [](auto ex) { ex->respond(text_response(200, "hello")); };
  h.start();
  int32_t id = h.client.request("GET", "/a/b?x=1&y=2",
                                {{"cookie", "a=1"}, {"cookie", "b=2"}, {"user-agent", "test"}});
  h.pump();

  ASSERT_EQ(h.handler.exchanges.size(), 1u);
  const auto& req = h.handler.exchanges[0]->request();
  EXPECT_EQ(req.method, http::Method::kGet);
  EXPECT_EQ(req.method_str, "GET");
  EXPECT_EQ(req.target, "/a/b?x=1&y=2");
  EXPECT_EQ(req.path, "/a/b");
  EXPECT_EQ(req.query, "x=1&y=2");
  EXPECT_EQ(req.authority, "example.com");
  EXPECT_EQ(req.scheme, "https");
  EXPECT_EQ(req.protocol, http::Protocol::kHttp2);
  EXPECT_EQ(req.peer, "192.0.2.7:40001");
  EXPECT_EQ(req.headers.get_or("user-agent"), "test");
  EXPECT_EQ(req.headers.count("cookie"), 1u);
  EXPECT_EQ(req.headers.get_or("cookie"), "a=1; b=2");  // crumbs joined (RFC 9113 8.2.3)

  auto& s = h.client.stream(id);
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.error_code, NGHTTP2_NO_ERROR);
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.body, "hello");
  EXPECT_EQ(s.headers.get_or("content-length"), "5");
  EXPECT_EQ(s.headers.get_or("content-type"), "text/plain");
  EXPECT_EQ(s.headers.get_or("server"), "mirror");
  EXPECT_TRUE(s.headers.has("date"));
  EXPECT_EQ(s.headers.get_or("alt-svc"), "h3=\":8443\"; ma=86400");

  ASSERT_EQ(h.handler.completions[0].count, 1);
  EXPECT_EQ(h.handler.completions[0].c.status, 200);
  EXPECT_EQ(h.handler.completions[0].c.body_bytes, 5u);
  EXPECT_FALSE(h.handler.completions[0].c.aborted);
  EXPECT_TRUE(h.handler.exchanges[0]->closed());
  EXPECT_TRUE(h.session->idle());
}

TEST(H2Exchange, ConnectionSpecificHeadersAreStrippedAndHandlerHeadersKept) {
  Harness h;
  h.handler.on_request = [](auto ex) {
    auto r = text_response(200, "x");
    r.headers.set("Connection", "close");
    r.headers.set("Transfer-Encoding", "chunked");
    r.headers.set("Keep-Alive", "timeout=5");
    r.headers.set("Upgrade", "h2c");
    r.headers.set("X-Custom", "v");
    r.headers.set("alt-svc", "clear");
    r.headers.set("server", "handler");
    ex->respond(std::move(r));
  };
  h.opts.alt_svc = "h3=\":443\"";
  h.start();
  int32_t id = h.client.request("GET", "/");
  h.pump();
  auto& s = h.client.stream(id);
  ASSERT_EQ(s.status, 200) << "nghttp2 rejects responses with connection-specific fields";
  EXPECT_FALSE(s.headers.has("connection"));
  EXPECT_FALSE(s.headers.has("transfer-encoding"));
  EXPECT_FALSE(s.headers.has("keep-alive"));
  EXPECT_FALSE(s.headers.has("upgrade"));
  EXPECT_EQ(s.headers.get_or("x-custom"), "v");
  EXPECT_EQ(s.headers.get_or("alt-svc"), "clear");
  EXPECT_EQ(s.headers.count("alt-svc"), 1u);
  EXPECT_EQ(s.headers.get_or("server"), "handler");
}

TEST(H2Exchange, PostBodyIsBufferedAndEchoed) {
  Harness h;
  h.handler.on_request = [](auto ex) { ex->respond(text_response(200, ex->request().body)); };
  h.start();
  std::string body(300 * 1024, '\0');  // larger than the client's 64 KiB receive window
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  int32_t id = h.client.request("POST", "/echo", {{"content-type", "text/plain"}}, &body);
  h.pump();
  ASSERT_EQ(h.handler.exchanges.size(), 1u);
  EXPECT_EQ(h.handler.exchanges[0]->request().method, http::Method::kPost);
  EXPECT_EQ(h.handler.exchanges[0]->request().body.size(), body.size());
  auto& s = h.client.stream(id);
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.body, body);
  EXPECT_EQ(h.handler.completions[0].c.body_bytes, body.size());
  EXPECT_FALSE(h.handler.completions[0].c.aborted);
}

TEST(H2Exchange, HeadSendsLengthButNoData) {
  Harness h;
  h.handler.on_request = [](auto ex) { ex->respond(text_response(200, "hello world")); };
  h.start();
  int32_t id = h.client.request("HEAD", "/");
  h.pump();
  auto& s = h.client.stream(id);
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.headers.get_or("content-length"), "11");
  EXPECT_TRUE(s.end_stream_on_headers);
  EXPECT_EQ(s.data_frames, 0);
  EXPECT_TRUE(s.body.empty());
  EXPECT_EQ(h.handler.completions[0].c.body_bytes, 0u);
  EXPECT_FALSE(h.handler.completions[0].c.aborted);
}

TEST(H2Exchange, NoContentAndEmptyBodiesEndOnHeaders) {
  Harness h;
  h.handler.on_request = [](auto ex) {
    http::Response r;
    r.status = ex->request().path == "/204" ? 204 : 200;
    if (r.status == 204) r.headers.set("content-length", "0");
    ex->respond(std::move(r));
  };
  h.start();
  int32_t a = h.client.request("GET", "/204");
  int32_t b = h.client.request("GET", "/empty");
  h.pump();
  EXPECT_EQ(h.client.stream(a).status, 204);
  EXPECT_FALSE(h.client.stream(a).headers.has("content-length"));
  EXPECT_TRUE(h.client.stream(a).end_stream_on_headers);
  EXPECT_EQ(h.client.stream(b).status, 200);
  EXPECT_EQ(h.client.stream(b).headers.get_or("content-length"), "0");
  EXPECT_TRUE(h.client.stream(b).end_stream_on_headers);
}

TEST(H2Exchange, RequestAndResponseTrailers) {
  Harness h;
  h.handler.on_request = [](auto ex) {
    auto r = text_response(200, "payload");
    r.trailers.set("grpc-status", "0");
    r.trailers.set("X-Digest", "abc");
    ex->respond(std::move(r));
  };
  h.start();
  std::string body = "request body";
  http::Headers trailers;
  trailers.set("x-checksum", "1234");
  int32_t id = h.client.request("POST", "/t", {}, &body, &trailers);
  h.pump();
  ASSERT_EQ(h.handler.exchanges.size(), 1u);
  EXPECT_EQ(h.handler.exchanges[0]->request().body, body);
  EXPECT_EQ(h.handler.exchanges[0]->request().trailers.get_or("x-checksum"), "1234");
  auto& s = h.client.stream(id);
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.error_code, NGHTTP2_NO_ERROR);
  EXPECT_EQ(s.body, "payload");
  EXPECT_EQ(s.trailers.get_or("grpc-status"), "0");
  EXPECT_EQ(s.trailers.get_or("x-digest"), "abc");
  EXPECT_FALSE(h.handler.completions[0].c.aborted);
}

TEST(H2Exchange, TrailersWithEmptyBody) {
  Harness h;
  h.handler.on_request = [](auto ex) {
    http::Response r;
    r.trailers.set("grpc-status", "7");
    ex->respond(std::move(r));
  };
  h.start();
  int32_t id = h.client.request("GET", "/");
  h.pump();
  auto& s = h.client.stream(id);
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.status, 200);
  EXPECT_FALSE(s.end_stream_on_headers);
  EXPECT_EQ(s.trailers.get_or("grpc-status"), "7");
}

TEST(H2Exchange, ManyConcurrentStreams) {
  Harness h;
  h.handler.on_request = [](auto ex) {
    ex->respond(text_response(200, "body of " + ex->request().path));
  };
  h.start();
  std::vector<int32_t> ids;
  for (int i = 0; i < 80; ++i) ids.push_back(h.client.request("GET", "/item/" + std::to_string(i)));
  h.pump();
  ASSERT_EQ(h.handler.exchanges.size(), 80u);
  for (int i = 0; i < 80; ++i) {
    auto& s = h.client.stream(ids[i]);
    EXPECT_TRUE(s.closed);
    EXPECT_EQ(s.status, 200);
    EXPECT_EQ(s.body, "body of /item/" + std::to_string(i));
  }
  for (const auto& c : h.handler.completions) EXPECT_EQ(c.count, 1);
  EXPECT_EQ(h.session->open_streams(), 0u);
}

TEST(H2Exchange, AsyncResponseAfterHandlerReturns) {
  Harness h;
  h.start();
  int32_t id = h.client.request("GET", "/later");
  h.pump();
  ASSERT_EQ(h.handler.exchanges.size(), 1u);
  EXPECT_FALSE(h.client.stream(id).closed);
  EXPECT_FALSE(h.session->idle());
  h.handler.exchanges[0]->respond(text_response(201, "made"));
  h.handler.exchanges[0]->respond(text_response(500, "ignored"));  // second call: no effect
  h.pump();
  EXPECT_EQ(h.client.stream(id).status, 201);
  EXPECT_EQ(h.client.stream(id).body, "made");
  EXPECT_TRUE(h.session->idle());
  EXPECT_EQ(h.handler.completions[0].count, 1);
}

TEST(H2Exchange, ProducerBodyPendingThenResumed) {
  Harness h;
  auto state = std::make_shared<ProducerState>();
  h.handler.on_request = [&](auto ex) {
    http::Response r;
    r.headers.set("content-type", "text/event-stream");
    r.body = std::make_unique<QueueProducer>(state);
    ex->respond(std::move(r));
  };
  h.start();
  int32_t id = h.client.request("GET", "/events");
  h.pump();
  auto& s = h.client.stream(id);
  EXPECT_EQ(s.status, 200);
  EXPECT_FALSE(s.headers.has("content-length"));
  EXPECT_FALSE(s.closed);
  EXPECT_TRUE(s.body.empty());
  const int reads_while_pending = state->reads;
  h.pump();
  EXPECT_EQ(state->reads, reads_while_pending) << "a pending producer must not be polled";

  state->chunks.push_back("data: one\n\n");
  h.handler.exchanges[0]->resume();
  h.pump();
  EXPECT_EQ(s.body, "data: one\n\n");
  EXPECT_FALSE(s.closed);

  state->chunks.push_back("data: two\n\n");
  state->eof = true;
  h.handler.exchanges[0]->resume();
  h.pump();
  EXPECT_EQ(s.body, "data: one\n\ndata: two\n\n");
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.error_code, NGHTTP2_NO_ERROR);
  EXPECT_EQ(state->aborts, 0);
  EXPECT_EQ(h.handler.completions[0].c.body_bytes, 22u);
  EXPECT_FALSE(h.handler.completions[0].c.aborted);
}

// A producer that learns of new data inside its own read() (and says so with resume()) is read
// again at once instead of stalling.
class ResumeFromInsideProducer final : public http::BodyProducer {
 public:
  std::shared_ptr<http::Exchange> exchange;
  int calls = 0;
  ReadResult read(std::span<uint8_t> out) override {
    ++calls;
    if (calls == 1) {
      exchange->resume();
      return {0, false, true};
    }
    out[0] = 'z';
    return {1, true, false};
  }
};

TEST(H2Exchange, ResumeCalledInsideReadIsNotLost) {
  Harness h;
  h.handler.on_request = [](auto ex) {
    auto p = std::make_unique<ResumeFromInsideProducer>();
    p->exchange = ex;
    http::Response r;
    r.body = std::move(p);
    ex->respond(std::move(r));
  };
  h.start();
  int32_t id = h.client.request("GET", "/");
  h.pump();
  EXPECT_TRUE(h.client.stream(id).closed);
  EXPECT_EQ(h.client.stream(id).body, "z");
}

TEST(H2Exchange, LargeBodyRespectsBackpressure) {
  Harness h;
  h.opts.write_high_water = 32 * 1024;
  std::string big(2 << 20, 'b');
  h.handler.on_request = [&](auto ex) { ex->respond(text_response(200, big)); };
  h.start();
  int32_t id = h.client.request("GET", "/big");
  h.pump(/*client_read_limit=*/8 * 1024);
  auto& s = h.client.stream(id);
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.body.size(), big.size());
  // Never more than the mark plus one frame (16 KiB payload + 9 bytes header) waiting.
  EXPECT_LE(h.max_pending, h.opts.write_high_water + 16384 + 9);
  EXPECT_GT(h.transport.pauses, 0);
  EXPECT_FALSE(h.transport.paused);  // resumed once drained
}

// A temporary file with `content`, opened for reading and already unlinked.
std::shared_ptr<http::OpenFile> temp_file(const std::string& content) {
  char path[] = "/tmp/mirror-h2-test-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  unlink(path);
  EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  auto file = std::make_shared<http::OpenFile>();
  file->fd = fd;
  file->size = content.size();
  return file;
}

TEST(H2Exchange, FileRangeBody) {
  std::string content(100 * 1024, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('A' + i % 23);
  auto file = temp_file(content);
  Harness h;
  h.handler.on_request = [&](auto ex) {
    http::Response r;
    r.status = 206;
    r.body = http::FileBody{file, 1000, 50000};
    ex->respond(std::move(r));
  };
  h.start();
  int32_t id = h.client.request("GET", "/file");
  h.pump();
  auto& s = h.client.stream(id);
  EXPECT_EQ(s.status, 206);
  EXPECT_EQ(s.headers.get_or("content-length"), "50000");
  EXPECT_EQ(s.body, content.substr(1000, 50000));
  EXPECT_EQ(s.error_code, NGHTTP2_NO_ERROR);
}

TEST(H2Exchange, FileShorterThanPromisedResetsTheStream) {
  auto file = temp_file(std::string(1000, 'f'));
  Harness h;
  h.handler.on_request = [&](auto ex) {
    http::Response r;
    r.body = http::FileBody{file, 0, 5000};  // the file shrank after the length was decided
    ex->respond(std::move(r));
  };
  h.start();
  int32_t id = h.client.request("GET", "/file");
  h.pump();
  auto& s = h.client.stream(id);
  EXPECT_EQ(s.headers.get_or("content-length"), "5000");
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.error_code, NGHTTP2_INTERNAL_ERROR) << "never a silently short body";
  EXPECT_TRUE(h.handler.completions[0].c.aborted);
}

TEST(H2Exchange, InformationalResponses) {
  Harness h;
  h.handler.on_request = [](auto ex) {
    http::Headers hints;
    hints.add("link", "</style.css>; rel=preload; as=style");
    ex->send_informational(103, hints);
    ex->respond(text_response(200, "ok"));
    ex->send_informational(103, hints);  // after the response: ignored
  };
  h.start();
  int32_t id = h.client.request("GET", "/");
  std::string body(10, 'x');
  int32_t up = h.client.request("POST", "/upload", {{"expect", "100-continue"}}, &body);
  h.pump();
  EXPECT_EQ(h.client.stream(id).informational, std::vector<int>{103});
  EXPECT_EQ(h.client.stream(id).status, 200);
  EXPECT_EQ(h.client.stream(up).informational, (std::vector<int>{100, 103}));
  EXPECT_EQ(h.client.stream(up).status, 200);
}

TEST(H2Exchange, InvalidHandlerStatusBecomes500) {
  Harness h;
  auto state = std::make_shared<ProducerState>();
  h.handler.on_request = [&](auto ex) {
    http::Response r;
    r.status = 102;
    r.body = std::make_unique<QueueProducer>(state);
    ex->respond(std::move(r));
  };
  h.start();
  int32_t id = h.client.request("GET", "/");
  h.pump();
  EXPECT_EQ(h.client.stream(id).status, 500);
  EXPECT_EQ(state->aborts, 1);
}

}  // namespace
}  // namespace mirror::h2::testing
