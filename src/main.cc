// mirror: flags → config → Server::run().
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/version.h"
#include "base/log.h"
#include "config/load.h"
#include "server/server.h"

extern char** environ;

int main(int argc, char** argv) {
  CLI::App cli{"mirror: an HTTP/3 (QUIC), HTTP/2 and HTTP/1.1 server for live video"};
  std::string config_file;
  bool show_version = false;
  bool check_config = false;
  bool verbose = false;
  std::vector<std::string> overrides;
  int http_port = 0, http3_port = 0, plain_port = -1;
  int workers = -1;
  std::string cert, key, log_level, log_format, static_dir;

  cli.add_option("-c,--config", config_file, "YAML configuration file")->check(CLI::ExistingFile);
  cli.add_flag("--version", show_version, "print version information and exit");
  cli.add_flag("--check-config", check_config, "validate the configuration and exit (0 = valid)");
  cli.add_flag("-v,--verbose", verbose, "with --check-config: print the effective configuration");
  cli.add_option("--set", overrides, "override any key: --set server.workers=2 (repeatable)");
  cli.add_option("--http-port", http_port, "server.http_port (TCP, TLS)");
  cli.add_option("--http3-port", http3_port, "server.http3_port (UDP, QUIC)");
  cli.add_option("--plain-port", plain_port, "server.plain_port (cleartext TCP; 0 = off)");
  cli.add_option("--workers", workers, "server.workers (0 = number of cores)");
  cli.add_option("--cert", cert, "server.tls_cert_file");
  cli.add_option("--key", key, "server.tls_key_file");
  cli.add_option("--static-dir", static_dir, "server.static_dir");
  cli.add_option("--log-level", log_level, "logging.level");
  cli.add_option("--log-format", log_format, "logging.format (text|json)");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = cli.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (show_version) {
    auto info = mirror::app::build_info();
    fmt::print("mirror {} (commit {}, built {}, {})\n", info.version, info.git_commit, info.build_time,
               mirror::app::compiler_name());
    return 0;
  }

  // Dedicated flags are sugar over --set; later ones win.
  if (http_port) overrides.push_back(fmt::format("server.http_port={}", http_port));
  if (http3_port) overrides.push_back(fmt::format("server.http3_port={}", http3_port));
  if (plain_port >= 0) overrides.push_back(fmt::format("server.plain_port={}", plain_port));
  if (workers >= 0) overrides.push_back(fmt::format("server.workers={}", workers));
  if (!cert.empty()) overrides.push_back("server.tls_cert_file=" + cert);
  if (!key.empty()) overrides.push_back("server.tls_key_file=" + key);
  if (!static_dir.empty()) overrides.push_back("server.static_dir=" + static_dir);
  if (!log_level.empty()) overrides.push_back("logging.level=" + log_level);
  if (!log_format.empty()) overrides.push_back("logging.format=" + log_format);

  auto cfg = mirror::config::load({.file = config_file, .env = environ, .overrides = overrides});
  if (!cfg) {
    fmt::print(stderr, "mirror: {}\n", cfg.error().message);
    return 2;
  }
  if (check_config) {
    if (verbose) fmt::print("{}", mirror::config::dump_yaml(cfg.value()));
    fmt::print(stderr, "mirror: configuration OK{}\n",
               config_file.empty() ? "" : fmt::format(" ({})", config_file));
    return 0;
  }

  const auto& lg = cfg->logging;
  if (!mirror::log::init(lg.level, lg.format, lg.output)) {
    fmt::print(stderr, "mirror: logging.level: {:?} is not a log level\n", lg.level);
    return 2;
  }
  for (const auto& note : cfg->notes) spdlog::debug("config: {}", note);

  mirror::server::Server server(std::move(cfg.value()));
  return server.run();
}
