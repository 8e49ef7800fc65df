// End to end over loopback with Debian's HTTP/3 client (gtlsclient, ngtcp2 0.12.1 examples).
// Skipped when /usr/bin/gtlsclient is missing. gtlsclient exits 0 even when a request fails, so
// every test checks the bytes it downloaded.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_server.h"

namespace mirror::testing {
namespace {

namespace fs = std::filesystem;
constexpr char kClient[] = "/usr/bin/gtlsclient";

std::string pattern(size_t n) {
  std::string s(n, 'x');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class H3EndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kClient, X_OK) != 0) GTEST_SKIP() << "gtlsclient not installed";
    char tmpl[] = "/tmp/mirror-h3-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "dl");
  }
  void TearDown() override {
    server_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void start(int workers, quic::Options o = {}) {
    o.port = 0;
    server_ = std::make_unique<TestServer>();
    ASSERT_EQ(server_->start(workers, o, (dir_ / "state").string()), "");
    port_ = std::to_string(server_->options.port);
  }
  std::string url(const std::string& path) const { return "https://127.0.0.1:" + port_ + path; }
  // Runs gtlsclient with extra options against `paths`; downloads land in dir_/dl.
  void fetch(const std::string& opts, const std::vector<std::string>& paths) {
    fs::remove_all(dir_ / "dl");
    fs::create_directories(dir_ / "dl");
    std::string cmd = std::string("timeout 20 ") + kClient + " -q --exit-on-all-streams-close " +
                      opts + " --download " + (dir_ / "dl").string() + " 127.0.0.1 " + port_;
    for (const auto& p : paths) cmd += " " + url(p);
    cmd += " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  std::string downloaded(const std::string& name) { return slurp(dir_ / "dl" / name); }

  fs::path dir_;
  std::string port_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(H3EndToEnd, GetPostHeadAndBodies) {
  start(2);
  fetch("", {"/hello", "/big/300000", "/slow/50000", "/trailers", "/file/2500000"});
  EXPECT_EQ(downloaded("hello"), "hello from HTTP/3\n");
  EXPECT_EQ(downloaded("2500000"), pattern(2500000));
  EXPECT_EQ(downloaded("300000"), pattern(300000));
  EXPECT_EQ(downloaded("50000"), pattern(50000));
  EXPECT_EQ(downloaded("trailers"), "body");

  std::ofstream(dir_ / "post.txt") << "payload-123";
  fetch("-m POST -d " + (dir_ / "post.txt").string(), {"/echo"});
  EXPECT_EQ(downloaded("echo"), "POST payload-123");

  fetch("-m HEAD", {"/big/5000"});
  EXPECT_EQ(downloaded("5000"), "");  // HEAD: no body
  EXPECT_EQ(server_->handled(), 7);
}

TEST_F(H3EndToEnd, ManyRequestsBeyondTheStreamLimitReuseCredit) {
  quic::Options o;
  o.max_incoming_streams = 4;
  start(1, o);
  fetch("-n 60", {"/hello"});
  EXPECT_EQ(downloaded("hello"), "hello from HTTP/3\n");
  EXPECT_EQ(server_->handled(), 60);
}

TEST_F(H3EndToEnd, BodyOverTheLimitGets413WithoutTheHandler) {
  quic::Options o;
  o.max_body_size = 1000;
  start(1, o);
  std::ofstream(dir_ / "big.txt") << std::string(5000, 'z');
  fetch("-m POST -d " + (dir_ / "big.txt").string(), {"/echo"});
  EXPECT_EQ(downloaded("echo"),
            R"({"error":{"type":"VALIDATION_ERROR","message":"request body too large"}})");
  EXPECT_EQ(server_->handled(), 0);
}

TEST_F(H3EndToEnd, ZeroRttServesSafeRequestsAndRefusesUnsafeOnesWith425) {
  start(2);
  usleep(1100 * 1000);  // past the anti-replay window that follows a (re)start
  std::string resume = "--session-file=" + (dir_ / "sess").string() +
                       " --tp-file=" + (dir_ / "tp").string();
  // gtlsclient saves the session when a NewSessionTicket arrives but exits as soon as its
  // streams close; a 0-RTT response can beat the ticket (sent after the handshake), so keep the
  // client busy a little longer with a slow body.
  fetch(resume, {"/peer", "/slow/100000"});
  EXPECT_NE(downloaded("peer").find(" late"), std::string::npos);
  fetch(resume, {"/peer", "/slow/100000"});
  EXPECT_NE(downloaded("peer").find(" early"), std::string::npos) << downloaded("peer");

  std::ofstream(dir_ / "post.txt") << "x";
  fetch(resume + " -m POST -d " + (dir_ / "post.txt").string(), {"/echo"});
  EXPECT_NE(downloaded("echo").find("TOO_EARLY"), std::string::npos) << downloaded("echo");
  auto st = server_->total_stats();
  EXPECT_GE(st.connections_0rtt, 2u);
  EXPECT_GE(st.requests_0rtt, 1u);
  EXPECT_EQ(st.early_requests_refused, 1u);
}

TEST_F(H3EndToEnd, ZeroRttCanBeDisabled) {
  quic::Options o;
  o.enable_0rtt = false;
  start(1, o);
  std::string resume = "--session-file=" + (dir_ / "sess").string() +
                       " --tp-file=" + (dir_ / "tp").string();
  fetch(resume, {"/peer", "/slow/100000"});
  fetch(resume, {"/peer"});
  EXPECT_NE(downloaded("peer").find(" late"), std::string::npos) << downloaded("peer");
  EXPECT_EQ(server_->total_stats().connections_0rtt, 0u);
}

TEST_F(H3EndToEnd, RetryAlwaysStillServes) {
  quic::Options o;
  o.retry = quic::RetryMode::kAlways;
  start(2, o);
  fetch("", {"/hello"});
  EXPECT_EQ(downloaded("hello"), "hello from HTTP/3\n");
  EXPECT_GE(server_->total_stats().retries_sent, 1u);
}

TEST_F(H3EndToEnd, MigrationToAPortOwnedByAnotherWorkerIsForwarded) {
  start(4);
  // SO_REUSEPORT picks the worker by 4-tuple: after the client moves, its datagrams land on
  // another worker 3 times in 4; retry a few times to see forwarding at least once.
  for (int i = 0; i < 8 && server_->total_stats().datagrams_forwarded == 0; ++i) {
    fetch("--change-local-addr=50ms --delay-stream=100ms", {"/big/200000"});
    ASSERT_EQ(downloaded("200000"), pattern(200000));
  }
  auto st = server_->total_stats();
  EXPECT_GT(st.datagrams_forwarded, 0u);
  EXPECT_GE(st.path_migrations, 1u);
}

TEST_F(H3EndToEnd, NatRebindingKeyUpdateAndLoss) {
  start(2);
  fetch("--change-local-addr=50ms --nat-rebinding --delay-stream=100ms", {"/big/100000"});
  EXPECT_EQ(downloaded("100000"), pattern(100000));
  fetch("--key-update=20ms --delay-stream=60ms", {"/big/100000"});
  EXPECT_EQ(downloaded("100000"), pattern(100000));
  fetch("-t 0.1 -r 0.1", {"/big/100000"});
  EXPECT_EQ(downloaded("100000"), pattern(100000));
}

TEST_F(H3EndToEnd, GracefulShutdownFinishesInFlightRequests) {
  start(1);
  std::thread client([this] { fetch("", {"/slow/1000000"}); });
  usleep(150 * 1000);
  server_->stop();  // GOAWAY, waits for the connection to finish
  client.join();
  EXPECT_EQ(downloaded("1000000"), pattern(1000000));
}

}  // namespace
}  // namespace mirror::testing
