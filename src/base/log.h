// Logging facade over spdlog: `text` or `json` lines on stderr (or a file).
// Use the spdlog calls directly for free-form lines (spdlog::info("...{}", x)); use
// log::event() for structured lines such as the access log.
#pragma once

#include <spdlog/spdlog.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace mirror::log {

enum class Format { kText, kJson };

// Sets the global level ("trace".."critical", "off") and format; output "stderr", "stdout" or a
// file path. Returns false (and leaves the logger as it was) if the level is unknown.
bool init(std::string_view level, Format format, const std::string& output = "stderr");
Format format();

using Value = std::variant<std::string_view, int64_t, uint64_t, double, bool>;
using Field = std::pair<std::string_view, Value>;

// One structured line: msg plus fields, rendered as JSON or as `msg key=value ...`.
void event(spdlog::level::level_enum level, std::string_view msg, std::initializer_list<Field> fields);

}  // namespace mirror::log
