// Limits and abuse: concurrent streams, header and body sizes, Rapid Reset, bad prefaces.
#include <gtest/gtest.h>

#include <chrono>
#include <string_view>

#include "harness.h"

namespace mirror::h2::testing {
namespace {

constexpr std::string_view kHeadersTooLarge =
    R"({"error":{"type":"VALIDATION_ERROR","message":"request header fields too large"}})";
constexpr std::string_view kBodyTooLarge =
    R"({"error":{"type":"VALIDATION_ERROR","message":"request body too large"}})";

TEST(H2Limits, StreamsBeyondMaxConcurrentAreRefused) {
  Harness h;
  h.opts.max_concurrent_streams = 5;
  h.start();
  // All ten go out in the client's first flight, before it has seen our SETTINGS.
  std::vector<int32_t> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(h.client.request("GET", "/" + std::to_string(i)));
  h.pump();  // the handler holds every exchange it gets
  EXPECT_EQ(h.handler.exchanges.size(), 5u);
  int refused = 0;
  for (auto id : ids) {
    auto& s = h.client.stream(id);
    if (s.closed && s.error_code == NGHTTP2_REFUSED_STREAM) ++refused;
  }
  EXPECT_EQ(refused, 5);
  EXPECT_EQ(h.session->open_streams(), 5u);
  for (auto& ex : h.handler.exchanges) ex->respond(text_response(200, "ok"));
  h.pump();
  int ok = 0;
  for (auto id : ids) ok += h.client.stream(id).status == 200;
  EXPECT_EQ(ok, 5);
  EXPECT_FALSE(h.server_failed) << "refusing streams is not a connection error";
}

TEST(H2Limits, TooManyHeaderFieldsGet431) {
  Harness h;
  h.opts.max_header_count = 10;  // includes the 4 pseudo-headers
  h.start();
  std::vector<std::pair<std::string, std::string>> extra;
  for (int i = 0; i < 20; ++i) extra.emplace_back("x-h" + std::to_string(i), "v");
  int32_t bad = h.client.request("GET", "/", extra);
  extra.resize(6);
  int32_t good = h.client.request("GET", "/", extra);
  h.pump();
  auto& s = h.client.stream(bad);
  EXPECT_EQ(s.status, 431);
  EXPECT_EQ(s.headers.get_or("content-type"), "application/json");
  EXPECT_EQ(s.body, kHeadersTooLarge);
  EXPECT_TRUE(s.closed);
  ASSERT_EQ(h.handler.exchanges.size(), 1u) << "the handler sees only the acceptable request";
  EXPECT_EQ(h.handler.exchanges[0]->request().headers.size(), 6u);
  (void)good;
}

TEST(H2Limits, TooManyHeaderBytesGet431) {
  Harness h;
  h.opts.max_header_bytes = 4096;
  h.start();
  int32_t id = h.client.request("GET", "/", {{"x-big", std::string(5000, 'q')}});
  h.pump();
  EXPECT_EQ(h.client.stream(id).status, 431);
  EXPECT_EQ(h.client.stream(id).body, kHeadersTooLarge);
  EXPECT_TRUE(h.handler.exchanges.empty());
}

TEST(H2Limits, OversizedTrailersGet431) {
  Harness h;
  h.opts.max_header_count = 8;
  h.start();
  std::string body = "b";
  http::Headers trailers;
  for (int i = 0; i < 12; ++i) trailers.add("t" + std::to_string(i), "v");
  int32_t id = h.client.request("POST", "/", {}, &body, &trailers);
  h.pump();
  EXPECT_EQ(h.client.stream(id).status, 431);
  EXPECT_TRUE(h.handler.exchanges.empty());
}

TEST(H2Limits, BodyOverLimitGets413AndTheUploadIsCancelled) {
  Harness h;
  h.opts.max_body_size = 1000;
  h.start();
  std::string body(200 * 1024, 'u');  // no content-length: discovered while streaming
  int32_t id = h.client.request("POST", "/upload", {}, &body);
  h.pump();
  auto& s = h.client.stream(id);
  EXPECT_EQ(s.status, 413);
  EXPECT_EQ(s.body, kBodyTooLarge);
  EXPECT_TRUE(s.closed);
  EXPECT_TRUE(s.rst_received);
  EXPECT_EQ(s.rst_code, NGHTTP2_NO_ERROR);
  EXPECT_LT(s.upload_pos, body.size()) << "the client stopped uploading";
  EXPECT_TRUE(h.handler.exchanges.empty());
  EXPECT_EQ(h.session->open_streams(), 0u);
  EXPECT_FALSE(h.server_failed);

  // The connection is still good.
  h.handler.on_request = [](auto ex) { ex->respond(text_response(200, "next")); };
  int32_t next = h.client.request("GET", "/");
  h.pump();
  EXPECT_EQ(h.client.stream(next).body, "next");
}

TEST(H2Limits, DeclaredContentLengthOverLimitGets413AtOnce) {
  Harness h;
  h.opts.max_body_size = 1000;
  h.start();
  std::string body(5000, 'u');
  int32_t id = h.client.request("POST", "/upload", {{"content-length", "5000"}}, &body);
  h.pump();
  EXPECT_EQ(h.client.stream(id).status, 413);
  EXPECT_TRUE(h.handler.exchanges.empty());
}

TEST(H2Limits, BodyAtTheLimitIsAccepted) {
  Harness h;
  h.opts.max_body_size = 1000;
  h.handler.on_request = [](auto ex) {
    ex->respond(text_response(200, std::to_string(ex->request().body.size())));
  };
  h.start();
  std::string body(1000, 'u');
  int32_t id = h.client.request("POST", "/upload", {}, &body);
  h.pump();
  EXPECT_EQ(h.client.stream(id).status, 200);
  EXPECT_EQ(h.client.stream(id).body, "1000");
}

TEST(H2Limits, InvalidTargetsAndConnect) {
  Harness h;
  h.handler.on_request = [](auto ex) { ex->respond(text_response(200, "opts")); };
  h.start();
  int32_t star = h.client.request("OPTIONS", "*");
  h.pump();
  EXPECT_EQ(h.client.stream(star).status, 200);
  ASSERT_EQ(h.handler.exchanges.size(), 1u);
  EXPECT_EQ(h.handler.exchanges[0]->request().target, "*");

  // Plain CONNECT (no :path, no :scheme): we are not a proxy.
  std::vector<nghttp2_nv> nva;
  std::string m = ":method", mv = "CONNECT", a = ":authority", av = "example.com:443";
  nva.push_back({reinterpret_cast<uint8_t*>(m.data()), reinterpret_cast<uint8_t*>(mv.data()),
                 m.size(), mv.size(), NGHTTP2_NV_FLAG_NONE});
  nva.push_back({reinterpret_cast<uint8_t*>(a.data()), reinterpret_cast<uint8_t*>(av.data()),
                 a.size(), av.size(), NGHTTP2_NV_FLAG_NONE});
  int32_t connect =
      nghttp2_submit_request(h.client.raw(), nullptr, nva.data(), nva.size(), nullptr, nullptr);
  ASSERT_GT(connect, 0);
  h.pump();
  EXPECT_EQ(h.client.stream(connect).status, 405);
  EXPECT_EQ(h.handler.exchanges.size(), 1u);
}

// 2,000 pairs of HEADERS(END_STREAM) + RST_STREAM(CANCEL), the CVE-2023-44487 pattern.
std::vector<std::vector<uint8_t>> rapid_reset_pairs(int pairs) {
  nghttp2_hd_deflater* deflater = nullptr;
  EXPECT_EQ(nghttp2_hd_deflate_new(&deflater, 4096), 0);
  std::string names[] = {":method", ":scheme", ":authority", ":path"};
  std::string values[] = {"GET", "https", "example.com", "/"};
  nghttp2_nv nva[4];
  for (int i = 0; i < 4; ++i) {
    nva[i] = {reinterpret_cast<uint8_t*>(names[i].data()),
              reinterpret_cast<uint8_t*>(values[i].data()), names[i].size(), values[i].size(),
              NGHTTP2_NV_FLAG_NONE};
  }
  const uint8_t cancel[4] = {0, 0, 0, NGHTTP2_CANCEL};
  std::vector<std::vector<uint8_t>> out;
  for (int i = 0; i < pairs; ++i) {
    const int32_t id = 1 + 2 * i;
    uint8_t block[256];
    ssize_t n = nghttp2_hd_deflate_hd(deflater, block, sizeof block, nva, 4);
    EXPECT_GT(n, 0);
    auto pair = frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, id,
                      {block, static_cast<size_t>(n)});
    auto rst = frame(NGHTTP2_RST_STREAM, 0, id, cancel);
    pair.insert(pair.end(), rst.begin(), rst.end());
    out.push_back(std::move(pair));
  }
  nghttp2_hd_deflate_del(deflater);
  return out;
}

void expect_error_goaway(const std::vector<uint8_t>& server_output) {
  bool goaway = false;
  for (const auto& f : parse_server_frames(server_output)) {
    if (f.type != NGHTTP2_GOAWAY) continue;
    goaway = true;
    EXPECT_NE(be32(f.payload, 4), static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  }
  EXPECT_TRUE(goaway);
}

TEST(H2Limits, RapidResetFloodInBulkNeverReachesTheHandler) {
  Harness h;  // default budget: 1000 resets, 33/s
  int handled = 0;
  h.handler.on_request = [&](auto ex) {
    ++handled;
    ex->respond(text_response(200, "ok"));
  };
  h.start();
  std::vector<uint8_t> wire = preface();
  for (const auto& pair : rapid_reset_pairs(2000))
    wire.insert(wire.end(), pair.begin(), pair.end());

  // Delivered in socket-sized reads, as a real transport would.
  bool accepted = true;
  size_t pos = 0;
  int reads = 0;
  while (pos < wire.size() && accepted) {
    size_t n = std::min<size_t>(16 * 1024, wire.size() - pos);
    accepted = h.session->on_data({wire.data() + pos, n});
    pos += n;
    ++reads;
  }
  EXPECT_FALSE(accepted) << "the session must give up on the connection";
  // Streams reset within the same read are dropped before the handler runs; only a pair split
  // across two reads can get through.
  EXPECT_LT(handled, reads);
  expect_error_goaway(h.transport.out);
  h.session->on_close();  // the transport closes
  EXPECT_EQ(h.session->open_streams(), 0u);
}

TEST(H2Limits, RapidResetFloodOneByOneStopsAtTheBudget) {
  Harness h;
  int handled = 0;
  h.handler.on_request = [&](auto ex) {
    ++handled;
    ex->respond(text_response(200, "ok"));
  };
  h.start();
  ASSERT_TRUE(h.session->on_data(preface()));
  const auto started = std::chrono::steady_clock::now();
  bool accepted = true;
  int pairs_sent = 0;
  for (const auto& pair : rapid_reset_pairs(2000)) {
    // HEADERS and RST_STREAM in separate reads: every request reaches the handler.
    const size_t headers_len = pair.size() - 13;
    accepted = h.session->on_data({pair.data(), headers_len});
    if (!accepted) break;
    accepted = h.session->on_data({pair.data() + headers_len, 13});
    ++pairs_sent;
    if (!accepted) break;
  }
  EXPECT_FALSE(accepted);
  // The bucket holds 1000 tokens and refills 33 per second (slow sanitizer builds take a while).
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const int budget = 1001 + static_cast<int>(33 * (seconds + 1));
  EXPECT_LE(pairs_sent, budget);
  EXPECT_GE(pairs_sent, 999);
  EXPECT_LE(handled, budget);
  expect_error_goaway(h.transport.out);
  h.session->on_close();
  for (const auto& c : h.handler.completions) EXPECT_EQ(c.count, 1);
}

TEST(H2Limits, ResetBudgetIsConfigurable) {
  Harness h;
  h.opts.reset_burst = 10;
  h.opts.max_resets_per_second = 1;
  h.handler.on_request = [](auto) {};  // hold everything
  h.start();
  int requests = 0;
  for (int i = 0; i < 50 && !h.client.goaway; ++i) {
    int32_t id = h.client.request("GET", "/");
    h.pump();
    nghttp2_submit_rst_stream(h.client.raw(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    h.pump();
    ++requests;
  }
  EXPECT_TRUE(h.client.goaway);
  EXPECT_NE(h.client.goaway_error, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_LE(requests, 12);
  EXPECT_TRUE(h.server_failed);
}

TEST(H2Limits, MalformedRequestIsResetWithoutReachingTheHandler) {
  Harness h;
  h.start();
  nghttp2_hd_deflater* deflater = nullptr;
  ASSERT_EQ(nghttp2_hd_deflate_new(&deflater, 4096), 0);
  std::string names[] = {":method", ":scheme", ":authority"};  // no :path
  std::string values[] = {"GET", "https", "example.com"};
  nghttp2_nv nva[3];
  for (int i = 0; i < 3; ++i) {
    nva[i] = {reinterpret_cast<uint8_t*>(names[i].data()),
              reinterpret_cast<uint8_t*>(values[i].data()), names[i].size(), values[i].size(),
              NGHTTP2_NV_FLAG_NONE};
  }
  uint8_t block[128];
  ssize_t n = nghttp2_hd_deflate_hd(deflater, block, sizeof block, nva, 3);
  nghttp2_hd_deflate_del(deflater);
  ASSERT_GT(n, 0);
  auto wire = preface();
  auto headers = frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 1,
                       {block, static_cast<size_t>(n)});
  wire.insert(wire.end(), headers.begin(), headers.end());
  h.transport.out.clear();
  EXPECT_TRUE(h.session->on_data(wire));
  EXPECT_TRUE(h.handler.exchanges.empty());
  EXPECT_EQ(h.session->open_streams(), 0u);
  bool reset = false;
  for (const auto& f : parse_server_frames(h.transport.out)) {
    if (f.type == NGHTTP2_RST_STREAM && f.stream_id == 1) {
      reset = true;
      EXPECT_EQ(be32(f.payload, 0), static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
    }
  }
  EXPECT_TRUE(reset);
}

TEST(H2Limits, BadPrefaceClosesTheConnection) {
  Harness h;
  h.start();
  std::string_view http1 = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_FALSE(h.session->on_data({reinterpret_cast<const uint8_t*>(http1.data()), http1.size()}));
  EXPECT_TRUE(h.handler.exchanges.empty());
}

}  // namespace
}  // namespace mirror::h2::testing
