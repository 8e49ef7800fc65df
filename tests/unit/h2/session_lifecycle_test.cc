// Stream and connection lifetimes: resets, graceful shutdown, idle timeout, connection loss and
// exchanges that outlive their session.
#include <gtest/gtest.h>

#include "harness.h"

namespace mirror::h2::testing {
namespace {

TEST(H2Lifecycle, ClientResetClosesTheExchange) {
  Harness h;
  h.start();
  int32_t id = h.client.request("GET", "/slow");
  h.pump();
  ASSERT_EQ(h.handler.exchanges.size(), 1u);
  auto ex = h.handler.exchanges[0];
  EXPECT_FALSE(ex->closed());

  nghttp2_submit_rst_stream(h.client.raw(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  h.pump();
  EXPECT_TRUE(ex->closed());
  ASSERT_EQ(h.handler.completions[0].count, 1);
  EXPECT_TRUE(h.handler.completions[0].c.aborted);
  EXPECT_EQ(h.handler.completions[0].c.status, 0);
  EXPECT_EQ(h.session->open_streams(), 0u);

  const size_t writes = h.transport.writes;
  ex->respond(text_response(200, "too late"));  // harmless
  ex->resume();
  h.pump();
  EXPECT_EQ(h.transport.writes, writes) << "nothing is sent for a closed stream";
  EXPECT_EQ(h.handler.completions[0].count, 1);
  EXPECT_FALSE(h.server_failed);
}

TEST(H2Lifecycle, ClientResetAbortsAPendingProducer) {
  Harness h;
  auto state = std::make_shared<ProducerState>();
  h.handler.on_request = [&](auto ex) {
    http::Response r;
    r.body = std::make_unique<QueueProducer>(state);
    ex->respond(std::move(r));
  };
  h.start();
  int32_t id = h.client.request("GET", "/events");
  h.pump();
  EXPECT_EQ(h.client.stream(id).status, 200);
  nghttp2_submit_rst_stream(h.client.raw(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  h.pump();
  EXPECT_EQ(state->aborts, 1);
  EXPECT_TRUE(h.handler.completions[0].c.aborted);
  EXPECT_EQ(h.handler.completions[0].c.status, 200);
  h.handler.exchanges[0]->resume();  // a late wake-up is harmless
  h.pump();
}

TEST(H2Lifecycle, GracefulShutdownFinishesInFlightStreams) {
  Harness h;
  h.opts.goaway_delay = 0.5;
  h.start();
  int32_t first = h.client.request("GET", "/first");
  h.pump();
  ASSERT_EQ(h.handler.exchanges.size(), 1u);

  h.session->request_shutdown();
  // A request already on its way when the notice went out is still served.
  int32_t second = h.client.request("GET", "/second");
  h.pump();
  EXPECT_TRUE(h.client.goaway);
  EXPECT_EQ(h.client.goaway_last_stream_id, (1u << 31) - 1) << "first the shutdown notice";
  EXPECT_EQ(h.client.goaway_error, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_DOUBLE_EQ(h.transport.timeout, 0.5);
  EXPECT_FALSE(h.session->idle());
  ASSERT_EQ(h.handler.exchanges.size(), 2u);

  h.session->on_timeout();  // the delay is over: the real GOAWAY
  h.pump();
  EXPECT_EQ(h.client.goaways, 2);
  EXPECT_EQ(h.client.goaway_last_stream_id, second);
  EXPECT_FALSE(h.transport.closed) << "in-flight streams are not cut off";

  h.handler.exchanges[0]->respond(text_response(200, "one"));
  h.pump();
  EXPECT_EQ(h.client.stream(first).body, "one");
  EXPECT_FALSE(h.transport.closed);
  h.handler.exchanges[1]->respond(text_response(200, "two"));
  h.pump();
  EXPECT_EQ(h.client.stream(second).body, "two");
  EXPECT_TRUE(h.session->idle());
  EXPECT_TRUE(h.transport.closed);
  EXPECT_TRUE(h.transport.closed_gracefully);
  for (const auto& c : h.handler.completions) EXPECT_FALSE(c.c.aborted);
}

TEST(H2Lifecycle, ShutdownOfAnIdleConnectionCloses) {
  Harness h;
  h.handler.on_request = [](auto ex) { ex->respond(text_response(200, "x")); };
  h.start();
  h.client.request("GET", "/");
  h.pump();
  EXPECT_TRUE(h.session->idle());
  h.session->request_shutdown();
  h.pump();
  EXPECT_FALSE(h.transport.closed);
  h.session->on_timeout();
  EXPECT_TRUE(h.transport.closed);
  // (An nghttp2 client with no streams left stops reading after the first GOAWAY, so the final
  // one is checked on the wire.)
  auto frames = parse_server_frames(h.transport.out);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, NGHTTP2_GOAWAY);
  EXPECT_EQ(be32(frames[0].payload, 0), 1u);  // last stream id
  EXPECT_EQ(be32(frames[0].payload, 4), static_cast<uint32_t>(NGHTTP2_NO_ERROR));
}

TEST(H2Lifecycle, IdleTimeoutArmedOnlyWithoutStreams) {
  Harness h;
  h.opts.idle_timeout = 30;
  h.start();
  EXPECT_DOUBLE_EQ(h.transport.timeout, 30);
  int32_t id = h.client.request("GET", "/");
  h.pump();
  EXPECT_DOUBLE_EQ(h.transport.timeout, 0) << "no idle timeout while a request is open";
  h.handler.exchanges[0]->respond(text_response(200, "x"));
  h.pump();
  EXPECT_TRUE(h.client.stream(id).closed);
  EXPECT_DOUBLE_EQ(h.transport.timeout, 30);

  h.session->on_timeout();
  EXPECT_TRUE(h.transport.closed);
  auto frames = parse_server_frames(h.transport.out);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, NGHTTP2_GOAWAY);
  EXPECT_EQ(be32(frames[0].payload, 0), static_cast<uint32_t>(id));
  EXPECT_EQ(be32(frames[0].payload, 4), static_cast<uint32_t>(NGHTTP2_NO_ERROR));
}

TEST(H2Lifecycle, ConnectionLossAbortsOpenExchanges) {
  Harness h;
  auto state = std::make_shared<ProducerState>();
  h.handler.on_request = [&](auto ex) {
    if (ex->request().path == "/stream") {
      http::Response r;
      r.body = std::make_unique<QueueProducer>(state);
      ex->respond(std::move(r));
    }
  };
  h.start();
  h.client.request("GET", "/stream");
  h.client.request("GET", "/held");
  h.pump();
  ASSERT_EQ(h.handler.exchanges.size(), 2u);
  h.session->on_close();
  EXPECT_EQ(state->aborts, 1);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(h.handler.exchanges[i]->closed());
    EXPECT_EQ(h.handler.completions[i].count, 1);
    EXPECT_TRUE(h.handler.completions[i].c.aborted);
  }
  EXPECT_TRUE(h.session->idle());
  h.handler.exchanges[1]->respond(text_response(200, "late"));  // no-op
  EXPECT_EQ(h.handler.completions[1].count, 1);
}

TEST(H2Lifecycle, ExchangeOutlivesItsSession) {
  Harness h;
  h.start();
  h.client.request("GET", "/");
  h.pump();
  ASSERT_EQ(h.handler.exchanges.size(), 1u);
  auto ex = h.handler.exchanges[0];
  h.session.reset();
  EXPECT_TRUE(ex->closed());
  EXPECT_EQ(h.handler.completions[0].count, 1);
  EXPECT_TRUE(h.handler.completions[0].c.aborted);

  auto state = std::make_shared<ProducerState>();
  http::Response r;
  r.body = std::make_unique<QueueProducer>(state);
  ex->respond(std::move(r));  // must not touch the dead session
  ex->resume();
  ex->send_informational(103, {});
  EXPECT_EQ(state->aborts, 1) << "a producer handed to a dead exchange is told to stop";
  EXPECT_EQ(h.handler.completions[0].count, 1);
}

TEST(H2Lifecycle, ClientGoawayWithNoStreamsClosesTheConnection) {
  Harness h;
  h.start();
  h.pump();
  nghttp2_submit_goaway(h.client.raw(), NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0);
  h.pump();
  EXPECT_TRUE(h.server_failed || h.transport.closed);
}

TEST(H2Lifecycle, CleartextSessionServesRequests) {
  Harness h;
  h.opts.is_cleartext = true;
  h.handler.on_request = [](auto ex) { ex->respond(text_response(200, ex->request().scheme)); };
  h.start();
  int32_t id = h.client.request("GET", "/");
  h.pump();
  EXPECT_EQ(h.client.stream(id).body, "https") << ":scheme from the request wins";
}

TEST(H2Lifecycle, ExtendedConnectIsAdvertisedWhenEnabled) {
  Harness h;
  h.opts.enable_connect_protocol = true;
  h.start();
  h.pump();
  EXPECT_EQ(
      nghttp2_session_get_remote_settings(h.client.raw(), NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL),
      1u);
  EXPECT_EQ(
      nghttp2_session_get_remote_settings(h.client.raw(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS),
      100u);
  EXPECT_EQ(
      nghttp2_session_get_remote_settings(h.client.raw(), NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE),
      1u << 20);
  EXPECT_GE(nghttp2_session_get_remote_window_size(h.client.raw()), (16 << 20) - 1);

  std::vector<std::pair<std::string, std::string>> fields = {{":protocol", "websocket"}};
  int32_t id = h.client.request("CONNECT", "/ws", fields);
  ASSERT_GT(id, 0);
  h.pump();
  ASSERT_EQ(h.handler.exchanges.size(), 1u);
  EXPECT_EQ(h.handler.exchanges[0]->request().method, http::Method::kConnect);
  EXPECT_EQ(h.handler.exchanges[0]->request().headers.get_or(":protocol"), "websocket");
  EXPECT_EQ(h.handler.exchanges[0]->request().path, "/ws");
}

}  // namespace
}  // namespace mirror::h2::testing
