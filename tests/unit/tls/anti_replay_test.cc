#include "tls/anti_replay.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "test_peer.h"
#include "tls/credentials.h"
#include "tls/ticket_key.h"

namespace mirror::tls {
namespace {

using testing::bytes;
using testing::TempDir;
using testing::TestClient;

struct FakeClock {
  std::shared_ptr<std::atomic<time_t>> now = std::make_shared<std::atomic<time_t>>(1'000'000);
  AntiReplay::Clock fn() const {
    return [n = now] { return n->load(); };
  }
};

TEST(AntiReplay, SecondAddWithinTheWindowIsRefusedAndAcceptedAfterExpiry) {
  FakeClock clock;
  auto ar = AntiReplay::create(std::chrono::seconds(10), clock.fn());
  ASSERT_TRUE(ar.ok()) << ar.error().message;
  time_t t0 = clock.now->load();

  EXPECT_EQ((*ar)->add(t0 + 10, "binder-1"), 0);
  EXPECT_EQ((*ar)->add(t0 + 10, "binder-1"), GNUTLS_E_DB_ENTRY_EXISTS);
  EXPECT_EQ((*ar)->add(t0 + 10, "binder-2"), 0) << "a different ClientHello is fine";

  *clock.now = t0 + 10;  // the last second of the entry's life
  EXPECT_EQ((*ar)->add(t0 + 20, "binder-1"), GNUTLS_E_DB_ENTRY_EXISTS);
  *clock.now = t0 + 11;  // expired
  EXPECT_EQ((*ar)->add(t0 + 21, "binder-1"), 0);
  EXPECT_EQ((*ar)->add(t0 + 21, "binder-1"), GNUTLS_E_DB_ENTRY_EXISTS);
}

TEST(AntiReplay, PrunesExpiredEntries) {
  FakeClock clock;
  auto ar = AntiReplay::create(std::chrono::seconds(10), clock.fn());
  ASSERT_TRUE(ar.ok());
  time_t t0 = clock.now->load();
  for (int i = 0; i < 100; ++i) ASSERT_EQ((*ar)->add(t0 + 10, "k" + std::to_string(i)), 0);
  EXPECT_EQ((*ar)->size(), 100u);
  *clock.now = t0 + 30;
  EXPECT_EQ((*ar)->add(t0 + 40, "fresh"), 0);
  EXPECT_EQ((*ar)->size(), 1u);
}

TEST(AntiReplay, ConcurrentAddsOfOneKeyAdmitExactlyOne) {
  auto ar = AntiReplay::create();
  ASSERT_TRUE(ar.ok());
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  time_t expires = time(nullptr) + 10;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if ((*ar)->add(expires, "key-" + std::to_string(i)) == 0) accepted.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(accepted.load(), 200);
}

TEST(AntiReplay, EachThreadGetsItsOwnGnutlsHandle) {
  auto ar = AntiReplay::create(std::chrono::milliseconds(2500));
  ASSERT_TRUE(ar.ok());
  EXPECT_EQ((*ar)->window(), std::chrono::milliseconds(2500));
  gnutls_anti_replay_t here = (*ar)->get();
  ASSERT_NE(here, nullptr);
  EXPECT_EQ((*ar)->get(), here);
  gnutls_anti_replay_t there = std::async(std::launch::async, [&] { return (*ar)->get(); }).get();
  EXPECT_NE(there, nullptr);
  EXPECT_NE(there, here);

  auto other = AntiReplay::create();
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)->get(), here) << "instances never share handles";
}

TEST(AntiReplay, RejectsNonPositiveWindow) {
  EXPECT_FALSE(AntiReplay::create(std::chrono::milliseconds(0)).ok());
}

