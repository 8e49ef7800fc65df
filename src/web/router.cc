#include "web/router.h"

#include <fmt/core.h>

#include <optional>
#include <stdexcept>

#include "web/url.h"

namespace mirror::web {
namespace {

using http::Method;

// Every method except kOther can have a route; the index is the enum value.
constexpr size_t kRoutableMethods = static_cast<size_t>(Method::kOther);
// Parameters per pattern; the search keeps them in a fixed array, so matching does not allocate
// until the winner is copied out.
constexpr size_t kMaxParams = 16;

size_t method_index(Method m) { return static_cast<size_t>(m); }
uint32_t method_bit(Method m) { return 1u << method_index(m); }

bool valid_param_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Splits "/a/b" into {"a","b"}; "/" into {""}; "/a/" into {"a",""} (a trailing slash is a segment,
// so "/health/" does not match "/health").
std::vector<std::string_view> split_segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 1;
  while (true) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(pos));
      return out;
    }
    out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
}

}  // namespace

struct Router::Node {
  struct Route {
    HandlerFn handler;
    const Router* owner = nullptr;  // whose middleware (and parents') runs for this route
  };

  std::vector<std::pair<std::string, std::unique_ptr<Node>>> statics;
  std::unique_ptr<Node> param;
  std::string param_name;  // of the `param` child
  std::unique_ptr<Node> wildcard;

  std::string pattern;  // set when a route ends here
  std::array<std::optional<Route>, kRoutableMethods> routes;
  uint32_t methods = 0;  // bit per method with a route

  const Node* find_static(std::string_view seg) const {
    for (const auto& [name, child] : statics) {
      if (name == seg) return child.get();
    }
    return nullptr;
  }

  const Route* route_for(Method m) const {
    if (m == Method::kOther) return nullptr;
    if (const auto& r = routes[method_index(m)]) return &*r;
    if (m == Method::kHead) {
      if (const auto& r = routes[method_index(Method::kGet)]) return &*r;
    }
    return nullptr;
  }
};

struct Router::Tree {
  Node root;
};

namespace {

using Node = Router::Node;

struct Search {
  Method method;
  std::string_view path;
  std::array<std::pair<std::string_view, std::string_view>, kMaxParams + 1> params;
  size_t nparams = 0;
  const Node* node = nullptr;
  const Node::Route* route = nullptr;
  uint32_t methods_on_path = 0;  // union over every route whose path matches
  bool path_known = false;
};

// A node where the whole path has been consumed: a hit if it serves the method; otherwise it only
// contributes its methods to the Allow list and the search goes on (a less specific route with
// the method may still match).
bool visit_end(const Node& n, Search& s) {
  if (n.methods == 0) return false;
  s.path_known = true;
  s.methods_on_path |= n.methods;
  if (const Node::Route* r = n.route_for(s.method)) {
    s.node = &n;
    s.route = r;
    return true;
  }
  return false;
}

// `pos` is where the next segment starts, or npos when the path is consumed.
bool walk(const Node& n, size_t pos, Search& s) {
  if (pos == std::string_view::npos) return visit_end(n, s);
  size_t slash = s.path.find('/', pos);
  std::string_view seg =
      s.path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
  size_t next = slash == std::string_view::npos ? std::string_view::npos : slash + 1;

  if (const Node* child = n.find_static(seg)) {
    if (walk(*child, next, s)) return true;
  }
  if (n.param && !seg.empty()) {
    s.params[s.nparams++] = {n.param_name, seg};
    if (walk(*n.param, next, s)) return true;
    --s.nparams;
  }
  if (n.wildcard) {
    s.params[s.nparams++] = {"*", s.path.substr(pos)};
    if (visit_end(*n.wildcard, s)) return true;
    --s.nparams;
  }
  return false;
}

std::string allow_list(uint32_t methods) {
  if (methods & method_bit(Method::kGet)) methods |= method_bit(Method::kHead);
  methods |= method_bit(Method::kOptions);
  std::string out;
  for (size_t i = 0; i < kRoutableMethods; ++i) {
    if (!(methods & (1u << i))) continue;
    if (!out.empty()) out += ", ";
    out += http::method_name(static_cast<Method>(i));
  }
  return out;
}

}  // namespace

Router::Router() : tree_(std::make_shared<Tree>()) {}
Router::Router(Router* parent, std::string prefix, std::shared_ptr<Tree> tree)
    : parent_(parent), prefix_(std::move(prefix)), tree_(std::move(tree)) {}
