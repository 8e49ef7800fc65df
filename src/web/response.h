// Response helpers: JSON, text and the error shape every endpoint shares,
//   {"error":{"type":"NOT_FOUND","message":"endpoint not found"},"trace_id":"<request id>"}
// Each helper fills ctx.res() (keeping headers middleware already set) and sends it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "web/context.h"

namespace mirror::web {

enum class ErrorType {
  kValidation,    // VALIDATION_ERROR 400
  kUnauthorized,  // UNAUTHORIZED 401
  kForbidden,     // FORBIDDEN 403
  kNotFound,      // NOT_FOUND 404
  kTimeout,       // TIMEOUT 408
  kConflict,      // CONFLICT 409
  kRateLimit,     // RATE_LIMIT 429
  kInternal,      // INTERNAL_ERROR 500
  kServiceDown,   // SERVICE_DOWN 503
};

std::string_view error_type_name(ErrorType t);
int error_type_status(ErrorType t);

// Bodies end with "\n", as Go's json.Encoder (used by the original server) writes them.
// Invalid UTF-8 in strings is replaced (U+FFFD) rather than throwing.
std::string json_body(const nlohmann::json& j);
std::string json_body(const nlohmann::ordered_json& j);
// The error body for `message`, with "trace_id" omitted when trace_id is empty.
std::string error_body(ErrorType type, std::string_view message, std::string_view trace_id);

// Content-Type: application/json.
void send_json(Context& ctx, int status, const nlohmann::json& j);
void send_json(Context& ctx, int status, const nlohmann::ordered_json& j);
void send_text(Context& ctx, int status, std::string body,
               std::string_view content_type = "text/plain; charset=utf-8");
// The error JSON with the type's status; trace_id is ctx.request_id().
void send_error(Context& ctx, ErrorType type, std::string_view message);
// The same with an explicit status (405 is VALIDATION_ERROR "Method not allowed", as in the
// original; 416 from static files).
void send_error(Context& ctx, int status, ErrorType type, std::string_view message);

}  // namespace mirror::web
