// The stateless side of quic::Endpoint over real loopback UDP: Version Negotiation, Retry,
// stateless CONNECTION_CLOSE, stateless reset (size rule, token, rate limit) and cross-worker
// forwarding. No TLS handshake is needed: every packet here is answered without a connection.
#include "quic/endpoint.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <vector>

#include "base/unique_fd.h"

namespace mirror::quic {
namespace {

std::shared_ptr<Shared> make_shared_state(int workers) {
  auto s = std::make_shared<Shared>();
  for (size_t i = 0; i < s->static_secret.size(); ++i) s->static_secret[i] = static_cast<uint8_t>(i);
  s->worker_count = workers;
  return s;
}

class EndpointTest : public ::testing::Test {
 protected:
  void start(Options opt, int workers = 1, int worker_id = 0) {
    loop_ = ev_loop_new(EVFLAG_AUTO);
    shared_ = make_shared_state(workers);
    opt.port = 0;
    // No application is ever created: these tests never complete a handshake.
    ep_ = std::make_unique<Endpoint>(loop_, worker_id, opt, shared_,
                                     [](Connection&) { return nullptr; });
    ASSERT_TRUE(ep_->start({"127.0.0.1"}).ok());
    server_ = ep_->local_addresses()[0];
    client_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
    auto any = *Address::parse("127.0.0.1", 0);
    ASSERT_EQ(0, ::bind(client_.get(), any.sa(), any.len));
  }
  void TearDown() override {
    ep_.reset();
    if (loop_) ev_loop_destroy(loop_);
  }

  void send(const std::vector<uint8_t>& pkt) {
    ASSERT_EQ(static_cast<ssize_t>(pkt.size()),
              ::sendto(client_.get(), pkt.data(), pkt.size(), 0, server_.sa(), server_.len));
  }
  // Runs the endpoint's loop until a datagram comes back or `ms` pass.
  std::optional<std::vector<uint8_t>> receive(int ms = 300) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
      ev_run(loop_, EVRUN_NOWAIT);
      std::vector<uint8_t> buf(2048);
      ssize_t n = ::recv(client_.get(), buf.data(), buf.size(), 0);
      if (n >= 0) {
        buf.resize(static_cast<size_t>(n));
        return buf;
      }
      pollfd p{client_.get(), POLLIN, 0};
      ::poll(&p, 1, 5);
    }
    return std::nullopt;
  }

  // A client Initial header (not encrypted: the endpoint decides before decrypting anything),
  // padded to `size` bytes.
  static std::vector<uint8_t> initial(uint32_t version, const std::vector<uint8_t>& dcid,
                                      const std::vector<uint8_t>& token, size_t size = 1200) {
    std::vector<uint8_t> p;
    p.push_back(0xc3);  // long header, fixed bit, Initial, 4-byte packet number
    for (int s = 24; s >= 0; s -= 8) p.push_back(static_cast<uint8_t>(version >> s));
    p.push_back(static_cast<uint8_t>(dcid.size()));
    p.insert(p.end(), dcid.begin(), dcid.end());
    std::vector<uint8_t> scid(8, 0x5c);
    p.push_back(static_cast<uint8_t>(scid.size()));
    p.insert(p.end(), scid.begin(), scid.end());
    p.push_back(static_cast<uint8_t>(0x40 | (token.size() >> 8)));  // 2-byte varint
    p.push_back(static_cast<uint8_t>(token.size() & 0xff));
    p.insert(p.end(), token.begin(), token.end());
    size_t rest = size - p.size() - 2;
    p.push_back(static_cast<uint8_t>(0x40 | (rest >> 8)));
    p.push_back(static_cast<uint8_t>(rest & 0xff));
    p.resize(size, 0);
    return p;
  }
  static std::vector<uint8_t> short_packet(const ngtcp2_cid& dcid, size_t size) {
    std::vector<uint8_t> p{0x41};
    p.insert(p.end(), dcid.data, dcid.data + dcid.datalen);
    p.resize(size, 0x77);
    return p;
  }

