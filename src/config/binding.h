// Internal to src/config: the key table bound to the fields of one Config, and the code that
// reads a value into a field or writes it back as text. Not for use outside this folder.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"

namespace mirror::config::detail {

enum class Kind { kBool, kInteger, kPort, kSize, kDuration, kString, kFile, kList, kChoice };

// A pointer to the field a key sets. Integers keep their own width; enums their own type.
using Field = std::variant<bool*, uint16_t*, uint32_t*, uint64_t*, int64_t*, Duration*,
                           std::string*, std::vector<std::string>*, TlsVersion*,
                           CongestionControl*, RetryMode*, log::Format*>;

// Extra check for a string (or each list item). Returns "" when the value is fine, otherwise the
// end of a sentence that starts with the quoted value: `is not an IP address`. May normalise the
// value in place (e.g. the log level "warning" → "warn").
using Check = std::string (*)(std::string& value);

struct Key {
  std::string_view path;
  Kind kind;
  Field field;
  std::string_view doc;
  int64_t min = 0;  // kInteger/kPort/kSize: allowed range; kDuration: in nanoseconds
  int64_t max = std::numeric_limits<int64_t>::max();
  Check check = nullptr;
  bool secret = false;  // dump_yaml() redacts it
};

// The whole table, with every field pointing into `config`.
std::vector<Key> bind(Config& config);

// Names of an enum's values, in enumerator order (the YAML spelling).
std::span<const std::string_view> choices(const Field& field);

// A value as it arrived: one scalar (YAML scalar, environment variable, --set) or a YAML list.
struct Input {
  enum class Shape { kScalar, kList, kNull, kSection };
  Shape shape = Shape::kScalar;
  std::string scalar;
  std::vector<std::string> items;
};

// Sets key's field from input. Returns "" on success, otherwise an error such as
// `70000 is out of range (1-65535)` (the caller adds "config: <key>: " and where it came from).
std::string assign(const Key& key, const Input& input);

// The field's value as YAML (the inverse of assign): `8443`, `30s`, `"text"`, `["a", "b"]`.
std::string format_value(const Key& key);

// A YAML double-quoted string.
std::string quote(std::string_view s);

// Human type name for docs and key_table().
std::string type_name(const Key& key);

}  // namespace mirror::config::detail