// End to end with GnuTLS: a resumed TLS 1.3 ClientHello carrying 0-RTT data is accepted once; the
// same bytes replayed (to another session, on another thread) get their early data refused.
class ZeroRttReplay : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Credentials::load({.state_dir = dir_.path()});
    ASSERT_TRUE(c.ok()) << c.error().message;
    creds_ = *c;
    auto k = TicketKeys::generate();
    ASSERT_TRUE(k.ok());
    keys_ = *k;
  }

  // A raw GnuTLS server session set up the way a 0-RTT capable server (e.g. QUIC) would.
  struct RawServer {
    gnutls_session_t s = nullptr;
    std::string in, out;
    size_t pos = 0;
    ~RawServer() { gnutls_deinit(s); }
  };

  std::unique_ptr<RawServer> make_server(const AntiReplay& ar) {
    auto srv = std::make_unique<RawServer>();
    EXPECT_EQ(gnutls_init(&srv->s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_ENABLE_EARLY_DATA), 0);
    gnutls_priority_set_direct(srv->s, "NORMAL:-VERS-ALL:+VERS-TLS1.3", nullptr);
    gnutls_credentials_set(srv->s, GNUTLS_CRD_CERTIFICATE, creds_->get());
    EXPECT_TRUE(keys_->enable(srv->s).ok());
    gnutls_record_set_max_early_data_size(srv->s, 16384);
    ar.enable(srv->s);
    gnutls_transport_set_ptr(srv->s, srv.get());
    gnutls_transport_set_push_function(srv->s, [](gnutls_transport_ptr_t p, const void* d, size_t n) {
      static_cast<RawServer*>(p)->out.append(static_cast<const char*>(d), n);
      return static_cast<ssize_t>(n);
    });
    gnutls_transport_set_pull_function(srv->s, [](gnutls_transport_ptr_t p, void* d, size_t n) {
      auto* r = static_cast<RawServer*>(p);
      if (r->pos == r->in.size()) {
        gnutls_transport_set_errno(r->s, EAGAIN);
        return ssize_t{-1};
      }
      n = std::min(n, r->in.size() - r->pos);
      memcpy(d, r->in.data() + r->pos, n);
      r->pos += n;
      return static_cast<ssize_t>(n);
    });
    gnutls_transport_set_pull_timeout_function(srv->s, [](gnutls_transport_ptr_t p, unsigned) {
      auto* r = static_cast<RawServer*>(p);
      if (r->pos < r->in.size()) return 1;
      gnutls_transport_set_errno(r->s, EAGAIN);
      return -1;
    });
    return srv;
  }

  static int server_step(RawServer& srv) {
    int rc;
    do {
      rc = gnutls_handshake(srv.s);
    } while (rc < 0 && rc != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(rc));
    return rc;
  }

  // Full handshake with a fresh client; returns resumption data carrying a 0-RTT-capable ticket.
  std::string get_ticket(const AntiReplay& ar) {
    auto srv = make_server(ar);
    TestClient c({.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3"});
    for (int i = 0; i < 10 && !c.done(); ++i) {
      c.handshake();
      srv->in += c.out;
      c.out.clear();
      server_step(*srv);
      c.in += srv->out;
      srv->out.clear();
    }
    EXPECT_TRUE(c.done());
    std::string ignored;
    c.read_all(ignored);  // NewSessionTicket
    return c.session_data();
  }

  // The first flight of a resuming client that sends early data.
  std::string early_flight(const std::string& ticket) {
    TestClient c({.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3", .session_data = ticket});
    const char early[] = "GET /idempotent";
    EXPECT_GE(gnutls_record_send_early_data(c.native(), early, sizeof early - 1), 0);
    EXPECT_EQ(c.handshake(), GNUTLS_E_AGAIN);
    return c.out;
  }

  // Feeds a client flight to a new server session; true if the server accepted its early data.
  bool accepts_early_data(const AntiReplay& ar, const std::string& flight) {
    auto srv = make_server(ar);
    srv->in = flight;
    int rc = server_step(*srv);
    EXPECT_EQ(rc, GNUTLS_E_AGAIN) << gnutls_strerror(rc);
    return (gnutls_session_get_flags(srv->s) & GNUTLS_SFLAGS_EARLY_DATA) != 0;
  }

  TempDir dir_;
  std::shared_ptr<Credentials> creds_;
  std::shared_ptr<TicketKeys> keys_;
};

TEST_F(ZeroRttReplay, ReplayedClientHelloLosesItsEarlyData) {
  auto shared = AntiReplay::create();
  auto fresh = AntiReplay::create();
  ASSERT_TRUE(shared.ok() && fresh.ok());
  // A worker thread that will receive the replay; its handle exists before the ticket is issued,
  // as it would in a running server.
  std::promise<void> worker_ready;
  std::promise<std::string> flight_ready;
  auto worker = std::async(std::launch::async, [&] {
    (*shared)->get();
    worker_ready.set_value();
    return accepts_early_data(**shared, flight_ready.get_future().get());
  });
  worker_ready.get_future().wait();
  (*fresh)->get();

  std::string ticket = get_ticket(**shared);
  ASSERT_FALSE(ticket.empty());
  std::string flight = early_flight(ticket);
  ASSERT_FALSE(flight.empty());

  EXPECT_TRUE(accepts_early_data(**shared, flight)) << "first arrival: 0-RTT accepted";
  EXPECT_EQ((*shared)->size(), 1u);
  flight_ready.set_value(flight);
  EXPECT_FALSE(worker.get()) << "replay on another worker thread: early data refused";
  EXPECT_FALSE(accepts_early_data(**shared, flight)) << "replay on the same thread: refused";
  // An independent store has not seen it, which shows the refusals came from the store.
  EXPECT_TRUE(accepts_early_data(**fresh, flight));
}

}  // namespace
}  // namespace mirror::tls
