#include "tls/stream_session.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_peer.h"
#include "tls/credentials.h"
#include "tls/gnutls_util.h"
#include "tls/ticket_key.h"

namespace mirror::tls {
namespace {

using testing::bytes;
using testing::pump_handshake;
using testing::TempDir;
using testing::TestClient;

class ServerSessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto c = Credentials::load({.state_dir = dir_->path()});
    ASSERT_TRUE(c.ok()) << c.error().message;
    creds_ = new std::shared_ptr<Credentials>(*c);
  }
  static void TearDownTestSuite() {
    delete creds_;
    delete dir_;
  }

  static const Credentials& creds() { return **creds_; }

  static TestClient::Options client_options(std::vector<std::string> alpn = {"h2", "http/1.1"}) {
    return {.alpn = std::move(alpn),
            .trust_file = (*creds_)->cert_path(),
            .verify_name = "localhost"};
  }

  static std::unique_ptr<ServerSession> server(ServerOptions options = {}) {
    auto s = ServerSession::create(creds(), options);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(s.value()) : nullptr;
  }

  // Moves application data from server to client; returns what the client read.
  static std::string to_client(ServerSession& s, TestClient& c) {
    c.in += s.ciphertext_out();
    s.ciphertext_out().clear();
    std::string got;
    c.read_all(got);
    return got;
  }
  static Result<void> to_server(TestClient& c, ServerSession& s) {
    std::string o = std::move(c.out);
    c.out.clear();
    return s.feed(bytes(o));
  }

  static TempDir* dir_;
  static std::shared_ptr<Credentials>* creds_;
};
TempDir* ServerSessionTest::dir_ = nullptr;
std::shared_ptr<Credentials>* ServerSessionTest::creds_ = nullptr;

