#include "web/pipeline.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fake_exchange.h"
#include "web/response.h"

namespace mirror::web {
namespace {

using testing::FakeExchange;

// Middleware that records its name on the way in and out.
std::shared_ptr<Middleware> tracer(std::vector<std::string>& trace, std::string name) {
  return std::make_shared<FnMiddleware>([&trace, name](Context&, const Next& next) {
    trace.push_back(name + ">");
    next();
    trace.push_back("<" + name);
  });
}

TEST(PipelineTest, RunsGlobalThenRouteMiddlewareThenHandler) {
  std::vector<std::string> trace;
  Pipeline p;
  p.use(tracer(trace, "g1")).use(tracer(trace, "g2"));
  p.router().use(tracer(trace, "root"));
  Router& api = p.router().group("/api");
  api.use(tracer(trace, "api"));
  api.get("/x/{id}", [&](Context& ctx) {
    trace.push_back("handler:" + std::string(ctx.param("id")) + ":" + ctx.route_pattern());
    send_text(ctx, 200, "ok");
  });

  auto ex = FakeExchange::make("GET", "/api/x/42?q=1");
  p.handle(ex);
  EXPECT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->body(), "ok");
  EXPECT_EQ(trace,
            (std::vector<std::string>{"g1>", "g2>", "root>", "api>", "handler:42:/api/x/{id}",
                                      "<api", "<root", "<g2", "<g1"}));
}

TEST(PipelineTest, GlobalMiddlewareAlsoRunsForNotFound) {
  std::vector<std::string> trace;
  Pipeline p;
  p.use(tracer(trace, "g"));
  p.router().use(tracer(trace, "route"));
  p.router().get("/health", [](Context& ctx) { send_text(ctx, 200, "ok"); });
  p.use([](Context& ctx, const Next& next) {
    ctx.set_request_id("rid-1");
    next();
  });

  auto ex = FakeExchange::make("GET", "/nope");
  p.handle(ex);
  EXPECT_EQ(ex->status(), 404);
  EXPECT_EQ(ex->header_value("content-type"), "application/json");
  EXPECT_EQ(ex->body(),
            "{\"error\":{\"type\":\"NOT_FOUND\",\"message\":\"endpoint not found\"},"
            "\"trace_id\":\"rid-1\"}\n");
  EXPECT_EQ(trace, (std::vector<std::string>{"g>", "<g"}));  // route middleware did not run
}

TEST(PipelineTest, MethodNotAllowedHasAllowAndValidationError) {
  Pipeline p;
  p.router().get("/health", [](Context& ctx) { send_text(ctx, 200, "ok"); });
  auto ex = FakeExchange::make("DELETE", "/health");
  p.handle(ex);
  EXPECT_EQ(ex->status(), 405);
  EXPECT_EQ(ex->header_value("allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(ex->body(),
            "{\"error\":{\"type\":\"VALIDATION_ERROR\",\"message\":\"Method not allowed\"}}\n");
}

TEST(PipelineTest, OptionsGets204WithAllowAndMiddlewareCanDecorateIt) {
  Pipeline p;
  // Stand-in for the future CORS middleware: adds headers just before the head goes out.
  p.use([](Context& ctx, const Next& next) {
    ctx.before_send([](Context& c) { c.res().headers.set("access-control-allow-origin", "*"); });
    next();
  });
  p.router().get("/health", [](Context& ctx) { send_text(ctx, 200, "ok"); });
  p.router().post("/health", [](Context& ctx) { send_text(ctx, 200, "ok"); });
  auto ex = FakeExchange::make("OPTIONS", "/health");
  p.handle(ex);
  EXPECT_EQ(ex->status(), 204);
  EXPECT_EQ(ex->header_value("allow"), "GET, HEAD, POST, OPTIONS");
  EXPECT_EQ(ex->header_value("access-control-allow-origin"), "*");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(ex->response->body));
}

TEST(PipelineTest, HeadRunsTheGetHandler) {
  Pipeline p;
  std::string seen_method;
  p.router().get("/version", [&](Context& ctx) {
    seen_method = std::string(http::method_name(ctx.req().method));
    send_text(ctx, 200, "v1");
  });
  auto ex = FakeExchange::make("HEAD", "/version");
  p.handle(ex);
  EXPECT_EQ(ex->status(), 200);
  EXPECT_EQ(seen_method, "HEAD");
  // The body stays in the response so the protocol can announce its length; it drops the bytes.
  EXPECT_EQ(ex->body(), "v1");
}

TEST(PipelineTest, MalformedParamIs400) {
  Pipeline p;
  p.router().get("/s/{id}", [](Context& ctx) { send_text(ctx, 200, "ok"); });
  auto ex = FakeExchange::make("GET", "/s/%zz");
  p.handle(ex);
  EXPECT_EQ(ex->status(), 400);
  EXPECT_NE(ex->body().find("VALIDATION_ERROR"), std::string::npos);
}

TEST(PipelineTest, HandlerThatForgetsToSendGets500) {
  Pipeline p;
  p.router().get("/bug", [](Context&) {});
  auto ex = FakeExchange::make("GET", "/bug");
  p.handle(ex);
  EXPECT_EQ(ex->status(), 500);
  EXPECT_EQ(
      ex->body(),
      "{\"error\":{\"type\":\"INTERNAL_ERROR\",\"message\":\"An unexpected error occurred\"}}\n");
}

TEST(PipelineTest, DeferredHandlerAnswersLater) {
  Pipeline p;
  std::shared_ptr<Context> saved;
  std::vector<int> finished;
  p.use([&](Context& ctx, const Next& next) {
    ctx.on_finish([&](Context&, const http::Completion& c) { finished.push_back(c.status); });
    next();
  });
  p.router().get("/slow", [&](Context& ctx) {
    ctx.defer();
    saved = ctx.shared_from_this();
  });
  auto ex = FakeExchange::make("GET", "/slow");
  p.handle(ex);
  EXPECT_FALSE(ex->response.has_value());
  EXPECT_TRUE(finished.empty());
  ASSERT_TRUE(saved);

  saved->res().headers.set("x-late", "yes");
  send_text(*saved, 202, "done");
  EXPECT_EQ(ex->status(), 202);
  EXPECT_EQ(ex->header_value("x-late"), "yes");
  EXPECT_EQ(finished, std::vector<int>{202});
  saved->send();  // idempotent
  EXPECT_EQ(ex->respond_calls, 1);
}

TEST(PipelineTest, ExchangeKeepsContextAliveUntilCompletion) {
  Pipeline p;
  std::weak_ptr<Context> weak;
  p.router().get("/x", [&](Context& ctx) {
    weak = ctx.shared_from_this();
    send_text(ctx, 200, "ok");
  });
  auto ex = FakeExchange::make("GET", "/x");
  ex->auto_complete = false;  // e.g. a large body still being written
  p.handle(ex);
  EXPECT_FALSE(weak.expired());
  ex->end();
  EXPECT_TRUE(weak.expired());
}

TEST(PipelineTest, OnFinishSeesAbort) {
  Pipeline p;
  bool aborted = false;
  std::shared_ptr<Context> saved;
  p.router().get("/x", [&](Context& ctx) {
    ctx.on_finish([&](Context&, const http::Completion& c) { aborted = c.aborted; });
    ctx.defer();
    saved = ctx.shared_from_this();
  });
  auto ex = FakeExchange::make("GET", "/x");
  p.handle(ex);
  ex->closed_flag = true;
  ex->end(/*aborted=*/true);
  EXPECT_TRUE(aborted);
  EXPECT_TRUE(saved->closed());
}

TEST(PipelineTest, MiddlewareMayShortCircuit) {
  Pipeline p;
  bool handler_ran = false;
  p.use([](Context& ctx, const Next&) { send_error(ctx, ErrorType::kUnauthorized, "no"); });
  p.router().get("/x", [&](Context& ctx) {
    handler_ran = true;
    send_text(ctx, 200, "ok");
  });
  auto ex = FakeExchange::make("GET", "/x");
  p.handle(ex);
  EXPECT_EQ(ex->status(), 401);
  EXPECT_FALSE(handler_ran);
}

TEST(ContextTest, BeforeSendHooksRunOutermostLastAndOnlyOnce) {
  auto ex = FakeExchange::make("GET", "/");
  auto ctx = std::make_shared<Context>(ex);
  std::vector<std::string> order;
  ctx->before_send([&](Context& c) {
    order.push_back("outer");
    c.res().headers.set("x-who", "outer");
  });
  ctx->before_send([&](Context& c) {
    order.push_back("inner");
    c.res().headers.set("x-who", "inner");
  });
  ctx->res().status = 201;
  ctx->send();
  ctx->send();
  EXPECT_EQ(order, (std::vector<std::string>{"inner", "outer"}));
  EXPECT_EQ(ex->header_value("x-who"), "outer");
  EXPECT_EQ(ctx->sent_status(), 201);
  EXPECT_EQ(ex->respond_calls, 1);
}

TEST(ContextTest, ParamsAndValues) {
  Context ctx(FakeExchange::make("GET", "/"));
  EXPECT_EQ(ctx.param("id"), "");
  ctx.set_param("id", "a");
  ctx.set_param("id", "b");
  EXPECT_EQ(ctx.param("id"), "b");
  EXPECT_EQ(ctx.value("user"), nullptr);
  ctx.set_value("user", "alice");
  ASSERT_NE(ctx.value("user"), nullptr);
  EXPECT_EQ(*ctx.value("user"), "alice");
}

}  // namespace
}  // namespace mirror::web
