// Every way a configuration can be wrong gives one message that names the key and the value.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/load.h"
#include "test_util.h"

namespace mirror::config {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::TempDir;

// Loads and expects failure; returns the message (which must be a single line).
std::string error_of(const LoadOptions& options) {
  auto cfg = load(options);
  EXPECT_FALSE(cfg.ok()) << "loaded, but an error was expected";
  if (cfg.ok()) return "";
  EXPECT_EQ(cfg.error().code, "config");
  EXPECT_THAT(cfg.error().message, StartsWith("config: "));
  EXPECT_EQ(cfg.error().message.find('\n'), std::string::npos) << cfg.error().message;
  return cfg.error().message;
}

std::string yaml_error(const std::string& yaml) {
  TempDir dir;
  return error_of({.file = dir.write("mirror.yaml", yaml)});
}

std::string override_error(const std::string& item) { return error_of({.overrides = {item}}); }

TEST(Errors, UnknownKeyNamesFileAndLine) {
  TempDir dir;
  std::string file = dir.write("m.yaml", "server:\n  http3_port: 8443\n  htp_port: 9443\n");
  EXPECT_EQ(error_of({.file = file}),
            "config: unknown key server.htp_port (in " + file + " line 3)");
  EXPECT_THAT(yaml_error("servr:\n  http_port: 1\n"), HasSubstr("unknown key servr (in "));
  EXPECT_THAT(yaml_error("server:\n  limits:\n    max_bodysize: 1\n"),
              HasSubstr("unknown key server.limits.max_bodysize"));
  EXPECT_THAT(yaml_error("redis:\n  addresses: [\"a:1\"]\n  sentinel: x\n"),
              HasSubstr("unknown key redis.sentinel"));
  EXPECT_THAT(override_error("server.htp_port=1"),
              AllOf(HasSubstr("unknown key server.htp_port"), HasSubstr("command-line")));
}

TEST(Errors, SectionShapeAndDuplicates) {
  EXPECT_THAT(yaml_error("server: 8443\n"), HasSubstr("server must be a section"));
  EXPECT_THAT(yaml_error("server:\n  limits: 5\n"), HasSubstr("server.limits must be a section"));
  EXPECT_THAT(yaml_error("server:\n  http_port:\n    x: 1\n"),
              AllOf(HasSubstr("server.http_port:"), HasSubstr("found a section")));
  EXPECT_THAT(yaml_error("server:\n  http_port: [1, 2]\n"),
              AllOf(HasSubstr("server.http_port:"), HasSubstr("found a list")));
  EXPECT_THAT(yaml_error("server:\n  http_port:\n"),
              AllOf(HasSubstr("server.http_port:"), HasSubstr("has no value")));
  EXPECT_THAT(yaml_error("server:\n  http_port: 1\n  http_port: 2\n"),
              AllOf(HasSubstr("duplicate key server.http_port"), HasSubstr("line 3")));
  EXPECT_THAT(yaml_error("- a\n- b\n"), HasSubstr("top level must be a mapping"));
}

TEST(Errors, InvalidYamlAndMissingFile) {
  EXPECT_THAT(yaml_error("server:\n  http_port: [1\n"), HasSubstr("invalid YAML"));
  EXPECT_THAT(error_of({.file = "/nonexistent/mirror.yaml"}),
              AllOf(HasSubstr("cannot read /nonexistent/mirror.yaml"),
                    HasSubstr("No such file or directory")));
  TempDir dir;  // a directory would otherwise read as an empty file, i.e. silently all defaults
  EXPECT_THAT(error_of({.file = dir.path().string()}), HasSubstr("is not a regular file"));
}

TEST(Errors, PortOutOfRange) {
  TempDir dir;
  std::string file = dir.write("m.yaml", "server:\n  http_port: 70000\n");
  EXPECT_EQ(error_of({.file = file}),
            "config: server.http_port: 70000 is out of range (1-65535); set in " + file +
                " line 2");
  EXPECT_THAT(override_error("server.http3_port=0"),
              HasSubstr("server.http3_port: 0 is out of range (1-65535)"));
  EXPECT_THAT(override_error("server.plain_port=-1"),
              HasSubstr("server.plain_port: -1 is out of range (0-65535)"));
  EXPECT_THAT(override_error("metrics.port=99999999999999999999999"),
              HasSubstr("metrics.port: 99999999999999999999999 is out of range (0-65535)"));
  EXPECT_THAT(error_of({.env = {{"MIRROR_SERVER_HTTP_PORT", "65536"}}}),
              AllOf(HasSubstr("server.http_port: 65536 is out of range (1-65535)"),
                    HasSubstr("environment variable MIRROR_SERVER_HTTP_PORT")));
}

TEST(Errors, WrongTypes) {
  EXPECT_THAT(yaml_error("server:\n  enable_http: \"maybe\"\n"),
              HasSubstr("config: server.enable_http: \"maybe\" is not a boolean"));
  EXPECT_THAT(yaml_error("server:\n  http_port: eighty\n"),
              HasSubstr("server.http_port: \"eighty\" is not an integer"));
  EXPECT_THAT(yaml_error("server:\n  workers: 1.5\n"),
              HasSubstr("server.workers: \"1.5\" is not an integer"));
  EXPECT_THAT(override_error("server.max_incoming_uni_streams=2"),
              HasSubstr("server.max_incoming_uni_streams: 2 is out of range (3-"));
  EXPECT_THAT(override_error("server.limits.max_body_size=lots"),
              HasSubstr("server.limits.max_body_size: \"lots\" is not a size"));
  EXPECT_THAT(override_error("server.limits.h2_initial_window_size=4GiB"),
              HasSubstr("server.limits.h2_initial_window_size: \"4GiB\" is above the maximum "
                        "(2147483647)"));
  EXPECT_THAT(override_error("server.max_stream_receive_window=10"),
              HasSubstr("server.max_stream_receive_window: \"10\" is below the minimum (1KiB)"));
  EXPECT_THAT(yaml_error("server:\n  listen_addresses:\n    a: b\n"),
              HasSubstr("server.listen_addresses: expected a list"));
}

TEST(Errors, BadDuration) {
  EXPECT_THAT(yaml_error("server:\n  read_timeout: \"30 seconds\"\n"),
              HasSubstr("config: server.read_timeout: \"30 seconds\" is not a duration"));
  EXPECT_THAT(yaml_error("server:\n  read_timeout: \"30 seconds\"\n"),
              HasSubstr("examples: 30s, 1m30s, 500ms"));
  EXPECT_THAT(yaml_error("server:\n  write_timeout: 30\n"),
              AllOf(HasSubstr("server.write_timeout: \"30\" is not a duration"),
                    HasSubstr("missing unit")));
  EXPECT_THAT(override_error("server.idle_timeout=-5s"),
              AllOf(HasSubstr("server.idle_timeout: \"-5s\""), HasSubstr("negative")));
  EXPECT_THAT(override_error("server.max_idle_timeout=0s"),
              HasSubstr("server.max_idle_timeout: \"0s\" is below the minimum (1ms)"));
}

TEST(Errors, BadEnumValues) {
  EXPECT_THAT(yaml_error("server:\n  congestion_control: \"vegas\"\n"),
              HasSubstr("server.congestion_control: \"vegas\" is not one of: reno, cubic, bbr, "
                        "bbr2"));
  EXPECT_THAT(override_error("server.retry=sometimes"),
              HasSubstr("server.retry: \"sometimes\" is not one of: auto, always, never"));
  EXPECT_THAT(override_error("server.tls_min_version=1.1"),
              HasSubstr("server.tls_min_version: \"1.1\" is not one of: 1.2, 1.3"));
  EXPECT_THAT(override_error("logging.format=xml"),
              HasSubstr("logging.format: \"xml\" is not one of: text, json"));
}

TEST(Errors, BadStrings) {
  EXPECT_THAT(yaml_error("logging:\n  level: loud\n"),
              HasSubstr("logging.level: \"loud\" is not a log level"));
  EXPECT_THAT(override_error("server.listen_addresses=0.0.0.0,localhost"),
              HasSubstr("server.listen_addresses: \"localhost\" is not an IPv4 or IPv6 address"));
  EXPECT_THAT(override_error("redis.addresses=localhost"),
              HasSubstr("redis.addresses: \"localhost\" is not host:port"));
  EXPECT_THAT(override_error("redis.addresses=localhost:0"),
              HasSubstr("redis.addresses: \"localhost:0\" is not host:port"));
  EXPECT_THAT(override_error("metrics.path=metrics"),
              HasSubstr("metrics.path: \"metrics\" is not a URL path"));
  EXPECT_THAT(override_error("logging.output="),
              HasSubstr("logging.output: \"\" must not be empty"));
  EXPECT_THAT(override_error("server.http_port"), HasSubstr("is not key=value"));
}

TEST(Errors, CertificateFiles) {
  TempDir dir;
  std::string cert = dir.write("cert.pem", "x");
  std::string key = dir.write("key.pem", "x");
  std::string missing = (dir.path() / "nope.pem").string();
  EXPECT_EQ(error_of({.overrides = {"server.tls_cert_file=" + missing,
                                    "server.tls_key_file=" + key}}),
            "config: server.tls_cert_file: " + missing + " does not exist; set on the command "
            "line (server.tls_cert_file=" + missing + ")");
  EXPECT_THAT(error_of({.overrides = {"server.tls_cert_file=" + cert}}),
              HasSubstr("server.tls_cert_file is set but server.tls_key_file is empty"));
  EXPECT_THAT(error_of({.overrides = {"server.tls_key_file=" + key}}),
              HasSubstr("server.tls_key_file is set but server.tls_cert_file is empty"));
  EXPECT_THAT(error_of({.overrides = {"server.tls_cert_file=" + dir.path().string(),
                                      "server.tls_key_file=" + key}}),
              HasSubstr("is not a regular file"));
  EXPECT_THAT(error_of({.overrides = {"server.ticket_key_file=" + missing}}),
              HasSubstr("server.ticket_key_file: " + missing + " does not exist"));
  // Both set and present: fine.
  auto ok = load({.overrides = {"server.tls_cert_file=" + cert, "server.tls_key_file=" + key}});
  EXPECT_TRUE(ok.ok()) << ok.error().message;
}

TEST(Errors, CrossKeyChecks) {
  EXPECT_THAT(override_error("redis.min_idle_conns=200"),
              HasSubstr("redis.min_idle_conns: 200 is more than redis.pool_size (100)"));
  EXPECT_THAT(error_of({.overrides = {"redis.enabled=true", "redis.addresses="}}),
              HasSubstr("redis.addresses: is empty but redis.enabled is true"));
  EXPECT_THAT(override_error("server.listen_addresses="),
              HasSubstr("server.listen_addresses: is empty"));
  EXPECT_THAT(error_of({.overrides = {"server.enable_http=false", "server.enable_http3=false"}}),
              HasSubstr("nothing would listen"));
  EXPECT_THAT(override_error("server.plain_port=8443"),
              HasSubstr("server.plain_port: 8443 is already used by server.http_port"));
  EXPECT_THAT(override_error("metrics.port=8443"),
              HasSubstr("metrics.port: 8443 is already used by server.http_port"));
  // The UDP port may share its number with a TCP port; a disabled listener frees its port.
  EXPECT_TRUE(load({.overrides = {"server.http3_port=8080", "server.http_port=8080"}}).ok());
  EXPECT_TRUE(load({.overrides = {"server.enable_http=false", "server.plain_port=8443"}}).ok());
  EXPECT_TRUE(load({.overrides = {"metrics.enabled=false", "metrics.port=8443"}}).ok());
}

}  // namespace
}  // namespace mirror::config
