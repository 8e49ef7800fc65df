#include "app/static_files.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string_view>
#include <utility>

#include "app/conditional.h"
#include "app/mime_types.h"
#include "app/static_path.h"
#include "base/clock.h"
#include "base/log.h"
#include "web/response.h"

namespace mirror::app {
namespace {

using SystemClock = std::chrono::system_clock;

// What the validators and headers are computed from.
struct FileInfo {
  uint64_t size = 0;
  uint64_t mtime_ns = 0;
  uint64_t inode = 0;
  SystemClock::time_point mtime;  // whole seconds (HTTP dates have no fractions)
};

FileInfo describe(const struct stat& st) {
  FileInfo f;
  f.size = static_cast<uint64_t>(st.st_size);
  f.mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000u +
               static_cast<uint64_t>(st.st_mtim.tv_nsec);
  f.inode = static_cast<uint64_t>(st.st_ino);
  f.mtime = SystemClock::time_point(std::chrono::seconds(st.st_mtim.tv_sec));
  return f;
}

// Strong: changes whenever the bytes could have (size, nanosecond mtime, or a replaced file).
std::string make_etag(const FileInfo& f) {
  return fmt::format("\"{:x}-{:x}-{:x}\"", f.size, f.mtime_ns, f.inode);
}

// §13.2.2: If-None-Match decides when present; otherwise If-Modified-Since.
bool not_modified(const http::Headers& h, const std::string& etag, const FileInfo& f) {
  if (h.has("if-none-match")) return if_none_match_matches(h.joined("if-none-match"), etag);
  if (const std::string* ims = h.get("if-modified-since")) {
    SystemClock::time_point since;
    if (parse_http_date(*ims, since)) return f.mtime <= since;
  }
  return false;
}

class StaticHandler {
 public:
  explicit StaticHandler(StaticRoot root) : root_(std::move(root)) {}

  void operator()(web::Context& ctx) const {
    std::optional<std::string> relative = sanitize_static_path(ctx.param("*"));
    if (!relative) return web::send_error(ctx, web::ErrorType::kNotFound, "file not found");

    Result<OpenedFile> file = root_.open_file(*relative);
    if (!file) {
      if (file.error().code == "not_found") {
        return web::send_error(ctx, web::ErrorType::kNotFound, "file not found");
      }
      log::event(spdlog::level::err, "static file open failed",
                 {{"error", std::string_view(file.error().message)},
                  {"request_id", std::string_view(ctx.request_id())}});
      return web::send_error(ctx, web::ErrorType::kInternal, "An unexpected error occurred");
    }
    serve(ctx, std::move(file->fd), describe(file->st), *relative);
  }

 private:
  static void serve(web::Context& ctx, UniqueFd fd, const FileInfo& f, const std::string& path) {
    const http::Headers& req = ctx.req().headers;
    http::Response& res = ctx.res();
    std::string etag = make_etag(f);
    res.headers.set("etag", etag);
    res.headers.set("last-modified", http_date(f.mtime));

    if (not_modified(req, etag, f)) {
      res.status = 304;
      ctx.send();
      return;
    }

    res.headers.set("accept-ranges", "bytes");
    RangeRequest range;
    if (const std::string* r = req.get("range")) {
      const std::string* if_range = req.get("if-range");
      if (!if_range || if_range_matches(*if_range, etag, f.mtime)) range = parse_range(*r, f.size);
    }
    if (range.kind == RangeRequest::Kind::kUnsatisfiable) {
      res.headers.set("content-range", fmt::format("bytes */{}", f.size));
      return web::send_error(ctx, 416, web::ErrorType::kValidation, "Range not satisfiable");
    }

    auto file = std::make_shared<http::OpenFile>();
    file->size = f.size;
    file->fd = fd.release();
    http::FileBody body{std::move(file), 0, f.size};
    res.status = 200;
    if (range.kind == RangeRequest::Kind::kPartial) {
      res.status = 206;
      body.offset = range.offset;
      body.length = range.length;
      res.headers.set("content-range", fmt::format("bytes {}-{}/{}", range.offset,
                                                   range.offset + range.length - 1, f.size));
    }
    res.headers.set("content-type", content_type_for(path));
    res.body = std::move(body);
    ctx.send();
  }

  StaticRoot root_;
};

}  // namespace

Status register_static_routes(web::Router& router, const StaticOptions& options) {
  Result<StaticRoot> root = StaticRoot::open(options.root, options.allow_openat2);
  if (!root) return root.error();
  std::string prefix = options.prefix;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  auto handler = std::make_shared<const StaticHandler>(std::move(root).value());
  router.get(prefix + "/*", [handler](web::Context& ctx) { (*handler)(ctx); });
  return {};
}

}  // namespace mirror::app
