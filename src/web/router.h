// Method + path -> handler, as a tree of path segments (STYLE.md §9): at every level static
// segments are tried before a {parameter}, and a parameter before a trailing `*` wildcard, with
// backtracking, so `/streams/stats` beats `/streams/{id}` and both beat `/streams/*`.
//
// Patterns: "/api/v1/streams/{id}" ({id} matches one non-empty segment; its value is
// percent-decoded), "/static/*" (matches everything after "/static/", kept raw as param "*" so a
// handler can see how it was encoded). Matching runs on the raw path: "%2F" never splits a
// segment, "/health/" is not "/health".
//
// Methods: HEAD is served by the GET handler unless a HEAD route exists; OPTIONS is answered for
// every known path (kOptions) unless an OPTIONS route exists; a known path without the method gives
// kMethodNotAllowed with the Allow list.
//
// Groups: group("/api/v1") returns a sub-router whose routes live under that prefix and whose
// middleware (use()) runs, after its parents', for those routes only.
//
// Routes are added at startup, before serving; match() is const and safe from many threads.
// Registration mistakes (bad pattern, duplicate route) throw std::invalid_argument.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.h"
#include "web/context.h"

namespace mirror::web {

struct RouteMatch {
  enum class Kind {
    kFound,             // handler is set
    kNotFound,          // no route has this path
    kMethodNotAllowed,  // the path exists, not with this method; see allow
    kOptions,           // OPTIONS on a known path without an OPTIONS route; see allow
    kBadRequest,        // a parameter has a malformed %-escape
  };
  Kind kind = Kind::kNotFound;
  const HandlerFn* handler = nullptr;
  std::string_view pattern;  // the route's pattern as registered (with group prefixes)
  std::vector<std::pair<std::string, std::string>> params;
  // Middleware of the route's router and its parent groups, outermost first.
  std::vector<Middleware*> middleware;
  std::string allow;  // "GET, HEAD, OPTIONS" for kMethodNotAllowed and kOptions
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Middleware for the routes of this router and of its groups (not for 404/405/OPTIONS: those
  // see only the pipeline's global middleware).
  Router& use(std::shared_ptr<Middleware> mw);
  Router& use(FnMiddleware::Fn fn);

  // A sub-router under `prefix` ("/api/v1"; nested groups concatenate). Owned by this router.
  Router& group(std::string_view prefix);

  Router& add(http::Method method, std::string_view pattern, HandlerFn handler);
  Router& get(std::string_view pattern, HandlerFn h) {
    return add(http::Method::kGet, pattern, std::move(h));
  }
  Router& head(std::string_view pattern, HandlerFn h) {
    return add(http::Method::kHead, pattern, std::move(h));
  }
  Router& post(std::string_view pattern, HandlerFn h) {
    return add(http::Method::kPost, pattern, std::move(h));
  }
  Router& put(std::string_view pattern, HandlerFn h) {
    return add(http::Method::kPut, pattern, std::move(h));
  }
  Router& patch(std::string_view pattern, HandlerFn h) {
    return add(http::Method::kPatch, pattern, std::move(h));
  }
  Router& del(std::string_view pattern, HandlerFn h) {
    return add(http::Method::kDelete, pattern, std::move(h));
  }
  Router& options(std::string_view pattern, HandlerFn h) {
    return add(http::Method::kOptions, pattern, std::move(h));
  }

  // Looks up a request (any router of the tree may be asked; the whole tree is searched).
  RouteMatch match(http::Method method, std::string_view path) const;

  struct Node;  // defined in router.cc

 private:
  struct Tree;
  Router(Router* parent, std::string prefix, std::shared_ptr<Tree> tree);

  Router* parent_ = nullptr;
  std::string prefix_;
  std::shared_ptr<Tree> tree_;  // shared by a root router and all its groups
  std::vector<std::shared_ptr<Middleware>> middleware_;
  std::vector<std::unique_ptr<Router>> groups_;
};

}  // namespace mirror::web
