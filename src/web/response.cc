#include "web/response.h"

namespace mirror::web {

std::string_view error_type_name(ErrorType t) {
  switch (t) {
    case ErrorType::kValidation:
      return "VALIDATION_ERROR";
    case ErrorType::kUnauthorized:
      return "UNAUTHORIZED";
    case ErrorType::kForbidden:
      return "FORBIDDEN";
    case ErrorType::kNotFound:
      return "NOT_FOUND";
    case ErrorType::kTimeout:
      return "TIMEOUT";
    case ErrorType::kConflict:
      return "CONFLICT";
    case ErrorType::kRateLimit:
      return "RATE_LIMIT";
    case ErrorType::kInternal:
      return "INTERNAL_ERROR";
    case ErrorType::kServiceDown:
      return "SERVICE_DOWN";
  }
  return "INTERNAL_ERROR";
}

int error_type_status(ErrorType t) {
  switch (t) {
    case ErrorType::kValidation:
      return 400;
    case ErrorType::kUnauthorized:
      return 401;
    case ErrorType::kForbidden:
      return 403;
    case ErrorType::kNotFound:
      return 404;
    case ErrorType::kTimeout:
      return 408;
    case ErrorType::kConflict:
      return 409;
    case ErrorType::kRateLimit:
      return 429;
    case ErrorType::kInternal:
      return 500;
    case ErrorType::kServiceDown:
      return 503;
  }
  return 500;
}

std::string json_body(const nlohmann::json& j) {
  std::string out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += '\n';
  return out;
}

std::string json_body(const nlohmann::ordered_json& j) {
  std::string out = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  out += '\n';
  return out;
}

std::string error_body(ErrorType type, std::string_view message, std::string_view trace_id) {
  nlohmann::ordered_json j;
  j["error"]["type"] = error_type_name(type);
  j["error"]["message"] = message;
  if (!trace_id.empty()) j["trace_id"] = trace_id;
  return json_body(j);
}

namespace {

void send_body(Context& ctx, int status, std::string body, std::string_view content_type) {
  auto& res = ctx.res();
  res.status = status;
  res.headers.set("content-type", content_type);
  res.body = std::move(body);
  ctx.send();
}

}  // namespace

void send_json(Context& ctx, int status, const nlohmann::json& j) {
  send_body(ctx, status, json_body(j), "application/json");
}

void send_json(Context& ctx, int status, const nlohmann::ordered_json& j) {
  send_body(ctx, status, json_body(j), "application/json");
}

void send_text(Context& ctx, int status, std::string body, std::string_view content_type) {
  send_body(ctx, status, std::move(body), content_type);
}

void send_error(Context& ctx, ErrorType type, std::string_view message) {
  send_error(ctx, error_type_status(type), type, message);
}

void send_error(Context& ctx, int status, ErrorType type, std::string_view message) {
  send_body(ctx, status, error_body(type, message, ctx.request_id()), "application/json");
}

}  // namespace mirror::web
