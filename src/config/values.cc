// Reading one value into a Config field, and writing it back, for every kind of key.
#include <fmt/format.h>

#include <cctype>
#include <type_traits>

#include "config/binding.h"
#include "config/duration.h"
#include "config/size.h"

namespace mirror::config::detail {
namespace {

constexpr std::string_view kTlsVersions[] = {"1.2", "1.3"};
constexpr std::string_view kCongestionControls[] = {"reno", "cubic", "bbr", "bbr2"};
constexpr std::string_view kRetryModes[] = {"auto", "always", "never"};
constexpr std::string_view kLogFormats[] = {"text", "json"};

std::span<const std::string_view> names_of(TlsVersion*) { return kTlsVersions; }
std::span<const std::string_view> names_of(CongestionControl*) { return kCongestionControls; }
std::span<const std::string_view> names_of(RetryMode*) { return kRetryModes; }
std::span<const std::string_view> names_of(log::Format*) { return kLogFormats; }
static_assert(static_cast<int>(log::Format::kText) == 0 &&
              static_cast<int>(log::Format::kJson) == 1);  // kLogFormats' order

std::string lower(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string join(std::span<const std::string_view> names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

bool parse_bool(std::string_view text, bool& out) {
  std::string v = lower(text);
  if (v == "true" || v == "yes" || v == "on" || v == "1") return out = true, true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return out = false, true;
  return false;
}

// A decimal integer (optional sign). Values beyond int64 are clamped so that the range check
// reports them; returns false if the text is not an integer at all.
bool parse_integer(std::string_view text, __int128& out) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return false;
  __int128 v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    if (v < (__int128{1} << 100)) v = v * 10 + (c - '0');
  }
  out = negative ? -v : v;
  return true;
}

std::string out_of_range(std::string_view value, int64_t min, int64_t max) {
  return fmt::format("{} is out of range ({}-{})", value, min, max);
}

// Everything but lists wants a single scalar.
std::string need_scalar(const Input& in) {
  switch (in.shape) {
    case Input::Shape::kScalar: return "";
    case Input::Shape::kList: return "expected a single value, found a list";
    case Input::Shape::kSection: return "expected a single value, found a section";
    case Input::Shape::kNull: return "has no value";
  }
  return "";
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> items;
  if (trim(text).empty()) return items;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    items.push_back(trim(text.substr(start, comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

template <typename T>
std::string assign_integer(const Key& key, const Input& in, T* field) {
  __int128 v = 0;
  if (!parse_integer(trim(in.scalar), v)) {
    return fmt::format("{} is not an integer", quote(in.scalar));
  }
  if (v < key.min || v > key.max) return out_of_range(trim(in.scalar), key.min, key.max);
  *field = static_cast<T>(v);
  return "";
}

}  // namespace

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::span<const std::string_view> choices(const Field& field) {
  return std::visit(
      [](auto* p) -> std::span<const std::string_view> {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_enum_v<T>) {
          return names_of(p);
        } else {
          return {};
        }
      },
      field);
}

std::string assign(const Key& key, const Input& in) {
  if (key.kind == Kind::kList) {
    std::vector<std::string> items;
    switch (in.shape) {
      case Input::Shape::kScalar: items = split_commas(in.scalar); break;
      case Input::Shape::kList: items = in.items; break;
      case Input::Shape::kNull: break;
      case Input::Shape::kSection: return "expected a list, found a section";
    }
    for (std::string& item : items) {
      std::string original = item;
      if (key.check != nullptr) {
        std::string problem = key.check(item);
        if (!problem.empty()) return fmt::format("{} {}", quote(original), problem);
      }
    }
    *std::get<std::vector<std::string>*>(key.field) = std::move(items);
    return "";
  }

  if (in.shape == Input::Shape::kNull && (key.kind == Kind::kString || key.kind == Kind::kFile)) {
    *std::get<std::string*>(key.field) = "";  // `tls_cert_file:` with nothing after it
    return "";
  }
  if (std::string problem = need_scalar(in); !problem.empty()) return problem;
  const std::string& text = in.scalar;

  switch (key.kind) {
    case Kind::kBool: {
      bool v = false;
      if (!parse_bool(trim(text), v)) return fmt::format("{} is not a boolean", quote(text));
      *std::get<bool*>(key.field) = v;
      return "";
    }
    case Kind::kInteger:
    case Kind::kPort:
      return std::visit(
          [&](auto* p) -> std::string {
            using T = std::remove_pointer_t<decltype(p)>;
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
              return assign_integer(key, in, p);
            } else {
              return "internal error: not an integer field";
            }
          },
          key.field);
    case Kind::kSize: {
      auto bytes = parse_size(trim(text));
      if (!bytes) return bytes.error().message;
      if (*bytes < static_cast<uint64_t>(key.min)) {
        return fmt::format("{} is below the minimum ({})", quote(text),
                           format_size(static_cast<uint64_t>(key.min)));
      }
      if (*bytes > static_cast<uint64_t>(key.max)) {
        return fmt::format("{} is above the maximum ({})", quote(text),
                           format_size(static_cast<uint64_t>(key.max)));
      }
      *std::get<uint64_t*>(key.field) = *bytes;
      return "";
    }
    case Kind::kDuration: {
      auto d = parse_duration(trim(text));
      if (!d) return d.error().message;
      if (d->count() < key.min) {
        return fmt::format("{} is below the minimum ({})", quote(text),
                           format_duration(Duration{key.min}));
      }
      *std::get<Duration*>(key.field) = *d;
      return "";
    }
    case Kind::kString:
    case Kind::kFile: {
      std::string v = text;
      if (key.check != nullptr) {
        std::string problem = key.check(v);
        if (!problem.empty()) return fmt::format("{} {}", quote(text), problem);
      }
      *std::get<std::string*>(key.field) = std::move(v);
      return "";
    }
    case Kind::kChoice: {
      auto names = choices(key.field);
      std::string v = lower(trim(text));
      for (size_t i = 0; i < names.size(); ++i) {
        if (v == names[i]) {
          std::visit(
              [&](auto* p) {
                using T = std::remove_pointer_t<decltype(p)>;
                if constexpr (std::is_enum_v<T>) *p = static_cast<T>(i);
              },
              key.field);
          return "";
        }
      }
      return fmt::format("{} is not one of: {}", quote(text), join(names));
    }
    case Kind::kList: break;  // handled above
  }
  return "internal error: unknown key kind";
}

std::string format_value(const Key& key) {
  return std::visit(
      [&](auto* p) -> std::string {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, bool>) {
          return *p ? "true" : "false";
        } else if constexpr (std::is_same_v<T, Duration>) {
          return format_duration(*p);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return quote(*p);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          std::string out = "[";
          for (const std::string& item : *p) out += (out.size() > 1 ? ", " : "") + quote(item);
          return out + "]";
        } else if constexpr (std::is_enum_v<T>) {
          return quote(names_of(p)[static_cast<size_t>(*p)]);
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          return key.kind == Kind::kSize ? format_size(*p) : std::to_string(*p);
        } else {
          return std::to_string(*p);
        }
      },
      key.field);
}

std::string type_name(const Key& key) {
  switch (key.kind) {
    case Kind::kBool: return "bool";
    case Kind::kInteger: return "integer";
    case Kind::kPort: return "port";
    case Kind::kSize: return "size";
    case Kind::kDuration: return "duration";
    case Kind::kString: return "string";
    case Kind::kFile: return "file";
    case Kind::kList: return "list of strings";
    case Kind::kChoice: return "one of: " + join(choices(key.field));
  }
  return "?";
}

}  // namespace mirror::config::detail
