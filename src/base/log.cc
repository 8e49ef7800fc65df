#include "base/log.h"

#include "base/json.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <cstdio>

#include <spdlog/pattern_formatter.h>

namespace mirror::log {
namespace {

std::atomic<Format> g_format{Format::kText};

void append_value(std::string& out, const Value& v, bool json) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          if (json) {
            append_json_string(out, x);
          } else {
            bool quote = x.empty() || x.find_first_of(" \"=") != std::string_view::npos;
            if (quote) append_json_string(out, x); else out.append(x);
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          out += fmt::format("{:.3f}", x);
        } else {
          out += std::to_string(x);
        }
      },
      v);
}

// Renders the payload of a JSON line: event() passes pre-rendered fields behind a \x01 marker;
// free-form messages (spdlog::info("...")) become an escaped "msg" field.
class JsonPayloadFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (!payload.empty() && payload[0] == '\x01') {
      dest.append(payload.data() + 1, payload.data() + payload.size());
      return;
    }
    std::string out = "\"msg\":";
    append_json_string(out, payload);
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonPayloadFlag>();
  }
};

}  // namespace

bool init(std::string_view level, Format format, const std::string& output) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") return false;
  std::shared_ptr<spdlog::logger> logger;
  if (output.empty() || output == "stderr") {
    logger = std::make_shared<spdlog::logger>("mirror", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  } else if (output == "stdout") {
    logger = std::make_shared<spdlog::logger>("mirror", std::make_shared<spdlog::sinks::stdout_sink_mt>());
  } else {
    logger = std::make_shared<spdlog::logger>(
        "mirror", std::make_shared<spdlog::sinks::basic_file_sink_mt>(output));
  }
  g_format = format;
  if (format == Format::kJson) {
    // The message itself is a JSON object body (see event()); free-form lines are wrapped too.
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonPayloadFlag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%*})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
  return true;
}

Format format() { return g_format.load(std::memory_order_relaxed); }

void event(spdlog::level::level_enum level, std::string_view msg, std::initializer_list<Field> fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  std::string out;
  out.reserve(256);
  bool json = format() == Format::kJson;
  if (json) {
    out += "\x01\"msg\":";
    append_json_string(out, msg);
    for (const auto& [k, v] : fields) {
      out += ',';
      append_json_string(out, k);
      out += ':';
      append_value(out, v, true);
    }
  } else {
    out.append(msg);
    for (const auto& [k, v] : fields) {
      out += ' ';
      out.append(k);
      out += '=';
      append_value(out, v, false);
    }
  }
  logger->log(level, "{}", out);
}

}  // namespace mirror::log
