// defaults < YAML file < MIRROR_* environment < overrides, then whole-config validation.
#include "config/load.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "config/binding.h"
#include "config/keys.h"

namespace mirror::config {

Environment::Environment(char** envp) {
  for (char** e = envp; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    vars.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
}

namespace {

using detail::Input;
using detail::Key;
using detail::Kind;

Error config_error(std::string message) { return make_error("config", "config: " + message); }

// The table bound to one Config, with lookups by path and by environment name, and where each
// key's value last came from (for error messages about cross-key checks).
class Keys {
 public:
  explicit Keys(Config& config) : keys_(detail::bind(config)), origin_(keys_.size()) {
    for (size_t i = 0; i < keys_.size(); ++i) {
      by_path_.emplace(keys_[i].path, i);
      by_env_.emplace(env_name(keys_[i].path), i);
      // Every section prefix ("server", "server.limits") is a known YAML mapping.
      std::string_view p = keys_[i].path;
      for (auto dot = p.find('.'); dot != std::string_view::npos; dot = p.find('.', dot + 1)) {
        sections_.emplace(p.substr(0, dot));
      }
    }
  }

  const Key* by_path(std::string_view path) const { return find(by_path_, path); }
  const Key* by_env(std::string_view name) const { return find(by_env_, name); }
  bool is_section(std::string_view path) const { return sections_.count(std::string(path)) > 0; }
  const std::vector<Key>& all() const { return keys_; }

  // Sets a key and remembers where the value came from. The error names key, value and origin.
  Status set(const Key& key, const Input& input, std::string origin) {
    std::string problem = detail::assign(key, input);
    if (!problem.empty()) {
      return config_error(fmt::format("{}: {}{}", key.path, problem, origin));
    }
    origin_[&key - keys_.data()] = std::move(origin);
    return {};
  }
  const std::string& origin(std::string_view path) const {
    return origin_[by_path(path) - keys_.data()];
  }

 private:
  template <typename Map>
  const Key* find(const Map& map, std::string_view name) const {
    auto it = map.find(std::string(name));
    return it == map.end() ? nullptr : &keys_[it->second];
  }

  std::vector<Key> keys_;
  std::vector<std::string> origin_;  // "; set in FILE line N", "; set by MIRROR_X", ...
  std::unordered_map<std::string, size_t> by_path_;
  std::unordered_map<std::string, size_t> by_env_;
  std::set<std::string> sections_;
};

// --- YAML ---

std::string where(const std::string& file, const YAML::Node& node) {
  return fmt::format("{} line {}", file, node.Mark().line + 1);
}

Input to_input(const YAML::Node& node) {
  Input in;
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: in.shape = Input::Shape::kNull; break;
    case YAML::NodeType::Scalar: in.scalar = node.Scalar(); break;
    case YAML::NodeType::Map: in.shape = Input::Shape::kSection; break;
    case YAML::NodeType::Sequence:
      in.shape = Input::Shape::kList;
      for (const auto& item : node) {
        if (!item.IsScalar()) {  // a list of lists or maps is never valid here
          in.shape = Input::Shape::kSection;
          break;
        }
        in.items.push_back(item.Scalar());
      }
      break;
  }
  return in;
}

Status apply_mapping(Keys& keys, Config& config, const std::string& file, const YAML::Node& map,
                     const std::string& prefix) {
  std::set<std::string> seen;
  for (const auto& entry : map) {
    const YAML::Node& name_node = entry.first;
    std::string name = name_node.IsScalar() ? name_node.Scalar() : "?";
    std::string path = prefix.empty() ? name : prefix + "." + name;
    if (!seen.insert(name).second) {
      return config_error(fmt::format("duplicate key {} (in {})", path, where(file, name_node)));
    }
    if (path == "ingestion") {  // the Go original's media ingestion; not part of this server
      config.notes.push_back(fmt::format("ignored section ingestion: in {} (Mirror serves "
                                         "HTTP only; ingestion is not implemented)", file));
      continue;
    }
    if (const Key* key = keys.by_path(path)) {
      auto status = keys.set(*key, to_input(entry.second),
                             fmt::format("; set in {}", where(file, name_node)));
      if (!status) return status;
    } else if (keys.is_section(path)) {
      if (entry.second.IsNull()) continue;  // `metrics:` with nothing under it
      if (!entry.second.IsMap()) {
        return config_error(fmt::format("{} must be a section of keys (in {})", path,
                                        where(file, name_node)));
      }
      auto status = apply_mapping(keys, config, file, entry.second, path);
      if (!status) return status;
    } else {
      return config_error(fmt::format("unknown key {} (in {})", path, where(file, name_node)));
    }
  }
  return {};
}

Status apply_file(Keys& keys, Config& config, const std::string& file) {
  struct stat st {};
  if (stat(file.c_str(), &st) != 0) {
    return config_error(fmt::format("cannot read {}: {}", file, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) return config_error(fmt::format("{} is not a regular file", file));
  std::ifstream in(file);
  if (!in) return config_error(fmt::format("cannot read {}: {}", file, std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {  // the parser's only way to report; stop it here
    return config_error(fmt::format("{} line {}: invalid YAML: {}", file, e.mark.line + 1, e.msg));
  }
  if (root.IsNull()) return {};  // an empty file means "all defaults"
  if (!root.IsMap()) {
    return config_error(fmt::format("{}: the top level must be a mapping of sections "
                                    "(server:, logging:, redis:, metrics:)", file));
  }
  return apply_mapping(keys, config, file, root, "");
}

// --- environment and overrides ---

Status apply_environment(Keys& keys, const Environment& env) {
  for (const auto& [name, value] : env.vars) {
    if (name.rfind("MIRROR_", 0) != 0) continue;
    const Key* key = keys.by_env(name);
    if (key == nullptr) continue;  // other tools use MIRROR_* too (MIRROR_BIN, ...): not ours
    Input in;
    in.scalar = value;
    auto status = keys.set(*key, in, fmt::format("; set by environment variable {}", name));
    if (!status) return status;
  }
  return {};
}

Status apply_overrides(Keys& keys, const std::vector<std::string>& overrides) {
  for (const std::string& item : overrides) {
    auto eq = item.find('=');
    if (eq == std::string::npos) {
      return config_error(fmt::format("override {} is not key=value (example: "
                                      "server.http_port=9443)", detail::quote(item)));
    }
    std::string path = item.substr(0, eq);
    const Key* key = keys.by_path(path);
    if (key == nullptr) {
      return config_error(fmt::format("unknown key {} (in command-line override {})", path,
                                      detail::quote(item)));
    }
    Input in;
    in.scalar = item.substr(eq + 1);
    auto status = keys.set(*key, in, fmt::format("; set on the command line ({})", item));
    if (!status) return status;
  }
  return {};
}

// --- derived values and cross-key checks ---

std::string default_state_dir(const Environment& env) {
  auto get = [&](const char* name) {
    auto it = env.vars.find(name);
    return it == env.vars.end() ? std::string() : it->second;
  };
  if (std::string xdg = get("XDG_STATE_HOME"); !xdg.empty() && xdg.front() == '/') {
    return xdg + "/mirror";  // the XDG spec says relative values are to be ignored
  }
  if (std::string home = get("HOME"); !home.empty() && home.front() == '/') {
    return home + "/.local/state/mirror";
  }
  return fmt::format("/tmp/mirror-state-{}", getuid());
}

Status check_file(const Keys& keys, std::string_view path, const std::string& file) {
  if (file.empty()) return {};
  struct stat st {};
  if (stat(file.c_str(), &st) != 0) {
    std::string why = errno == ENOENT ? "does not exist" : std::strerror(errno);
    return config_error(fmt::format("{}: {} {}{}", path, file, why, keys.origin(path)));
  }
  if (!S_ISREG(st.st_mode)) {
    return config_error(fmt::format("{}: {} is not a regular file{}", path, file,
                                    keys.origin(path)));
  }
  if (access(file.c_str(), R_OK) != 0) {
    return config_error(fmt::format("{}: {} is not readable{}", path, file, keys.origin(path)));
  }
  return {};
}

Status validate(const Keys& keys, const Config& c) {
  const Server& s = c.server;
  if (s.tls_cert_file.empty() != s.tls_key_file.empty()) {
    bool cert_missing = s.tls_cert_file.empty();
    std::string_view set = cert_missing ? "server.tls_key_file" : "server.tls_cert_file";
    std::string_view unset = cert_missing ? "server.tls_cert_file" : "server.tls_key_file";
    return config_error(fmt::format("{} is set but {} is empty: set both, or neither for a "
                                    "generated dev certificate{}", set, unset, keys.origin(set)));
  }
  for (const Key& key : keys.all()) {
    if (key.kind != Kind::kFile) continue;
    auto status = check_file(keys, key.path, *std::get<std::string*>(key.field));
    if (!status) return status;
  }
  if (!s.enable_http && !s.enable_http3 && s.plain_port == 0) {
    return config_error("server: enable_http and enable_http3 are false and plain_port is 0, "
                        "so nothing would listen");
  }
  if (s.listen_addresses.empty()) {
    return config_error("server.listen_addresses: is empty; list at least one address "
                        "(e.g. [\"0.0.0.0\", \"::\"])" + keys.origin("server.listen_addresses"));
  }
  // TCP ports in use must not collide (UDP http3_port may share a number with a TCP port).
  struct TcpPort {
    std::string_view key;
    uint16_t port;
  };
  std::vector<TcpPort> tcp;
  if (s.enable_http) tcp.push_back({"server.http_port", s.http_port});
  if (s.plain_port != 0) tcp.push_back({"server.plain_port", s.plain_port});
  if (c.metrics.enabled && c.metrics.port != 0) tcp.push_back({"metrics.port", c.metrics.port});
  for (size_t i = 0; i < tcp.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (tcp[i].port == tcp[j].port) {
        return config_error(fmt::format("{}: {} is already used by {}{}", tcp[i].key,
                                        tcp[i].port, tcp[j].key, keys.origin(tcp[i].key)));
      }
    }
  }
  if (c.redis.min_idle_conns > c.redis.pool_size) {
    return config_error(fmt::format("redis.min_idle_conns: {} is more than redis.pool_size ({}){}",
                                    c.redis.min_idle_conns, c.redis.pool_size,
                                    keys.origin("redis.min_idle_conns")));
  }
  if (c.redis.enabled && c.redis.addresses.empty()) {
    return config_error("redis.addresses: is empty but redis.enabled is true" +
                        keys.origin("redis.addresses"));
  }
  return {};
}

}  // namespace

Result<Config> load(const LoadOptions& options) {
  Config config;
  Keys keys(config);
  if (!options.file.empty()) {
    config.source_file = options.file;
    if (auto status = apply_file(keys, config, options.file); !status) return status.error();
  }
  if (auto status = apply_environment(keys, options.env); !status) return status.error();
  if (auto status = apply_overrides(keys, options.overrides); !status) return status.error();
  if (config.server.state_dir.empty()) config.server.state_dir = default_state_dir(options.env);
  if (auto status = validate(keys, config); !status) return status.error();
  return config;
}

std::string dump_yaml(const Config& config, bool show_secrets) {
  Config copy = config;  // bind() needs a mutable Config; the copy keeps `config` const
  std::string out;
  std::string section;  // "server", "server.limits", ...
  for (const Key& key : detail::bind(copy)) {
    std::string_view path = key.path;
    auto dot = path.rfind('.');
    std::string_view key_section = path.substr(0, dot);
    std::string_view name = path.substr(dot + 1);
    if (key_section != section) {
      section = std::string(key_section);
      // Sections nest by dots: "server.limits" is written as `  limits:` under `server:`.
      size_t depth = 0;
      for (char ch : section) depth += ch == '.';
      auto last = section.rfind('.');
      if (depth == 0) out += out.empty() ? "" : "\n";
      out += fmt::format("{:{}}{}:\n", "", depth * 2,
                         last == std::string::npos ? section : section.substr(last + 1));
    }
    size_t indent = 2;
    for (char ch : section) indent += ch == '.' ? 2 : 0;
    bool redact = key.secret && !show_secrets && !std::get<std::string*>(key.field)->empty();
    out += fmt::format("{:{}}{}: {}\n", "", indent, name,
                       redact ? "\"<redacted>\"" : detail::format_value(key));
  }
  return out;
}

}  // namespace mirror::config
