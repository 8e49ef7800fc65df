// Loading the configuration: defaults < YAML file < MIRROR_* environment < command-line overrides.
//
//   auto cfg = config::load({.file = path, .env = environ, .overrides = {"server.workers=2"}});
//   if (!cfg) { fmt::print(stderr, "{}\n", cfg.error().message); return 2; }
//
// Every error is one line that names the key and the offending value, e.g.
//   config: server.http_port: 70000 is out of range (1-65535); set in /etc/mirror.yaml line 3
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace mirror::config {

// Environment variables as a map. Converts implicitly from `environ` (char**) so the server can
// pass the real environment, and from a brace list so tests can inject one.
struct Environment {
  Environment() = default;
  Environment(char** envp);  // NOLINT(google-explicit-constructor): `.env = environ`
  Environment(std::initializer_list<std::pair<const std::string, std::string>> vars)
      : vars(vars) {}
  std::map<std::string, std::string> vars;
};

struct LoadOptions {
  std::string file;                    // YAML file to read; "" = none (defaults only)
  Environment env;                     // MIRROR_* variables override the file; others are ignored
  std::vector<std::string> overrides;  // "server.http_port=9443"; lists comma-separated
};

// Builds the effective configuration and validates it. Error code is "config".
Result<Config> load(const LoadOptions& options);

// The effective configuration as YAML that load() accepts (used by --check-config -v).
// Secrets (server.api_key, redis.password) print as "<redacted>" unless show_secrets.
std::string dump_yaml(const Config& config, bool show_secrets = false);

}  // namespace mirror::config
