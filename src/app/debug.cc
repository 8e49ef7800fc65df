#include "app/debug.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "web/response.h"

namespace mirror::app {
namespace {

// "chunk 0\n" ... "chunk n-1\n", one line per pull: a body of unknown length, produced over
// time, so every protocol's producer path (h1 chunked encoding, h2/h3 DATA) can be exercised.
class CountingProducer final : public http::BodyProducer {
 public:
  explicit CountingProducer(int n) : n_(n) {}
  ReadResult read(std::span<uint8_t> out) override {
    if (i_ >= n_) return {.n = 0, .eof = true};
    std::string line = "chunk " + std::to_string(i_) + "\n";
    if (line.size() > out.size()) return {.n = 0};
    memcpy(out.data(), line.data(), line.size());
    ++i_;
    return {.n = line.size(), .eof = i_ >= n_};
  }

 private:
  int n_;
  int i_ = 0;
};

int query_int(std::string_view query, std::string_view key, int fallback, int max) {
  for (size_t pos = 0; pos < query.size();) {
    size_t amp = query.find('&', pos);
    std::string_view kv = query.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
    if (kv.size() > key.size() && kv.substr(0, key.size()) == key && kv[key.size()] == '=') {
      int v = 0;
      auto digits = kv.substr(key.size() + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec == std::errc() && end == digits.data() + digits.size() && v >= 0) return std::min(v, max);
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return fallback;
}

void echo(web::Context& ctx) {
  auto& req = ctx.req();
  auto& res = ctx.res();
  res.status = 200;
  res.headers.set("content-type", req.headers.get_or("content-type", "application/octet-stream"));
  res.headers.set("x-echo-protocol", http::protocol_name(req.protocol));
  res.body = std::move(req.body);
  ctx.send();
}

}  // namespace

void register_debug_routes(web::Router& router, const DebugInfo& info) {
  // A Go map in the original: keys sorted, which nlohmann::json does too.
  nlohmann::json j;
  j["debug_enabled"] = true;
  j["ports"]["http"] = info.http_port;
  j["ports"]["http3"] = info.http3_port;
  j["protocols"]["http11"] = info.http11;
  j["protocols"]["http2"] = info.http2;
  j["protocols"]["http3"] = info.http3;
  router.get("/debug/info", [j = std::move(j)](web::Context& ctx) { web::send_json(ctx, 200, j); });
  // Test aids (only with debug_endpoints): echo a request body, stream a body of unknown length.
  router.post("/debug/echo", echo);
  router.put("/debug/echo", echo);
  router.get("/debug/stream", [](web::Context& ctx) {
    int n = query_int(ctx.req().query, "n", 10, 1'000'000);
    ctx.res().status = 200;
    ctx.res().headers.set("content-type", "text/plain; charset=utf-8");
    ctx.res().body = std::make_unique<CountingProducer>(n);
    ctx.send();
  });
}

}  // namespace mirror::app
