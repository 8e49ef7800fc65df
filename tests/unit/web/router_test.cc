#include "web/router.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "fake_exchange.h"
#include "web/url.h"

namespace mirror::web {
namespace {

using http::Method;
using Kind = RouteMatch::Kind;

HandlerFn noop() {
  return [](Context&) {};
}

std::string param(const RouteMatch& m, std::string_view name) {
  for (const auto& [k, v] : m.params) {
    if (k == name) return v;
  }
  return "<none>";
}

TEST(RouterTest, StaticBeatsParamBeatsWildcard) {
  Router r;
  r.get("/streams/stats", noop());
  r.get("/streams/{id}", noop());
  r.get("/streams/*", noop());

  RouteMatch s = r.match(Method::kGet, "/streams/stats");
  ASSERT_EQ(s.kind, Kind::kFound);
  EXPECT_EQ(s.pattern, "/streams/stats");
  EXPECT_TRUE(s.params.empty());

  RouteMatch p = r.match(Method::kGet, "/streams/abc");
  ASSERT_EQ(p.kind, Kind::kFound);
  EXPECT_EQ(p.pattern, "/streams/{id}");
  EXPECT_EQ(param(p, "id"), "abc");

  RouteMatch w = r.match(Method::kGet, "/streams/a/b/c");
  ASSERT_EQ(w.kind, Kind::kFound);
  EXPECT_EQ(w.pattern, "/streams/*");
  EXPECT_EQ(param(w, "*"), "a/b/c");
}

TEST(RouterTest, RegistrationOrderDoesNotChangePrecedence) {
  Router r;
  r.get("/streams/*", noop());
  r.get("/streams/{id}", noop());
  r.get("/streams/stats", noop());
  EXPECT_EQ(r.match(Method::kGet, "/streams/stats").pattern, "/streams/stats");
  EXPECT_EQ(r.match(Method::kGet, "/streams/x").pattern, "/streams/{id}");
  EXPECT_EQ(r.match(Method::kGet, "/streams/x/y").pattern, "/streams/*");
}

TEST(RouterTest, BacktracksFromADeadStaticBranch) {
  Router r;
  r.get("/a/b/c", noop());
  r.get("/a/{x}/d", noop());
  RouteMatch m = r.match(Method::kGet, "/a/b/d");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.pattern, "/a/{x}/d");
  EXPECT_EQ(param(m, "x"), "b");
  EXPECT_EQ(r.match(Method::kGet, "/a/b/c").pattern, "/a/b/c");
}

TEST(RouterTest, MultipleParams) {
  Router r;
  r.get("/api/v1/streams/{id}/tracks/{track}", noop());
  RouteMatch m = r.match(Method::kGet, "/api/v1/streams/s1/tracks/video");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(param(m, "id"), "s1");
  EXPECT_EQ(param(m, "track"), "video");
}

TEST(RouterTest, ParamsArePercentDecodedButDoNotSplitOnEncodedSlash) {
  Router r;
  r.get("/streams/{id}", noop());
  RouteMatch m = r.match(Method::kGet, "/streams/a%20b");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(param(m, "id"), "a b");

  RouteMatch slash = r.match(Method::kGet, "/streams/a%2Fb");
  ASSERT_EQ(slash.kind, Kind::kFound);
  EXPECT_EQ(param(slash, "id"), "a/b");

  EXPECT_EQ(r.match(Method::kGet, "/streams/a%zz").kind, Kind::kBadRequest);
  EXPECT_EQ(r.match(Method::kGet, "/streams/a%2").kind, Kind::kBadRequest);
}

TEST(RouterTest, WildcardValueStaysRaw) {
  Router r;
  r.get("/static/*", noop());
  RouteMatch m = r.match(Method::kGet, "/static/css/a%2Fb.css");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(param(m, "*"), "css/a%2Fb.css");
  RouteMatch empty = r.match(Method::kGet, "/static/");
  ASSERT_EQ(empty.kind, Kind::kFound);
  EXPECT_EQ(param(empty, "*"), "");
  EXPECT_EQ(r.match(Method::kGet, "/static").kind, Kind::kNotFound);
}

TEST(RouterTest, ParamNeedsANonEmptySegment) {
  Router r;
  r.get("/streams/{id}", noop());
  EXPECT_EQ(r.match(Method::kGet, "/streams/").kind, Kind::kNotFound);
  EXPECT_EQ(r.match(Method::kGet, "/streams").kind, Kind::kNotFound);
  EXPECT_EQ(r.match(Method::kGet, "/streams/a/b").kind, Kind::kNotFound);
}

TEST(RouterTest, TrailingSlashAndRootAreDistinct) {
  Router r;
  r.get("/health", noop());
  r.get("/", noop());
  EXPECT_EQ(r.match(Method::kGet, "/health").kind, Kind::kFound);
  EXPECT_EQ(r.match(Method::kGet, "/health/").kind, Kind::kNotFound);
  EXPECT_EQ(r.match(Method::kGet, "//health").kind, Kind::kNotFound);
  EXPECT_EQ(r.match(Method::kGet, "/a/../health").kind, Kind::kNotFound);
  EXPECT_EQ(r.match(Method::kGet, "/").pattern, "/");
  EXPECT_EQ(r.match(Method::kGet, "").kind, Kind::kNotFound);
  EXPECT_EQ(r.match(Method::kGet, "*").kind, Kind::kNotFound);
}

TEST(RouterTest, HeadIsServedByGetUnlessAHeadRouteExists) {
  Router r;
  int which = 0;
  r.get("/a", [&](Context&) { which = 1; });
  r.get("/b", [&](Context&) { which = 2; });
  r.head("/b", [&](Context&) { which = 3; });

  RouteMatch a = r.match(Method::kHead, "/a");
  ASSERT_EQ(a.kind, Kind::kFound);
  Context ctx(testing::FakeExchange::make("HEAD", "/a"));
  (*a.handler)(ctx);
  EXPECT_EQ(which, 1);
  RouteMatch b = r.match(Method::kHead, "/b");
  ASSERT_EQ(b.kind, Kind::kFound);
  (*b.handler)(ctx);
  EXPECT_EQ(which, 3);
}

TEST(RouterTest, MethodNotAllowedListsAllow) {
  Router r;
  r.get("/health", noop());
  RouteMatch m = r.match(Method::kPost, "/health");
  EXPECT_EQ(m.kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD, OPTIONS");

  r.post("/items", noop());
  r.del("/items", noop());
  RouteMatch items = r.match(Method::kGet, "/items");
  EXPECT_EQ(items.kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(items.allow, "POST, DELETE, OPTIONS");

  EXPECT_EQ(r.match(Method::kOther, "/health").kind, Kind::kMethodNotAllowed);
}

TEST(RouterTest, MethodDecidesBetweenOverlappingRoutes) {
  Router r;
  r.get("/streams/stats", noop());
  r.del("/streams/{id}", noop());
  // DELETE /streams/stats is not a 405: the less specific route takes it.
  RouteMatch d = r.match(Method::kDelete, "/streams/stats");
  ASSERT_EQ(d.kind, Kind::kFound);
  EXPECT_EQ(d.pattern, "/streams/{id}");
  EXPECT_EQ(param(d, "id"), "stats");
  // POST matches neither: Allow is the union over both routes.
  RouteMatch p = r.match(Method::kPost, "/streams/stats");
  EXPECT_EQ(p.kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(p.allow, "GET, HEAD, DELETE, OPTIONS");
}

TEST(RouterTest, OptionsIsAnsweredForKnownPaths) {
  Router r;
  r.get("/health", noop());
  r.put("/cfg", noop());
  r.options("/cfg", noop());

  RouteMatch h = r.match(Method::kOptions, "/health");
  EXPECT_EQ(h.kind, Kind::kOptions);
  EXPECT_EQ(h.allow, "GET, HEAD, OPTIONS");
  EXPECT_EQ(r.match(Method::kOptions, "/cfg").kind, Kind::kFound);
  EXPECT_EQ(r.match(Method::kOptions, "/nope").kind, Kind::kNotFound);
}

TEST(RouterTest, UnknownPathIsNotFound) {
  Router r;
  r.get("/health", noop());
  RouteMatch m = r.match(Method::kGet, "/nope");
  EXPECT_EQ(m.kind, Kind::kNotFound);
  EXPECT_TRUE(m.allow.empty());
  EXPECT_EQ(m.handler, nullptr);
}

TEST(RouterTest, GroupsPrefixRoutesAndStackMiddleware) {
  Router r;
  auto root_mw = std::make_shared<FnMiddleware>([](Context&, const Next& n) { n(); });
  auto api_mw = std::make_shared<FnMiddleware>([](Context&, const Next& n) { n(); });
  auto admin_mw = std::make_shared<FnMiddleware>([](Context&, const Next& n) { n(); });
  r.use(root_mw);
  Router& api = r.group("/api/v1/");
  api.use(api_mw);
  api.get("/streams/{id}", noop());
  Router& admin = api.group("/admin");
  admin.get("/reload", noop());
  admin.use(admin_mw);  // added after the route: still applies
  r.get("/health", noop());

  RouteMatch s = r.match(Method::kGet, "/api/v1/streams/x");
  ASSERT_EQ(s.kind, Kind::kFound);
  EXPECT_EQ(s.pattern, "/api/v1/streams/{id}");
  ASSERT_EQ(s.middleware.size(), 2u);
  EXPECT_EQ(s.middleware[0], root_mw.get());
  EXPECT_EQ(s.middleware[1], api_mw.get());

  RouteMatch a = r.match(Method::kGet, "/api/v1/admin/reload");
  ASSERT_EQ(a.kind, Kind::kFound);
  ASSERT_EQ(a.middleware.size(), 3u);
  EXPECT_EQ(a.middleware[0], root_mw.get());
  EXPECT_EQ(a.middleware[1], api_mw.get());
  EXPECT_EQ(a.middleware[2], admin_mw.get());

  RouteMatch h = r.match(Method::kGet, "/health");
  ASSERT_EQ(h.middleware.size(), 1u);
  EXPECT_EQ(h.middleware[0], root_mw.get());

  EXPECT_EQ(r.match(Method::kGet, "/streams/x").kind, Kind::kNotFound);
}

TEST(RouterTest, RegistrationMistakesThrow) {
  Router r;
  r.get("/a/{id}", noop());
  EXPECT_THROW(r.get("/a/{id}", noop()), std::invalid_argument);      // twice
  EXPECT_THROW(r.get("/a/{name}/x", noop()), std::invalid_argument);  // param name clash
  EXPECT_THROW(r.get("/b/*/c", noop()), std::invalid_argument);       // wildcard not last
  EXPECT_THROW(r.get("/b/x*", noop()), std::invalid_argument);
  EXPECT_THROW(r.get("/b/{}", noop()), std::invalid_argument);
  EXPECT_THROW(r.get("nope", noop()), std::invalid_argument);
  EXPECT_THROW(r.add(Method::kOther, "/c", noop()), std::invalid_argument);
  EXPECT_THROW(r.group("api"), std::invalid_argument);
  EXPECT_NO_THROW(r.post("/a/{id}", noop()));  // another method on the same route is fine
}

TEST(UrlTest, PercentDecode) {
  std::string out;
  EXPECT_TRUE(percent_decode("a%20b%2fc%2F", out));
  EXPECT_EQ(out, "a b/c/");
  EXPECT_TRUE(percent_decode("plain+text", out));
  EXPECT_EQ(out, "plain+text");
  EXPECT_TRUE(percent_decode("%00", out));
  EXPECT_EQ(out, std::string(1, '\0'));
  EXPECT_FALSE(percent_decode("%", out));
  EXPECT_FALSE(percent_decode("%4", out));
  EXPECT_FALSE(percent_decode("%g0", out));
}

}  // namespace
}  // namespace mirror::web