TEST_F(ServerSessionTest, Tls13WithServerPreferredAlpnAndVerifiedCertificate) {
  auto s = server();
  // The client prefers http/1.1; the server's order (h2 first) wins.
  TestClient c(client_options({"http/1.1", "h2"}));
  auto r = pump_handshake(c, *s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(s->handshake_done());
  EXPECT_EQ(s->version(), "TLS1.3");
  EXPECT_EQ(gnutls_protocol_get_version(c.native()), GNUTLS_TLS1_3);
  EXPECT_EQ(s->alpn(), "h2");
  EXPECT_EQ(c.alpn(), "h2");
  EXPECT_FALSE(s->resumed());
}

TEST_F(ServerSessionTest, ClientVerifiesDevCertificateByIpAddress) {
  auto s = server();
  auto opts = client_options();
  opts.verify_name = "127.0.0.1";
  TestClient c(opts);
  auto r = pump_handshake(c, *s);
  ASSERT_TRUE(r.ok()) << r.error().message;
}

TEST_F(ServerSessionTest, ClientRejectsWrongHostName) {
  auto s = server();
  auto opts = client_options();
  opts.verify_name = "example.com";
  TestClient c(opts);
  auto r = pump_handshake(c, *s);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(c.done());
}

TEST_F(ServerSessionTest, Http11OnlyClientGetsHttp11) {
  auto s = server();
  TestClient c(client_options({"http/1.1"}));
  ASSERT_TRUE(pump_handshake(c, *s).ok());
  EXPECT_EQ(s->alpn(), "http/1.1");
}

TEST_F(ServerSessionTest, NoAlpnOfferedLeavesAlpnEmpty) {
  auto s = server();
  TestClient c(client_options({}));
  auto r = pump_handshake(c, *s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(s->handshake_done());
  EXPECT_EQ(s->alpn(), "");
}

TEST_F(ServerSessionTest, AlpnWithNoCommonProtocolFailsTheHandshake) {
  auto s = server();
  TestClient c(client_options({"spdy/3", "imap"}));
  auto r = pump_handshake(c, *s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "tls.handshake");
  EXPECT_NE(r.error().message.find(gnutls_strerror(GNUTLS_E_NO_APPLICATION_PROTOCOL)),
            std::string::npos) << r.error().message;
  EXPECT_FALSE(s->handshake_done());
  // The client got a no_application_protocol alert.
  EXPECT_FALSE(c.done());
  EXPECT_EQ(gnutls_alert_get(c.native()), GNUTLS_A_NO_APPLICATION_PROTOCOL);
  // A failed session refuses further input.
  EXPECT_TRUE(s->failed());
  EXPECT_FALSE(s->feed(bytes("x")).ok());
}

TEST_F(ServerSessionTest, Tls12RefusedWhenMinimumIs13) {
  auto s = server({.min_version = "1.3"});
  auto opts = client_options();
  opts.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2";
  TestClient c(opts);
  auto r = pump_handshake(c, *s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "tls.handshake");
  EXPECT_FALSE(s->handshake_done());
  EXPECT_FALSE(c.done());
}

TEST_F(ServerSessionTest, Tls12AcceptedWhenMinimumIs12) {
  auto s = server({.min_version = "1.2"});
  auto opts = client_options();
  opts.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2";
  TestClient c(opts);
  auto r = pump_handshake(c, *s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(s->version(), "TLS1.2");
  EXPECT_EQ(s->alpn(), "h2");

  ASSERT_TRUE(c.send("ping"));
  ASSERT_TRUE(to_server(c, *s).ok());
  EXPECT_EQ(s->plaintext(), "ping");
  ASSERT_TRUE(s->write(std::string_view("pong")).ok());
  EXPECT_EQ(to_client(*s, c), "pong");
}

TEST_F(ServerSessionTest, Tls13StillPreferredWhenMinimumIs12) {
  auto s = server({.min_version = "1.2"});
  TestClient c(client_options());
  ASSERT_TRUE(pump_handshake(c, *s).ok());
  EXPECT_EQ(s->version(), "TLS1.3");
}

TEST_F(ServerSessionTest, BadMinVersionIsAConfigError) {
  auto s = ServerSession::create(creds(), {.min_version = "1.1"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "tls.config");
}

TEST_F(ServerSessionTest, DataRoundTripsBothWaysIncludingLargeWrites) {
  auto s = server();
  TestClient c(client_options());
  ASSERT_TRUE(pump_handshake(c, *s).ok());
  to_client(*s, c);  // session tickets etc.

  ASSERT_TRUE(c.send("hello"));
  ASSERT_TRUE(to_server(c, *s).ok());
  EXPECT_EQ(s->plaintext(), "hello");
  s->plaintext().clear();

  std::string big(100 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + i / 7) & 0xff);

  // Server -> client: 100 KiB becomes application-data records of at most 16 KiB each.
  ASSERT_TRUE(s->write(bytes(big)).ok());
  const std::string& wire = s->ciphertext_out();
  size_t records = 0;
  for (size_t pos = 0; pos < wire.size(); ++records) {
    ASSERT_LE(pos + 5, wire.size());
    EXPECT_EQ(static_cast<uint8_t>(wire[pos]), 23) << "application_data record";
    size_t len = (static_cast<uint8_t>(wire[pos + 3]) << 8) | static_cast<uint8_t>(wire[pos + 4]);
    EXPECT_LE(len, 16384u + 256u);
    pos += 5 + len;
  }
  EXPECT_EQ(records, (big.size() + 16383) / 16384);
  EXPECT_EQ(to_client(*s, c), big);

  // Client -> server, delivered in uneven slices so records arrive split.
  ASSERT_TRUE(c.send(big));
  std::string wire_in = std::move(c.out);
  c.out.clear();
  for (size_t pos = 0; pos < wire_in.size(); pos += 7777) {
    ASSERT_TRUE(s->feed(bytes(std::string_view(wire_in).substr(pos, 7777))).ok());
  }
  EXPECT_EQ(s->plaintext(), big);
}

TEST_F(ServerSessionTest, HandshakeWorksOneByteAtATime) {
  auto s = server();
  TestClient c(client_options());
  for (int round = 0; round < 10 && !(c.done() && s->handshake_done()); ++round) {
    c.handshake();
    std::string o = std::move(c.out);
    c.out.clear();
    for (char ch : o) ASSERT_TRUE(s->feed(bytes(std::string_view(&ch, 1))).ok());
    c.in += s->ciphertext_out();
    s->ciphertext_out().clear();
  }
  EXPECT_TRUE(c.done());
  EXPECT_TRUE(s->handshake_done());
  EXPECT_EQ(s->alpn(), "h2");
}

TEST_F(ServerSessionTest, DataCoalescedWithClientFinishedIsDecrypted) {
  auto s = server();
  TestClient c(client_options());
  // Run the handshake until the client is done but the server has not seen its Finished yet.
  for (int round = 0; round < 10 && !c.done(); ++round) {
    c.handshake();
    if (c.done()) break;
    ASSERT_TRUE(to_server(c, *s).ok());
    c.in += s->ciphertext_out();
    s->ciphertext_out().clear();
  }
  ASSERT_TRUE(c.done());
  ASSERT_FALSE(s->handshake_done());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(to_server(c, *s).ok());  // Finished + application data in one feed
  EXPECT_TRUE(s->handshake_done());
  EXPECT_EQ(s->plaintext(), "GET / HTTP/1.1\r\n\r\n");
}

TEST_F(ServerSessionTest, Tls12RenegotiationIsDeclinedAndTheConnectionGoesOn) {
  auto s = server({.min_version = "1.2"});
  auto opts = client_options();
  opts.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2";
  TestClient c(opts);
  ASSERT_TRUE(pump_handshake(c, *s).ok());
  ASSERT_EQ(s->version(), "TLS1.2");

  // The client asks to renegotiate; the server declines with a warning alert.
  ASSERT_EQ(gnutls_handshake(c.native()), GNUTLS_E_AGAIN);
  auto fed = to_server(c, *s);
  ASSERT_TRUE(fed.ok()) << fed.error().message;
  EXPECT_FALSE(s->failed());
  c.in += s->ciphertext_out();
  s->ciphertext_out().clear();
  int rc = gnutls_handshake(c.native());
  EXPECT_EQ(rc, GNUTLS_E_WARNING_ALERT_RECEIVED) << gnutls_strerror(rc);
  EXPECT_EQ(gnutls_alert_get(c.native()), GNUTLS_A_NO_RENEGOTIATION);

  ASSERT_TRUE(s->write(std::string_view("still here")).ok());
  EXPECT_EQ(to_client(*s, c), "still here");
  ASSERT_TRUE(c.send("me too"));
  auto more = to_server(c, *s);
  ASSERT_TRUE(more.ok()) << more.error().message;
  EXPECT_EQ(s->plaintext(), "me too");
}

TEST_F(ServerSessionTest, WriteBeforeHandshakeIsAnError) {
  auto s = server();
  auto r = s->write(std::string_view("too early"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "tls.state");
}

TEST_F(ServerSessionTest, GarbageFailsTheHandshakeWithAnAlert) {
  auto s = server();
  std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  auto r = s->feed(bytes(junk));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "tls.handshake");
  ASSERT_GE(s->ciphertext_out().size(), 7u);
  EXPECT_EQ(static_cast<uint8_t>(s->ciphertext_out()[0]), 21) << "an alert record";
}

TEST_F(ServerSessionTest, CloseNotifyBothWays) {
  auto s = server();
  TestClient c(client_options());
  ASSERT_TRUE(pump_handshake(c, *s).ok());
  to_client(*s, c);

  s->shutdown();
  s->shutdown();  // idempotent
  c.in += s->ciphertext_out();
  s->ciphertext_out().clear();
  std::string got;
  EXPECT_EQ(c.read_all(got), 0) << "client sees close_notify";
  EXPECT_FALSE(s->write(std::string_view("after")).ok());

  EXPECT_FALSE(s->peer_closed());
  ASSERT_TRUE(c.send("last words"));
  ASSERT_EQ(gnutls_bye(c.native(), GNUTLS_SHUT_WR), 0);
  ASSERT_TRUE(to_server(c, *s).ok());
  EXPECT_EQ(s->plaintext(), "last words");
  EXPECT_TRUE(s->peer_closed());
}

// Completes a handshake, reads the ticket, and returns the client's resumption data.
std::string first_connection(ServerSession& s, TestClient& c) {
  EXPECT_TRUE(pump_handshake(c, s).ok());
  c.in += s.ciphertext_out();  // NewSessionTicket
  s.ciphertext_out().clear();
  std::string ignored;
  c.read_all(ignored);
  return c.session_data();
}

TEST_F(ServerSessionTest, ResumesWithTicketsFromTheSameKey) {
  auto keys = TicketKeys::generate();
  ASSERT_TRUE(keys.ok());
  auto s1 = server({.ticket_keys = keys->get()});
  TestClient c1(client_options());
  std::string ticket = first_connection(*s1, c1);
  ASSERT_FALSE(ticket.empty());
  EXPECT_FALSE(s1->resumed());

  // Another "worker" with the same key resumes.
  auto s2 = server({.ticket_keys = keys->get()});
  auto opts = client_options();
  opts.session_data = ticket;
  TestClient c2(opts);
  ASSERT_TRUE(pump_handshake(c2, *s2).ok());
  EXPECT_TRUE(s2->resumed());
  EXPECT_TRUE(gnutls_session_is_resumed(c2.native()));
  EXPECT_EQ(s2->alpn(), "h2");

  // A server with a different key does a full handshake instead.
  auto other = TicketKeys::generate();
  ASSERT_TRUE(other.ok());
  auto s3 = server({.ticket_keys = other->get()});
  TestClient c3(opts);
  ASSERT_TRUE(pump_handshake(c3, *s3).ok());
  EXPECT_FALSE(s3->resumed());
}

TEST_F(ServerSessionTest, TicketKeyFileIsSharedAcrossInstances) {
  TempDir tmp;
  std::string raw(64, '\0');
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<char>(i * 7 + 3);
  {
    std::ofstream(tmp.file("ticket.b64")) << base64(bytes(raw)) << "\n";
  }
  auto host_a = TicketKeys::load_file(tmp.file("ticket.b64"));
  auto host_b = TicketKeys::load_file(tmp.file("ticket.b64"));
  ASSERT_TRUE(host_a.ok()) << host_a.error().message;
  ASSERT_TRUE(host_b.ok());
  ASSERT_EQ((*host_a)->key()->size, 64u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>((*host_a)->key()->data), 64), raw);

  auto s1 = server({.ticket_keys = host_a->get()});
  TestClient c1(client_options());
  std::string ticket = first_connection(*s1, c1);
  auto s2 = server({.ticket_keys = host_b->get()});
  auto opts = client_options();
  opts.session_data = ticket;
  TestClient c2(opts);
  ASSERT_TRUE(pump_handshake(c2, *s2).ok());
  EXPECT_TRUE(s2->resumed());
}

}  // namespace
}  // namespace mirror::tls
