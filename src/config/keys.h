// The table of every configuration key: path, environment name, type, default and meaning.
// One table (keys.cc) drives YAML parsing, MIRROR_* names, unknown-key errors, dump_yaml() and the
// unit tests that keep docs/configuration.md and config/mirror.yaml complete.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mirror::config {

struct KeyInfo {
  std::string path;           // "server.http_port" (YAML sections joined with '.')
  std::string env;            // "MIRROR_SERVER_HTTP_PORT"
  std::string type;           // "port", "bool", "integer", "size", "duration", "string",
                              // "file", "list of strings", or "one of: reno, cubic, bbr, bbr2"
  std::string default_value;  // as dump_yaml() writes it, e.g. `8443`, `30s`, `"text"`
  std::string description;    // one line
};

// Every key, in the order of config.h.
const std::vector<KeyInfo>& key_table();

// "server.max_idle_timeout" → "MIRROR_SERVER_MAX_IDLE_TIMEOUT".
std::string env_name(std::string_view path);

}  // namespace mirror::config