Router::~Router() = default;

Router& Router::use(std::shared_ptr<Middleware> mw) {
  middleware_.push_back(std::move(mw));
  return *this;
}

Router& Router::use(FnMiddleware::Fn fn) {
  return use(std::make_shared<FnMiddleware>(std::move(fn)));
}

Router& Router::group(std::string_view prefix) {
  if (!prefix.empty() && prefix.front() != '/') {
    throw std::invalid_argument(fmt::format("route group prefix must start with '/': {}", prefix));
  }
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  groups_.push_back(
      std::unique_ptr<Router>(new Router(this, prefix_ + std::string(prefix), tree_)));
  return *groups_.back();
}

Router& Router::add(Method method, std::string_view pattern_in, HandlerFn handler) {
  std::string pattern = prefix_ + std::string(pattern_in);
  auto fail = [&](std::string_view why) {
    throw std::invalid_argument(
        fmt::format("route {} {}: {}", http::method_name(method), pattern, why));
  };
  if (pattern_in.empty() || pattern_in.front() != '/') fail("pattern must start with '/'");
  if (method == Method::kOther) fail("method cannot be routed");
  if (!handler) fail("empty handler");

  std::vector<std::string_view> segs = split_segments(pattern);
  Node* n = &tree_->root;
  size_t nparams = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    std::string_view seg = segs[i];
    if (seg == "*") {
      if (i + 1 != segs.size()) fail("'*' must be the last segment");
      if (!n->wildcard) n->wildcard = std::make_unique<Node>();
      n = n->wildcard.get();
    } else if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      std::string_view name = seg.substr(1, seg.size() - 2);
      if (!valid_param_name(name)) fail("bad parameter name");
      if (++nparams > kMaxParams) fail("too many parameters");
      if (!n->param) {
        n->param = std::make_unique<Node>();
        n->param_name = std::string(name);
      } else if (n->param_name != name) {
        fail(fmt::format("parameter {{{}}} conflicts with {{{}}} at the same place", name,
                         n->param_name));
      }
      n = n->param.get();
    } else {
      if (seg.find_first_of("{}*") != std::string_view::npos)
        fail("'{', '}' or '*' inside a segment");
      Node* child = const_cast<Node*>(n->find_static(seg));
      if (!child) {
        n->statics.emplace_back(std::string(seg), std::make_unique<Node>());
        child = n->statics.back().second.get();
      }
      n = child;
    }
  }
  auto& slot = n->routes[method_index(method)];
  if (slot) fail("registered twice");
  slot = Node::Route{std::move(handler), this};
  n->methods |= method_bit(method);
  if (n->pattern.empty()) n->pattern = pattern;
  return *this;
}

RouteMatch Router::match(Method method, std::string_view path) const {
  RouteMatch m;
  if (path.empty() || path.front() != '/') return m;  // kNotFound

  Search s;
  s.method = method;
  s.path = path;
  bool hit = walk(tree_->root, 1, s);
  if (!hit) {
    if (!s.path_known) return m;
    m.kind = method == Method::kOptions ? RouteMatch::Kind::kOptions
                                        : RouteMatch::Kind::kMethodNotAllowed;
    m.allow = allow_list(s.methods_on_path);
    return m;
  }

  m.pattern = s.node->pattern;
  m.params.reserve(s.nparams);
  for (size_t i = 0; i < s.nparams; ++i) {
    auto [name, raw] = s.params[i];
    std::string value;
    if (name == "*") {
      value.assign(raw);
    } else if (!percent_decode(raw, value)) {
      m.kind = RouteMatch::Kind::kBadRequest;
      m.params.clear();
      return m;
    }
    m.params.emplace_back(std::string(name), std::move(value));
  }
  m.kind = RouteMatch::Kind::kFound;
  m.handler = &s.route->handler;
  size_t depth = 0;
  for (const Router* r = s.route->owner; r; r = r->parent_) depth += r->middleware_.size();
  m.middleware.resize(depth);
  // Fill from the innermost router backwards so the root's middleware ends up first.
  for (const Router* r = s.route->owner; r; r = r->parent_) {
    for (auto it = r->middleware_.rbegin(); it != r->middleware_.rend(); ++it) {
      m.middleware[--depth] = it->get();
    }
  }
  return m;
}

}  // namespace mirror::web
