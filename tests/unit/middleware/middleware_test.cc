#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "../web/fake_exchange.h"
#include "middleware/access_log.h"
#include "middleware/recovery.h"
#include "middleware/request_id.h"
#include "web/pipeline.h"
#include "web/response.h"

namespace mirror::middleware {
namespace {

using testing::FakeExchange;

// Captures log lines (message text only) for the duration of a test.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_pattern("%l %v");
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

// The order the server uses: recovery outermost, then request id, then the access log.
void install(web::Pipeline& p) {
  p.use(std::make_shared<Recovery>());
  p.use(std::make_shared<RequestId>());
  p.use(std::make_shared<AccessLog>());
}

TEST(RequestIdTest, EchoesASaneClientId) {
  web::Pipeline p;
  install(p);
  std::string seen;
  p.router().get("/x", [&](web::Context& ctx) {
    seen = ctx.request_id();
    web::send_text(ctx, 200, "ok");
  });
  auto ex = FakeExchange::make("GET", "/x");
  ex->header("x-request-id", "client-Req_1.2");
  p.handle(ex);
  EXPECT_EQ(seen, "client-Req_1.2");
  EXPECT_EQ(ex->header_value("x-request-id"), "client-Req_1.2");
}

TEST(RequestIdTest, GeneratesWhenMissingOrBad) {
  const std::regex uuid4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  const std::string bad[] = {"",          "has space", "semi;colon",
                             "new\nline", "é",         std::string(129, 'a')};
  for (const auto& value : bad) {
    web::Pipeline p;
    install(p);
    p.router().get("/x", [](web::Context& ctx) { web::send_text(ctx, 200, "ok"); });
    auto ex = FakeExchange::make("GET", "/x");
    if (!value.empty()) ex->header("x-request-id", value);
    p.handle(ex);
    std::string id = ex->header_value("x-request-id");
    EXPECT_TRUE(std::regex_match(id, uuid4)) << "for client value '" << value << "' got " << id;
  }
}

TEST(RequestIdTest, AcceptsExactly128Chars) {
  EXPECT_TRUE(is_sane_request_id(std::string(128, 'x')));
  EXPECT_FALSE(is_sane_request_id(std::string(129, 'x')));
  EXPECT_TRUE(is_sane_request_id("A-z_0.9"));
  EXPECT_FALSE(is_sane_request_id("a/b"));
}

TEST(RequestIdTest, GeneratedIdsAreDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.insert(generate_request_id());
  EXPECT_EQ(ids.size(), 10000u);
}

TEST(RequestIdTest, NotFoundCarriesTheIdAsTraceId) {
  web::Pipeline p;
  install(p);
  auto ex = FakeExchange::make("GET", "/missing");
  ex->header("x-request-id", "abc");
  p.handle(ex);
  EXPECT_EQ(ex->status(), 404);
  EXPECT_EQ(ex->header_value("x-request-id"), "abc");
  EXPECT_EQ(ex->body(),
            "{\"error\":{\"type\":\"NOT_FOUND\",\"message\":\"endpoint not found\"},"
            "\"trace_id\":\"abc\"}\n");
}

TEST(RecoveryTest, ThrowingHandlerGets500AndTheNextRequestIsServed) {
  LogCapture logs;
  web::Pipeline p;
  install(p);
  p.router().get("/boom", [](web::Context&) -> void { throw std::runtime_error("kaboom"); });
  p.router().get("/ok", [](web::Context& ctx) { web::send_text(ctx, 200, "fine"); });

  auto ex = FakeExchange::make("GET", "/boom");
  ex->header("x-request-id", "r1");
  EXPECT_NO_THROW(p.handle(ex));
  EXPECT_EQ(ex->status(), 500);
  EXPECT_EQ(ex->header_value("content-type"), "application/json");
  EXPECT_EQ(ex->header_value("x-request-id"), "r1");
  EXPECT_EQ(ex->body(),
            "{\"error\":{\"type\":\"INTERNAL_ERROR\",\"message\":\"An unexpected error occurred\"},"
            "\"trace_id\":\"r1\"}\n");
  std::string text = logs.text();
  EXPECT_NE(text.find("exception in request handler"), std::string::npos) << text;
  EXPECT_NE(text.find("error=kaboom"), std::string::npos) << text;
  EXPECT_NE(text.find("request_id=r1"), std::string::npos) << text;

  auto ex2 = FakeExchange::make("GET", "/ok");
  p.handle(ex2);
  EXPECT_EQ(ex2->status(), 200);
  EXPECT_EQ(ex2->body(), "fine");
}

TEST(RecoveryTest, NonStdExceptionAndAlreadySentResponse) {
  LogCapture logs;
  web::Pipeline p;
  install(p);
  p.router().get("/int", [](web::Context&) -> void { throw 42; });
  p.router().get("/late", [](web::Context& ctx) {
    web::send_text(ctx, 200, "sent first");
    throw std::logic_error("after send");
  });
  auto ex = FakeExchange::make("GET", "/int");
  p.handle(ex);
  EXPECT_EQ(ex->status(), 500);

  auto late = FakeExchange::make("GET", "/late");
  p.handle(late);
  EXPECT_EQ(late->status(), 200);  // the response that went out stays
  EXPECT_EQ(late->respond_calls, 1);
  EXPECT_NE(logs.text().find("after send"), std::string::npos);
}

TEST(RecoveryTest, ThrowingBeforeSendHookStillGets500) {
  web::Pipeline p;
  install(p);
  p.use([](web::Context& ctx, const web::Next& next) {
    ctx.before_send([](web::Context&) { throw std::runtime_error("hook"); });
    next();
  });
  p.router().get("/x", [](web::Context& ctx) { web::send_text(ctx, 200, "ok"); });
  auto ex = FakeExchange::make("GET", "/x");
  p.handle(ex);
  EXPECT_EQ(ex->status(), 500);
  EXPECT_EQ(ex->respond_calls, 1);
}

TEST(AccessLogTest, OneLineAtCompletionWithTheFields) {
  LogCapture logs;
  web::Pipeline p;
  install(p);
  p.router().get("/health", [](web::Context& ctx) { web::send_text(ctx, 200, "12345"); });
  auto ex = FakeExchange::make("GET", "/health?x=1");
  ex->auto_complete = false;
  ex->header("x-request-id", "rid-9").header("user-agent", "curl/7.88.1");
  ex->request().protocol = http::Protocol::kHttp3;
  p.handle(ex);
  EXPECT_EQ(logs.text().find("request method="), std::string::npos);  // not before the end
  ex->end();
  std::string line = logs.text();
  EXPECT_NE(line.find("info request method=GET path=/health status=200 bytes=5 duration_ms="),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("protocol=HTTP/3 peer=127.0.0.1:40000 request_id=rid-9 "
                      "user_agent=curl/7.88.1 aborted=false"),
            std::string::npos)
      << line;
}

TEST(AccessLogTest, LogsNotFoundAndAbortedRequests) {
  LogCapture logs;
  web::Pipeline p;
  install(p);
  auto ex = FakeExchange::make("GET", "/nope");
  p.handle(ex);
  EXPECT_NE(logs.text().find("path=/nope status=404"), std::string::npos) << logs.text();

  p.router().get("/slow", [](web::Context& ctx) { ctx.defer(); });
  auto slow = FakeExchange::make("GET", "/slow");
  p.handle(slow);
  slow->end(/*aborted=*/true);
  EXPECT_NE(logs.text().find("path=/slow status=0 bytes=0"), std::string::npos) << logs.text();
  EXPECT_NE(logs.text().find("aborted=true"), std::string::npos);
}

}  // namespace
}  // namespace mirror::middleware