  struct ev_loop* loop_ = nullptr;
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<Endpoint> ep_;
  Address server_;
  UniqueFd client_;
};

TEST_F(EndpointTest, UnknownVersionGetsVersionNegotiationListingV1) {
  start(Options{});
  std::vector<uint8_t> dcid(8, 0xd1);
  send(initial(0x1a2a3a4a, dcid, {}));
  auto r = receive();
  ASSERT_TRUE(r.has_value());
  ASSERT_GE(r->size(), 7u);
  EXPECT_TRUE((*r)[0] & 0x80);
  EXPECT_EQ(0, memcmp(r->data() + 1, "\0\0\0\0", 4));  // version 0 = Version Negotiation
  // CIDs are echoed swapped: DCID = our SCID (8 x 0x5c), SCID = client DCID.
  ASSERT_EQ((*r)[5], 8);
  EXPECT_EQ((*r)[6], 0x5c);
  size_t off = 6 + 8;
  ASSERT_EQ((*r)[off], 8);
  off += 1 + 8;
  bool has_v1 = false;
  for (; off + 4 <= r->size(); off += 4) {
    uint32_t v = (uint32_t{(*r)[off]} << 24) | ((*r)[off + 1] << 16) | ((*r)[off + 2] << 8) |
                 (*r)[off + 3];
    if (v == NGTCP2_PROTO_VER_V1) has_v1 = true;
  }
  EXPECT_TRUE(has_v1);
  EXPECT_EQ(ep_->stats().version_negotiations_sent, 1u);
}

TEST_F(EndpointTest, SmallDatagramWithUnknownVersionIsIgnored) {
  start(Options{});
  send(initial(0x1a2a3a4a, std::vector<uint8_t>(8, 1), {}, 600));
  EXPECT_FALSE(receive(100).has_value());
  EXPECT_EQ(ep_->stats().version_negotiations_sent, 0u);
}

TEST_F(EndpointTest, RetryModeAlwaysAnswersTokenlessInitialWithRetry) {
  Options o;
  o.retry = RetryMode::kAlways;
  start(o);
  send(initial(NGTCP2_PROTO_VER_V1, std::vector<uint8_t>(8, 0xd2), {}));
  auto r = receive();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)[0] & 0xf0, 0xf0);  // long header, type Retry (v1)
  EXPECT_EQ(ep_->stats().retries_sent, 1u);
  EXPECT_EQ(ep_->connection_count(), 0u);  // stateless
  // The Retry's SCID names this worker, so the retried Initial routes back here.
  ASSERT_EQ((*r)[5], 8);  // DCID = client SCID
  size_t scid_len = (*r)[6 + 8];
  ASSERT_EQ(scid_len, kCidLength);
  EXPECT_EQ(shared_->cid_codec().worker_of({r->data() + 6 + 8 + 1, scid_len}), 0);
}

TEST_F(EndpointTest, ForgedRetryTokenGetsInvalidTokenClose) {
  start(Options{});
  std::vector<uint8_t> token(60, 0x42);
  token[0] = NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY;
  send(initial(NGTCP2_PROTO_VER_V1, std::vector<uint8_t>(18, 0xd3), token));
  auto r = receive();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)[0] & 0xf0, 0xc0);  // an Initial (carrying CONNECTION_CLOSE), no connection
  EXPECT_EQ(ep_->connection_count(), 0u);
  EXPECT_EQ(ep_->stats().invalid_tokens, 1u);
}

TEST_F(EndpointTest, OverTheConnectionLimitNewConnectionsAreRefused) {
  Options o;
  o.max_connections = 0;
  start(o);
  send(initial(NGTCP2_PROTO_VER_V1, std::vector<uint8_t>(8, 0xd4), {}));
  auto r = receive();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)[0] & 0xf0, 0xc0);
  EXPECT_EQ(ep_->stats().connections_refused, 1u);
  EXPECT_EQ(ep_->connection_count(), 0u);
}

