// Protocol-neutral request and response (DESIGN.md "One request, end to end").
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "http/headers.h"

namespace mirror::http {

enum class Protocol { kHttp11, kHttp2, kHttp3 };
std::string_view protocol_name(Protocol p);  // "HTTP/1.1", "HTTP/2", "HTTP/3"

enum class Method { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kConnect, kTrace, kOther };
Method parse_method(std::string_view s);
std::string_view method_name(Method m);

std::string_view reason_phrase(int status);

// A request as the application sees it, whatever protocol carried it.
struct Request {
  Method method = Method::kGet;
  std::string method_str;  // as received (kOther keeps the token here)
  std::string target;      // request-target as received: path + optional "?query"
  std::string path;        // percent-decoding NOT applied; no query
  std::string query;       // without '?'
  std::string authority;   // Host / :authority
  std::string scheme = "https";
  Headers headers;
  std::string body;        // complete request body (bounded by limits.max_body_size)
  Headers trailers;
  Protocol protocol = Protocol::kHttp11;
  std::string peer;        // "ip:port" of the client
  bool early_data = false; // arrived in QUIC 0-RTT / TLS early data

  Protocol proto() const { return protocol; }
  // Splits target into path and query. Returns false if the target is not origin-form.
  bool set_target(std::string_view t);
};

// An open file shared between response bodies (e.g. a cache) and closed when the last user goes.
struct OpenFile {
  int fd = -1;
  uint64_t size = 0;
  ~OpenFile();
};

// Byte range of a file, read with pread when the peer can take more.
struct FileBody {
  std::shared_ptr<OpenFile> file;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// A body produced over time (SSE, WebSocket, large generated bodies). The protocol session pulls;
// when read() returns Pending, the producer later calls Exchange::resume() to be pulled again.
class BodyProducer {
 public:
  struct ReadResult {
    size_t n = 0;
    bool eof = false;
    bool pending = false;  // nothing now; call Exchange::resume() when there is
  };
  virtual ~BodyProducer() = default;
  virtual ReadResult read(std::span<uint8_t> out) = 0;
  // Called if the exchange ends before eof (peer reset, connection closed).
  virtual void on_abort() {}
};

using Body = std::variant<std::monostate, std::string, FileBody, std::unique_ptr<BodyProducer>>;

struct Response {
  int status = 200;
  Headers headers;
  Body body;
  Headers trailers;
  // Length of the body when known in advance (-1 for producer bodies without Content-Length).
  int64_t content_length() const;
};

// Pulls bytes out of any Body kind (one implementation for h1, h2 and h3).
class BodyReader {
 public:
  using ReadResult = BodyProducer::ReadResult;
  explicit BodyReader(Body* body) : body_(body) {}
  ReadResult read(std::span<uint8_t> out);
  uint64_t consumed() const { return consumed_; }

 private:
  Body* body_;
  uint64_t consumed_ = 0;
};

}  // namespace mirror::http
