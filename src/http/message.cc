#include "http/message.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mirror::http {

std::string_view protocol_name(Protocol p) {
  switch (p) {
    case Protocol::kHttp11: return "HTTP/1.1";
    case Protocol::kHttp2: return "HTTP/2";
    case Protocol::kHttp3: return "HTTP/3";
  }
  return "?";
}

Method parse_method(std::string_view s) {
  if (s == "GET") return Method::kGet;
  if (s == "HEAD") return Method::kHead;
  if (s == "POST") return Method::kPost;
  if (s == "PUT") return Method::kPut;
  if (s == "DELETE") return Method::kDelete;
  if (s == "PATCH") return Method::kPatch;
  if (s == "OPTIONS") return Method::kOptions;
  if (s == "CONNECT") return Method::kConnect;
  if (s == "TRACE") return Method::kTrace;
  return Method::kOther;
}

std::string_view method_name(Method m) {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kHead: return "HEAD";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kDelete: return "DELETE";
    case Method::kPatch: return "PATCH";
    case Method::kOptions: return "OPTIONS";
    case Method::kConnect: return "CONNECT";
    case Method::kTrace: return "TRACE";
    case Method::kOther: return "OTHER";
  }
  return "OTHER";
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

bool Request::set_target(std::string_view t) {
  target.assign(t);
  if (t.empty() || t[0] != '/') return false;
  auto q = t.find('?');
  if (q == std::string_view::npos) {
    path.assign(t);
    query.clear();
  } else {
    path.assign(t.substr(0, q));
    query.assign(t.substr(q + 1));
  }
  return true;
}

OpenFile::~OpenFile() {
  if (fd >= 0) ::close(fd);
}

int64_t Response::content_length() const {
  if (std::holds_alternative<std::monostate>(body)) return 0;
  if (const auto* s = std::get_if<std::string>(&body)) return static_cast<int64_t>(s->size());
  if (const auto* f = std::get_if<FileBody>(&body)) return static_cast<int64_t>(f->length);
  return -1;
}

BodyReader::ReadResult BodyReader::read(std::span<uint8_t> out) {
  ReadResult r;
  if (std::holds_alternative<std::monostate>(*body_)) {
    r.eof = true;
  } else if (auto* s = std::get_if<std::string>(body_)) {
    size_t left = s->size() - consumed_;
    r.n = std::min(left, out.size());
    memcpy(out.data(), s->data() + consumed_, r.n);
    r.eof = (left == r.n);
  } else if (auto* f = std::get_if<FileBody>(body_)) {
    uint64_t left = f->length - consumed_;
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, out.size()));
    size_t got = 0;
    while (got < want) {
      ssize_t n = ::pread(f->file->fd, out.data() + got, want - got,
                          static_cast<off_t>(f->offset + consumed_ + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // file shrank or I/O error: end the body short (the length is a promise we
                          // can no longer keep; the protocol layer resets/closes on short eof)
      got += static_cast<size_t>(n);
    }
    r.n = got;
    r.eof = (got == left) || got < want;
  } else {
    auto& p = std::get<std::unique_ptr<BodyProducer>>(*body_);
    r = p->read(out);
  }
  consumed_ += r.n;
  return r;
}

}  // namespace mirror::http