TEST_F(EndpointTest, ShortHeaderForUnknownCidGetsAStatelessReset) {
  start(Options{});
  ngtcp2_cid cid = shared_->cid_codec().make(0);
  send(short_packet(cid, 100));
  auto r = receive();
  ASSERT_TRUE(r.has_value());
  EXPECT_LT(r->size(), 100u);  // smaller than the trigger: no reset loops
  EXPECT_GE(r->size(), 22u);
  EXPECT_EQ((*r)[0] & 0xc0, 0x40);  // looks like a short-header packet
  uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN];
  ASSERT_EQ(0, ngtcp2_crypto_generate_stateless_reset_token(
                   token, shared_->static_secret.data(), shared_->static_secret.size(), &cid));
  EXPECT_EQ(0, memcmp(r->data() + r->size() - sizeof(token), token, sizeof(token)));
  EXPECT_EQ(ep_->stats().stateless_resets_sent, 1u);
}

TEST_F(EndpointTest, TinyPacketsNeverTriggerAReset) {
  start(Options{});
  ngtcp2_cid cid = shared_->cid_codec().make(0);
  send(short_packet(cid, 40));
  EXPECT_FALSE(receive(100).has_value());
  EXPECT_EQ(ep_->stats().stateless_resets_sent, 0u);
}

TEST_F(EndpointTest, StatelessResetsAreRateLimited) {
  Options o;
  o.stateless_resets_per_second = 3;
  start(o);
  for (int i = 0; i < 10; ++i) {
    send(short_packet(shared_->cid_codec().make(0), 80));
  }
  int got = 0;
  while (receive(100)) ++got;
  EXPECT_EQ(got, 3);
  EXPECT_EQ(ep_->stats().stateless_resets_sent, 3u);
}

TEST_F(EndpointTest, PacketForAnotherWorkersCidIsForwardedToIt) {
  start(Options{}, /*workers=*/4, /*worker_id=*/1);
  std::vector<std::pair<int, Datagram>> forwarded;
  ep_->set_forwarder([&](int target, Datagram d) { forwarded.emplace_back(target, std::move(d)); });
  ngtcp2_cid cid = shared_->cid_codec().make(3);
  auto pkt = short_packet(cid, 90);
  send(pkt);
  EXPECT_FALSE(receive(100).has_value());  // no reset: the owner will handle it
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(forwarded[0].first, 3);
  EXPECT_EQ(forwarded[0].second.data, pkt);
  EXPECT_EQ(forwarded[0].second.socket_index, 0u);
  EXPECT_EQ(forwarded[0].second.local.port(), server_.port());
  EXPECT_EQ(ep_->stats().datagrams_forwarded, 1u);

  // Delivered back to its owner, an unknown CID gets a reset from there.
  ep_->deliver(std::move(forwarded[0].second));
  auto r = receive();
  ASSERT_TRUE(r.has_value());
  EXPECT_LT(r->size(), 90u);
}

TEST_F(EndpointTest, InitialsAreNeverForwardedEvenIfTheCidLooksLikeAnotherWorkers) {
  Options o;
  o.retry = RetryMode::kAlways;  // answered statelessly by the receiving worker
  start(o, 4, 0);
  int forwards = 0;
  ep_->set_forwarder([&](int, Datagram) { ++forwards; });
  ngtcp2_cid cid = shared_->cid_codec().make(2);
  send(initial(NGTCP2_PROTO_VER_V1, std::vector<uint8_t>(cid.data, cid.data + cid.datalen), {}));
  ASSERT_TRUE(receive().has_value());
  EXPECT_EQ(forwards, 0);
}

TEST_F(EndpointTest, CidsOfWorkersBeyondTheCountAreReset) {
  start(Options{}, 2, 0);
  int forwards = 0;
  ep_->set_forwarder([&](int, Datagram) { ++forwards; });
  send(short_packet(shared_->cid_codec().make(7), 90));  // worker 7 does not exist
  EXPECT_TRUE(receive().has_value());
  EXPECT_EQ(forwards, 0);
}

}  // namespace
}  // namespace mirror::quic
