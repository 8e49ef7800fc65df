#include "web/response.h"

#include <gtest/gtest.h>

#include "fake_exchange.h"

namespace mirror::web {
namespace {

using testing::FakeExchange;

TEST(ResponseTest, ErrorBodyExactBytes) {
  EXPECT_EQ(error_body(ErrorType::kNotFound, "endpoint not found", "abc-123"),
            "{\"error\":{\"type\":\"NOT_FOUND\",\"message\":\"endpoint not found\"},"
            "\"trace_id\":\"abc-123\"}\n");
  EXPECT_EQ(error_body(ErrorType::kNotFound, "endpoint not found", ""),
            "{\"error\":{\"type\":\"NOT_FOUND\",\"message\":\"endpoint not found\"}}\n");
  EXPECT_EQ(error_body(ErrorType::kValidation, "say \"hi\"\n", ""),
            "{\"error\":{\"type\":\"VALIDATION_ERROR\",\"message\":\"say \\\"hi\\\"\\n\"}}\n");
}

TEST(ResponseTest, ErrorTypesMapToStatuses) {
  struct Case {
    ErrorType type;
    const char* name;
    int status;
  };
  const Case cases[] = {
      {ErrorType::kValidation, "VALIDATION_ERROR", 400},
      {ErrorType::kUnauthorized, "UNAUTHORIZED", 401},
      {ErrorType::kForbidden, "FORBIDDEN", 403},
      {ErrorType::kNotFound, "NOT_FOUND", 404},
      {ErrorType::kTimeout, "TIMEOUT", 408},
      {ErrorType::kConflict, "CONFLICT", 409},
      {ErrorType::kRateLimit, "RATE_LIMIT", 429},
      {ErrorType::kInternal, "INTERNAL_ERROR", 500},
      {ErrorType::kServiceDown, "SERVICE_DOWN", 503},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_type_name(c.type), c.name);
    EXPECT_EQ(error_type_status(c.type), c.status) << c.name;
  }
}

TEST(ResponseTest, SendErrorUsesRequestIdAndKeepsMiddlewareHeaders) {
  auto ex = FakeExchange::make("GET", "/x");
  Context ctx(ex);
  ctx.set_request_id("rid");
  ctx.res().headers.set("x-request-id", "rid");
  send_error(ctx, ErrorType::kRateLimit, "slow down");
  EXPECT_EQ(ex->status(), 429);
  EXPECT_EQ(ex->header_value("content-type"), "application/json");
  EXPECT_EQ(ex->header_value("x-request-id"), "rid");
  EXPECT_EQ(
      ex->body(),
      "{\"error\":{\"type\":\"RATE_LIMIT\",\"message\":\"slow down\"},\"trace_id\":\"rid\"}\n");
}

TEST(ResponseTest, SendJsonAndText) {
  auto ex = FakeExchange::make("GET", "/x");
  Context ctx(ex);
  nlohmann::ordered_json j;
  j["b"] = 1;
  j["a"] = "x";
  send_json(ctx, 201, j);
  EXPECT_EQ(ex->status(), 201);
  EXPECT_EQ(ex->header_value("content-type"), "application/json");
  EXPECT_EQ(ex->body(), "{\"b\":1,\"a\":\"x\"}\n");

  auto ex2 = FakeExchange::make("GET", "/y");
  Context ctx2(ex2);
  send_text(ctx2, 200, "hello");
  EXPECT_EQ(ex2->header_value("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(ex2->body(), "hello");
}

TEST(ResponseTest, InvalidUtf8DoesNotThrow) {
  auto ex = FakeExchange::make("GET", "/x");
  Context ctx(ex);
  EXPECT_NO_THROW(send_error(ctx, ErrorType::kNotFound, std::string("bad \xff byte")));
  EXPECT_EQ(ex->status(), 404);
  EXPECT_NE(ex->body().find("bad \xEF\xBF\xBD byte"), std::string::npos);
}

}  // namespace
}  // namespace mirror::web
