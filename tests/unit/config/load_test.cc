#include "config/load.h"

#include <set>

#include "config/keys.h"
#include "test_util.h"

namespace mirror::config {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::load_yaml;
using testing::TempDir;

Config load_ok(const LoadOptions& options) {
  auto cfg = load(options);
  EXPECT_TRUE(cfg.ok()) << cfg.error().message;
  return cfg.ok() ? std::move(cfg).value() : Config{};
}

TEST(Defaults, MatchTheDocumentedValues) {
  Config c = load_ok({});
  EXPECT_EQ(c.server.http3_port, 8443);
  EXPECT_EQ(c.server.http_port, 8443);
  EXPECT_TRUE(c.server.enable_http);
  EXPECT_TRUE(c.server.enable_http2);
  EXPECT_TRUE(c.server.enable_http3);
  EXPECT_THAT(c.server.listen_addresses, ElementsAre("0.0.0.0", "::"));
  EXPECT_EQ(c.server.plain_port, 0);
  EXPECT_EQ(c.server.tls_cert_file, "");
  EXPECT_EQ(c.server.tls_min_version, TlsVersion::k1_3);
  EXPECT_EQ(c.server.read_timeout, 30s);
  EXPECT_EQ(c.server.write_timeout, 30s);
  EXPECT_EQ(c.server.idle_timeout, 60s);
  EXPECT_EQ(c.server.header_timeout, 10s);
  EXPECT_EQ(c.server.shutdown_timeout, 10s);
  EXPECT_EQ(c.server.max_incoming_streams, 5000u);
  EXPECT_EQ(c.server.max_incoming_uni_streams, 1000u);
  EXPECT_EQ(c.server.max_idle_timeout, 30s);
  EXPECT_EQ(c.server.handshake_idle_timeout, 5s);
  EXPECT_EQ(c.server.keep_alive_period, 0s);
  EXPECT_EQ(c.server.max_stream_receive_window, 6u << 20);
  EXPECT_EQ(c.server.max_connection_receive_window, 15u << 20);
  EXPECT_TRUE(c.server.enable_datagrams);
  EXPECT_TRUE(c.server.enable_0rtt);
  EXPECT_EQ(c.server.congestion_control, CongestionControl::kCubic);
  EXPECT_EQ(c.server.retry, RetryMode::kAuto);
  EXPECT_EQ(c.server.retry_threshold, 100u);
  EXPECT_EQ(c.server.alt_svc_max_age, 86400u);
  EXPECT_EQ(c.server.workers, 0u);
  EXPECT_EQ(c.server.max_connections_per_worker, 10000u);
  EXPECT_EQ(c.server.max_handshakes_per_worker, 1000u);
  EXPECT_FALSE(c.server.debug_endpoints);
  EXPECT_EQ(c.server.api_key, "");
  EXPECT_EQ(c.server.static_dir, "./static");
  EXPECT_EQ(c.server.limits.max_request_line, 8u * 1024);
  EXPECT_EQ(c.server.limits.max_header_count, 100u);
  EXPECT_EQ(c.server.limits.max_header_bytes, 64u * 1024);
  EXPECT_EQ(c.server.limits.max_body_size, 10u << 20);
  EXPECT_EQ(c.server.limits.h2_max_concurrent_streams, 100u);
  EXPECT_EQ(c.logging.level, "info");
  EXPECT_EQ(c.logging.format, log::Format::kText);
  EXPECT_EQ(c.logging.output, "stderr");
  EXPECT_FALSE(c.redis.enabled);
  EXPECT_THAT(c.redis.addresses, ElementsAre("localhost:6379"));
  EXPECT_EQ(c.redis.pool_size, 100);
  EXPECT_TRUE(c.metrics.enabled);
  EXPECT_EQ(c.metrics.path, "/metrics");
  EXPECT_EQ(c.metrics.port, 0);
  EXPECT_EQ(c.source_file, "");
  EXPECT_TRUE(c.notes.empty());
}

TEST(StateDir, FollowsXdgThenHomeThenTmp) {
  EXPECT_EQ(load_ok({.env = {{"XDG_STATE_HOME", "/xdg"}, {"HOME", "/home/u"}}}).server.state_dir,
            "/xdg/mirror");
  EXPECT_EQ(load_ok({.env = {{"HOME", "/home/u"}}}).server.state_dir,
            "/home/u/.local/state/mirror");
  EXPECT_EQ(load_ok({.env = {{"XDG_STATE_HOME", "relative"}, {"HOME", "/h"}}}).server.state_dir,
            "/h/.local/state/mirror");  // XDG says to ignore relative values
  EXPECT_EQ(load_ok({}).server.state_dir, "/tmp/mirror-state-" + std::to_string(getuid()));
  EXPECT_EQ(load_ok({.overrides = {"server.state_dir=/var/lib/mirror"}}).server.state_dir,
            "/var/lib/mirror");
}

TEST(Yaml, OverridesDefaultsAndKeepsTheRest) {
  TempDir dir;
  auto cfg = load_yaml(dir, R"(
server:
  http_port: 9443
  enable_http2: no
  listen_addresses: ["127.0.0.1", "::1"]
  read_timeout: 1m30s
  max_stream_receive_window: 1MiB
  congestion_control: BBR
  retry: always
  tls_min_version: "1.2"
  limits:
    max_body_size: 1048576
    max_header_count: 50
logging:
  level: warning
  format: json
redis:
  enabled: true
  addresses:
    - "10.0.0.1:6379"
    - "[::1]:6380"
metrics:
)");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->server.http_port, 9443);
  EXPECT_EQ(cfg->server.http3_port, 8443);  // untouched
  EXPECT_FALSE(cfg->server.enable_http2);
  EXPECT_THAT(cfg->server.listen_addresses, ElementsAre("127.0.0.1", "::1"));
  EXPECT_EQ(cfg->server.read_timeout, 90s);
  EXPECT_EQ(cfg->server.write_timeout, 30s);  // untouched
  EXPECT_EQ(cfg->server.max_stream_receive_window, 1u << 20);
  EXPECT_EQ(cfg->server.congestion_control, CongestionControl::kBbr);
  EXPECT_EQ(cfg->server.retry, RetryMode::kAlways);
  EXPECT_EQ(cfg->server.tls_min_version, TlsVersion::k1_2);
  EXPECT_EQ(cfg->server.limits.max_body_size, 1u << 20);
  EXPECT_EQ(cfg->server.limits.max_header_count, 50u);
  EXPECT_EQ(cfg->server.limits.max_request_line, 8u * 1024);  // untouched
  EXPECT_EQ(cfg->logging.level, "warn");  // normalised
  EXPECT_EQ(cfg->logging.format, log::Format::kJson);
  EXPECT_TRUE(cfg->redis.enabled);
  EXPECT_THAT(cfg->redis.addresses, ElementsAre("10.0.0.1:6379", "[::1]:6380"));
  EXPECT_TRUE(cfg->metrics.enabled);
  EXPECT_EQ(cfg->source_file, (dir.path() / "mirror.yaml").string());
}

TEST(Yaml, EmptyFileAndNullStringsMeanDefaults) {
  TempDir dir;
  auto empty = load_yaml(dir, "# nothing here\n");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(dump_yaml(*empty), dump_yaml(load_ok({})));

  auto nulls = load_yaml(dir, "server:\n  tls_cert_file:\n  tls_key_file: ~\n  api_key: \"\"\n");
  ASSERT_TRUE(nulls.ok()) << nulls.error().message;
  EXPECT_EQ(nulls->server.tls_cert_file, "");
}

TEST(Yaml, IngestionSectionIsIgnoredWithANote) {
  TempDir dir;
  auto cfg = load_yaml(dir, "ingestion:\n  srt:\n    enabled: true\n    latency: 120ms\n");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_EQ(cfg->notes.size(), 1u);
  EXPECT_THAT(cfg->notes[0], HasSubstr("ingestion"));
}

TEST(Environment, OverridesTheFile) {
  TempDir dir;
  std::string file = dir.write("m.yaml", "server:\n  http_port: 9000\n  max_idle_timeout: 10s\n");
  Config c = load_ok({.file = file,
                      .env = {{"MIRROR_SERVER_HTTP_PORT", "9443"},
                              {"MIRROR_SERVER_MAX_IDLE_TIMEOUT", "45s"},
                              {"MIRROR_SERVER_LIMITS_MAX_BODY_SIZE", "2MiB"},
                              {"MIRROR_SERVER_API_KEY", "sekrit"},  // the original ignored this
                              {"MIRROR_SERVER_LISTEN_ADDRESSES", "127.0.0.1, ::1"},
                              {"MIRROR_REDIS_ADDRESSES", "a:1,b:2"},
                              {"MIRROR_LOGGING_FORMAT", "json"},
                              {"MIRROR_METRICS_ENABLED", "false"}}});
  EXPECT_EQ(c.server.http_port, 9443);
  EXPECT_EQ(c.server.max_idle_timeout, 45s);
  EXPECT_EQ(c.server.limits.max_body_size, 2u << 20);
  EXPECT_EQ(c.server.api_key, "sekrit");
  EXPECT_THAT(c.server.listen_addresses, ElementsAre("127.0.0.1", "::1"));
  EXPECT_THAT(c.redis.addresses, ElementsAre("a:1", "b:2"));
  EXPECT_EQ(c.logging.format, log::Format::kJson);
  EXPECT_FALSE(c.metrics.enabled);
}

TEST(Environment, UnknownMirrorVariablesAndOthersAreIgnored) {
  Config c = load_ok({.env = {{"MIRROR_BIN", "/usr/bin/mirror"},
                              {"MIRROR_SERVER_HTP_PORT", "1"},
                              {"MIRROR_", ""},
                              {"HTTP_PORT", "1"},
                              {"MIRROR_INGESTION_SRT_PORT", "30000"}}});
  EXPECT_EQ(c.server.http_port, 8443);
}

TEST(Environment, ConvertsFromEnvp) {
  char a[] = "MIRROR_SERVER_WORKERS=3";
  char b[] = "NO_EQUALS_SIGN";
  char c[] = "PATH=/bin:/usr/bin";
  char* envp[] = {a, b, c, nullptr};
  Environment env(envp);
  EXPECT_EQ(env.vars.at("MIRROR_SERVER_WORKERS"), "3");
  EXPECT_EQ(env.vars.at("PATH"), "/bin:/usr/bin");
  EXPECT_EQ(env.vars.count("NO_EQUALS_SIGN"), 0u);
  EXPECT_EQ(load_ok({.env = envp}).server.workers, 3u);
  EXPECT_TRUE(Environment(nullptr).vars.empty());
}

TEST(Overrides, BeatEnvironmentWhichBeatsFile) {
  TempDir dir;
  std::string file = dir.write("m.yaml", R"(
server:
  http_port: 1001
  http3_port: 1002
  plain_port: 1003
  workers: 4
)");
  Config c = load_ok({.file = file,
                      .env = {{"MIRROR_SERVER_HTTP3_PORT", "2002"},
                              {"MIRROR_SERVER_PLAIN_PORT", "2003"}},
                      .overrides = {"server.plain_port=3003", "server.retry=never",
                                    "server.listen_addresses=::1",
                                    "server.limits.max_resets_per_second=0"}});
  EXPECT_EQ(c.server.http_port, 1001);   // file
  EXPECT_EQ(c.server.http3_port, 2002);  // env beats file
  EXPECT_EQ(c.server.plain_port, 3003);  // override beats env
  EXPECT_EQ(c.server.workers, 4u);
  EXPECT_EQ(c.server.retry, RetryMode::kNever);
  EXPECT_THAT(c.server.listen_addresses, ElementsAre("::1"));
  EXPECT_EQ(c.server.limits.max_resets_per_second, 0u);
}

TEST(Overrides, ValueMayContainEqualsSigns) {
  Config c = load_ok({.overrides = {"server.api_key=a=b=c"}});
  EXPECT_EQ(c.server.api_key, "a=b=c");
}

TEST(GoOriginal, DevelopmentYamlLoads) {
  // The fixture mirrors zsiec/mirror configs/development.yaml, whose certificate paths are
  // relative to the working directory: run from a temp dir that has them.
  TempDir dir;
  dir.write("certs/dev-cert.pem", "-----BEGIN CERTIFICATE-----\n");
  dir.write("certs/dev-key.pem", "-----BEGIN PRIVATE KEY-----\n");
  auto fixture = std::filesystem::path(__FILE__).parent_path() / "go_development.yaml";
  auto previous = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto cfg = load({.file = fixture.string()});
  std::filesystem::current_path(previous);

  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  const Server& s = cfg->server;
  EXPECT_EQ(s.http3_port, 8443);
  EXPECT_EQ(s.http_port, 8080);
  EXPECT_EQ(s.tls_cert_file, "./certs/dev-cert.pem");
  EXPECT_EQ(s.tls_key_file, "./certs/dev-key.pem");
  EXPECT_EQ(s.read_timeout, 60s);
  EXPECT_EQ(s.write_timeout, 60s);
  EXPECT_EQ(s.shutdown_timeout, 5s);
  EXPECT_EQ(s.max_incoming_streams, 1000u);
  EXPECT_EQ(s.max_incoming_uni_streams, 500u);
  EXPECT_EQ(s.max_idle_timeout, 60s);
  EXPECT_TRUE(s.enable_http);
  EXPECT_TRUE(s.enable_http2);
  EXPECT_FALSE(s.https_redirect);
  EXPECT_TRUE(s.debug_endpoints);
  EXPECT_THAT(cfg->redis.addresses, ElementsAre("localhost:6379"));
  EXPECT_EQ(cfg->redis.max_retries, 5);
  EXPECT_EQ(cfg->redis.dial_timeout, 10s);
  EXPECT_EQ(cfg->redis.pool_size, 50);
  EXPECT_EQ(cfg->redis.min_idle_conns, 5);
  EXPECT_EQ(cfg->logging.level, "debug");
  EXPECT_EQ(cfg->logging.output, "stdout");
  EXPECT_EQ(cfg->logging.max_size, 50);
  EXPECT_EQ(cfg->metrics.port, 9091);
  ASSERT_EQ(cfg->notes.size(), 1u);
  EXPECT_THAT(cfg->notes[0], HasSubstr("ingestion"));
}

TEST(DumpYaml, LoadsBackToTheSameConfig) {
  TempDir dir;
  Config original = load_ok({.env = {{"HOME", "/home/u"}},
                             .overrides = {"server.http_port=9443", "server.api_key=k",
                                           "server.listen_addresses=::1,127.0.0.1",
                                           "server.read_timeout=1.5s", "logging.format=json",
                                           "server.limits.h2_initial_window_size=65535",
                                           "redis.password=p\"w"}});
  std::string text = dump_yaml(original, /*show_secrets=*/true);
  auto again = load_yaml(dir, text);
  ASSERT_TRUE(again.ok()) << again.error().message << "\n" << text;
  EXPECT_EQ(dump_yaml(*again, true), text);
  EXPECT_EQ(again->server.api_key, "k");
  EXPECT_EQ(again->redis.password, "p\"w");
}

TEST(DumpYaml, RedactsSecretsUnlessAsked) {
  Config c = load_ok({.overrides = {"server.api_key=topsecret"}});
  EXPECT_THAT(dump_yaml(c), Not(HasSubstr("topsecret")));
  EXPECT_THAT(dump_yaml(c), HasSubstr("api_key: \"<redacted>\""));
  EXPECT_THAT(dump_yaml(c, true), HasSubstr("api_key: \"topsecret\""));
  EXPECT_THAT(dump_yaml(c), HasSubstr("password: \"\""));  // nothing to hide
}

TEST(DumpYaml, NestsLimitsUnderServer) {
  std::string text = dump_yaml(load_ok({}));
  EXPECT_THAT(text, HasSubstr("server:\n  http3_port: 8443\n"));
  EXPECT_THAT(text, HasSubstr("\n  limits:\n    max_request_line: 8KiB\n"));
  EXPECT_THAT(text, HasSubstr("\nlogging:\n  level: \"info\"\n"));
  EXPECT_THAT(text, HasSubstr("  read_timeout: 30s\n"));
  EXPECT_THAT(text, HasSubstr("  listen_addresses: [\"0.0.0.0\", \"::\"]\n"));
}

TEST(KeyTable, EnvironmentNamesAreUnique) {
  std::set<std::string> names;
  for (const KeyInfo& key : key_table()) {
    EXPECT_TRUE(names.insert(key.env).second) << key.env;
    EXPECT_FALSE(key.description.empty()) << key.path;
  }
  EXPECT_EQ(env_name("server.max_idle_timeout"), "MIRROR_SERVER_MAX_IDLE_TIMEOUT");
}

}  // namespace
}  // namespace mirror::config
