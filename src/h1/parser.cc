#include "h1/parser.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace mirror::h1 {
namespace {

// A chunk-size line is "hex[;ext...]"; nothing legitimate needs more than this.
constexpr size_t kMaxChunkSizeLine = 1024;
// Chunk extensions are tolerated but cost memory and CPU without carrying anything we use: cap
// their total per message so a body of 1-byte chunks cannot smuggle megabytes of them.
constexpr size_t kMaxChunkExtensionBytes = 16 * 1024;
// Empty lines tolerated before a request line (RFC 9112 §2.2: after a body some clients send CRLF).
constexpr size_t kMaxBlankBytes = 64;

enum class LineStatus { kLine, kPartial, kBareLf, kBareCr };

struct Line {
  LineStatus status = LineStatus::kPartial;
  std::string_view text;  // without the CRLF
  size_t consumed = 0;    // including the CRLF
};

// Finds the CRLF-terminated line at the front of `in`. LF without CR and CR without LF are errors
// (different parsers disagreeing on line ends is a classic smuggling vector).
Line next_line(std::string_view in) {
  size_t lf = in.find('\n');
  if (lf == std::string_view::npos) {
    size_t cr = in.find('\r');
    // A CR is fine only as the very last byte seen so far (its LF may still come).
    if (cr != std::string_view::npos && cr + 1 < in.size()) return {LineStatus::kBareCr};
    return {LineStatus::kPartial};
  }
  if (lf == 0 || in[lf - 1] != '\r') return {LineStatus::kBareLf};
  std::string_view text = in.substr(0, lf - 1);
  if (text.find('\r') != std::string_view::npos) return {LineStatus::kBareCr};
  return {LineStatus::kLine, text, lf + 1};
}

bool is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// tchar from RFC 9110 §5.6.2.
bool is_tchar(unsigned char c) {
  if (is_alnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

bool is_ows(char c) { return c == ' ' || c == '\t'; }

// field-vchar / SP / HTAB / obs-text: everything except controls and DEL.
bool is_field_value_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

// Visible ASCII without '#' (a fragment never belongs in a request-target).
bool is_target_char(unsigned char c) { return c > 0x20 && c < 0x7f && c != '#'; }

// reg-name / IP-literal / port characters of an authority (no userinfo).
bool is_authority_char(unsigned char c) {
  if (is_alnum(c)) return true;
  switch (c) {
    case '-': case '.': case '_': case '~': case '!': case '$': case '&': case '\'': case '(':
    case ')': case '*': case '+': case ',': case ';': case '=': case ':': case '[': case ']':
    case '%':
      return true;
    default:
      return false;
  }
}

bool is_authority(std::string_view s) {
  for (unsigned char c : s) {
    if (!is_authority_char(c)) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && http::iequals(s.substr(0, prefix.size()), prefix);
}

// 1*DIGIT, leading zeros allowed (the grammar permits them; the value is read as decimal), at most
// INT64_MAX. Signs, spaces, hex and lists are rejected.
bool parse_content_length(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (kMax - digit) / 10) return false;
    v = v * 10 + digit;
  }
  out = v;
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Calls fn(element) for each comma-separated list element, trimmed. Stops when fn returns false.
template <typename Fn>
void for_each_list_element(std::string_view list, Fn&& fn) {
  while (true) {
    size_t comma = list.find(',');
    if (!fn(trim_ows(list.substr(0, comma)))) return;
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

// Transfer-Encoding: only "chunked" as the final (and only) coding is accepted. Returns 0 when it
// is, else the status: 400 if chunked is missing from the end or the list is malformed (the body
// length would be ambiguous), 501 for codings we do not implement.
int check_transfer_encoding(std::string_view list, std::string& message) {
  size_t count = 0;
  size_t chunked_at = 0;
  bool chunked_seen = false;
  bool unknown = false;
  bool malformed = false;
  for_each_list_element(list, [&](std::string_view e) {
    std::string_view name = trim_ows(e.substr(0, e.find(';')));
    bool has_params = e.find(';') != std::string_view::npos;
    if (!is_token(name)) {
      malformed = true;
      return false;
    }
    if (http::iequals(name, "chunked")) {
      if (chunked_seen || has_params) malformed = true;
      chunked_seen = true;
      chunked_at = count;
    } else {
      unknown = true;
    }
    ++count;
    return !malformed;
  });
  if (malformed) {
    message = "invalid Transfer-Encoding";
    return 400;
  }
  if (chunked_seen && chunked_at + 1 != count) {
    message = "chunked must be the final transfer coding";
    return 400;
  }
  if (unknown) {
    message = "unsupported transfer coding (only chunked is implemented)";
    return 501;
  }
  return 0;
}

}  // namespace

bool list_has_token(std::string_view list, std::string_view token) {
  bool found = false;
  for_each_list_element(list, [&](std::string_view e) {
    found = http::iequals(e, token);
    return !found;
  });
  return found;
}

RequestParser::Step RequestParser::parse(std::string_view in) {
  size_t used = 0;
  while (true) {
    std::string_view rest = in.substr(used);
    Step s;
    switch (state_) {
      case State::kRequestLine: s = parse_request_line(rest); break;
      case State::kHeaders: s = parse_field_lines(rest, false); break;
      case State::kBodyLength: s = body_piece(rest); break;
      case State::kChunkSize: s = parse_chunk_size(rest); break;
      case State::kChunkData: s = body_piece(rest); break;
      case State::kChunkDataEnd: s = parse_chunk_data_end(rest); break;
      case State::kTrailers: s = parse_field_lines(rest, true); break;
      case State::kDone: s = finish_message(); break;
      case State::kError: return {Event::kError, used};
    }
    used += s.consumed;
    // A step that consumed bytes without an event moved to a new line or state: keep going.
    if (s.event != Event::kNeedMore || s.consumed == 0) {
      s.consumed = used;
      return s;
    }
  }
}

void RequestParser::reset() {
  state_ = State::kRequestLine;
  head_ = RequestHead{};
  trailers_.clear();
  error_ = ParseError{};
  target_authority_.clear();
  absolute_form_ = false;
  skipped_blank_bytes_ = 0;
  field_bytes_ = 0;
  field_count_ = 0;
  body_bytes_ = 0;
  remaining_ = 0;
  chunk_ext_bytes_ = 0;
}

bool RequestParser::in_body() const {
  switch (state_) {
    case State::kBodyLength:
    case State::kChunkSize:
    case State::kChunkData:
    case State::kChunkDataEnd:
    case State::kTrailers:
      return true;
    default:
      return false;
  }
}

RequestParser::Step RequestParser::fail(int status, std::string message) {
  state_ = State::kError;
  error_ = ParseError{status, std::move(message)};
  return {Event::kError, 0};
}

RequestParser::Step RequestParser::parse_request_line(std::string_view in) {
  size_t used = 0;
  while (true) {
    std::string_view rest = in.substr(used);
    Line line = next_line(rest);
    switch (line.status) {
      case LineStatus::kPartial: {
        // Reject early what can never become a request line (e.g. a TLS ClientHello on a
        // plaintext port) instead of buffering up to the limit.
        std::string_view method = rest.substr(0, rest.find_first_of(" \r"));
        if (!method.empty() && !is_token(method)) {
          return fail(400, "invalid character in method");
        }
        if (rest.size() > limits_.max_request_line + 1) return fail(414, "request line too long");
        return {Event::kNeedMore, used};
      }
      case LineStatus::kBareLf: return fail(400, "bare LF line ending (CRLF required)");
      case LineStatus::kBareCr: return fail(400, "bare CR in request line");
      case LineStatus::kLine: break;
    }
    used += line.consumed;
    if (line.text.empty()) {
      skipped_blank_bytes_ += line.consumed;
      if (skipped_blank_bytes_ > kMaxBlankBytes) {
        return fail(400, "too many empty lines before the request line");
      }
      continue;
    }
    head_ = RequestHead{};
    trailers_.clear();
    target_authority_.clear();
    absolute_form_ = false;
    field_bytes_ = 0;
    field_count_ = 0;
    body_bytes_ = 0;
    remaining_ = 0;
    chunk_ext_bytes_ = 0;
    Step s = accept_request_line(line.text);
    if (s.event == Event::kError) return s;
    state_ = State::kHeaders;
    return {Event::kNeedMore, used};
  }
}

RequestParser::Step RequestParser::accept_request_line(std::string_view line) {
  if (line.size() > limits_.max_request_line) return fail(414, "request line too long");
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return fail(400, "malformed request line");
  std::string_view method = line.substr(0, sp1);
  if (!is_token(method)) return fail(400, "invalid character in method");
  std::string_view rest = line.substr(sp1 + 1);
  size_t sp2 = rest.find(' ');
  if (sp2 == std::string_view::npos || sp2 == 0) return fail(400, "malformed request line");
  std::string_view target = rest.substr(0, sp2);
  std::string_view version = rest.substr(sp2 + 1);

  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[5] < '0' ||
      version[5] > '9' || version[6] != '.' || version[7] < '0' || version[7] > '9') {
    return fail(400, "malformed HTTP version");
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return fail(505, "HTTP version not supported (use HTTP/1.0 or HTTP/1.1)");
  }
  for (unsigned char c : target) {
    if (!is_target_char(c)) return fail(400, "invalid character in request target");
  }

  head_.method.assign(method);
  head_.minor_version = version[7] - '0';
  if (target[0] == '/') {
    head_.target.assign(target);
  } else if (target == "*") {
    if (method != "OPTIONS") return fail(400, "asterisk-form target is only allowed with OPTIONS");
    head_.target = "*";
  } else if (starts_with_icase(target, "http://") || starts_with_icase(target, "https://")) {
    // absolute-form: the authority comes from the target and Host is ignored (RFC 9112 §3.2.2).
    std::string_view after = target.substr(target.find("://") + 3);
    size_t path_at = after.find_first_of("/?");
    std::string_view authority = after.substr(0, path_at);
    if (authority.empty() || !is_authority(authority)) {
      return fail(400, "invalid authority in absolute-form request target");
    }
    std::string_view path =
        path_at == std::string_view::npos ? std::string_view() : after.substr(path_at);
    target_authority_.assign(authority);
    absolute_form_ = true;
    head_.target = (path.empty() || path[0] == '?') ? "/" : "";
    head_.target.append(path);
  } else {
    return fail(400, "request target must be origin-form (\"/path\")");
  }
  return {Event::kNeedMore, 0};
}

RequestParser::Step RequestParser::parse_field_lines(std::string_view in, bool trailers) {
  http::Headers& into = trailers ? trailers_ : head_.headers;
  size_t used = 0;
  while (true) {
    std::string_view rest = in.substr(used);
    Line line = next_line(rest);
    switch (line.status) {
      case LineStatus::kPartial:
        if (field_bytes_ + rest.size() > limits_.max_header_bytes) {
          return fail(431, trailers ? "trailer fields too large" : "header fields too large");
        }
        return {Event::kNeedMore, used};
      case LineStatus::kBareLf: return fail(400, "bare LF line ending (CRLF required)");
      case LineStatus::kBareCr: return fail(400, "bare CR in header section");
      case LineStatus::kLine: break;
    }
    used += line.consumed;
    if (line.text.empty()) {
      if (trailers) {
        state_ = State::kDone;
        return {Event::kNeedMore, used};
      }
      Step s = finish_head();
      s.consumed = used;
      return s;
    }
    field_bytes_ += line.consumed;
    if (field_bytes_ > limits_.max_header_bytes) {
      return fail(431, trailers ? "trailer fields too large" : "header fields too large");
    }
    if (++field_count_ > limits_.max_header_count) {
      return fail(431, trailers ? "too many trailer fields" : "too many header fields");
    }
    if (!accept_field_line(line.text, into)) return {Event::kError, 0};
  }
}

bool RequestParser::accept_field_line(std::string_view line, http::Headers& into) {
  if (is_ows(line.front())) {
    fail(400, "obsolete line folding (header line starting with whitespace) is not allowed");
    return false;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    fail(400, "header line without a colon");
    return false;
  }
  std::string_view name = line.substr(0, colon);
  if (name.empty()) {
    fail(400, "empty header name");
    return false;
  }
  if (is_ows(name.back())) {
    fail(400, "whitespace between header name and colon");
    return false;
  }
  if (!is_token(name)) {
    fail(400, "invalid character in header name");
    return false;
  }
  std::string_view value = trim_ows(line.substr(colon + 1));
  for (unsigned char c : value) {
    if (!is_field_value_char(c)) {
      fail(400, "invalid character in header value");
      return false;
    }
  }
  into.add(name, value);
  return true;
}

RequestParser::Step RequestParser::finish_head() {
  const http::Headers& h = head_.headers;

  size_t hosts = h.count("host");
  if (hosts > 1) return fail(400, "multiple Host header fields");
  if (hosts == 0 && head_.minor_version == 1) return fail(400, "missing Host header field");
  if (hosts == 1 && !is_authority(*h.get("host"))) return fail(400, "invalid Host header field");
  if (absolute_form_) {
    head_.authority = target_authority_;
  } else {
    head_.authority = h.get_or("host");
  }

  bool has_te = h.has("transfer-encoding");
  bool has_cl = h.has("content-length");
  if (has_te && head_.minor_version == 0) {
    return fail(400, "Transfer-Encoding is not allowed in HTTP/1.0 requests");
  }
  if (has_te && has_cl) return fail(400, "both Content-Length and Transfer-Encoding present");
  if (has_cl) {
    bool first = true;
    uint64_t length = 0;
    for (const auto& field : h) {
      if (field.name != "content-length") continue;
      uint64_t v = 0;
      if (!parse_content_length(field.value, v)) return fail(400, "invalid Content-Length");
      if (!first && v != length) return fail(400, "conflicting Content-Length values");
      length = v;
      first = false;
    }
    if (length > limits_.max_body_size) {
      return fail(413, "request body exceeds the limit of " +
                           std::to_string(limits_.max_body_size) + " bytes");
    }
    head_.framing = BodyFraming::kContentLength;
    head_.content_length = length;
  }
  if (has_te) {
    std::string message;
    if (int status = check_transfer_encoding(h.joined("transfer-encoding"), message)) {
      return fail(status, std::move(message));
    }
    head_.framing = BodyFraming::kChunked;
  }

  // RFC 9110 §10.1.1: a server ignores 100-continue from HTTP/1.0 clients.
  if (head_.minor_version == 1 && h.has("expect")) {
    if (!http::iequals(trim_ows(h.joined("expect")), "100-continue")) {
      return fail(417, "unsupported expectation (only 100-continue is supported)");
    }
    head_.expect_continue = true;
  }

  std::string connection = h.joined("connection");
  if (head_.minor_version == 1) {
    head_.keep_alive = !list_has_token(connection, "close");
  } else {
    head_.keep_alive = list_has_token(connection, "keep-alive") &&
                       !list_has_token(connection, "close");
  }

  switch (head_.framing) {
    case BodyFraming::kNone:
      state_ = State::kDone;
      break;
    case BodyFraming::kContentLength:
      remaining_ = head_.content_length;
      state_ = remaining_ == 0 ? State::kDone : State::kBodyLength;
      break;
    case BodyFraming::kChunked:
      state_ = State::kChunkSize;
      break;
  }
  return {Event::kHead, 0};
}

RequestParser::Step RequestParser::body_piece(std::string_view in) {
  size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
  if (n == 0) return {Event::kNeedMore, 0};
  remaining_ -= n;
  body_bytes_ += n;
  if (remaining_ == 0) {
    state_ = state_ == State::kChunkData ? State::kChunkDataEnd : State::kDone;
  }
  return {Event::kBody, n, in.substr(0, n)};
}

RequestParser::Step RequestParser::parse_chunk_size(std::string_view in) {
  Line line = next_line(in);
  switch (line.status) {
    case LineStatus::kPartial:
      // +1: the CR of a line of exactly the maximum length may already be here.
      if (in.size() > kMaxChunkSizeLine + 1) return fail(400, "chunk size line too long");
      return {Event::kNeedMore, 0};
    case LineStatus::kBareLf: return fail(400, "bare LF line ending in chunked body");
    case LineStatus::kBareCr: return fail(400, "bare CR in chunked body");
    case LineStatus::kLine: break;
  }
  std::string_view text = line.text;
  if (text.size() > kMaxChunkSizeLine) return fail(400, "chunk size line too long");
  uint64_t size = 0;
  size_t digits = 0;
  for (; digits < text.size(); ++digits) {
    int d = hex_value(text[digits]);
    if (d < 0) break;
    if (size > (std::numeric_limits<uint64_t>::max() >> 4)) return fail(400, "chunk size too large");
    size = (size << 4) | static_cast<uint64_t>(d);
  }
  if (digits == 0) return fail(400, "invalid chunk size");
  std::string_view ext = text.substr(digits);
  while (!ext.empty() && is_ows(ext.front())) ext.remove_prefix(1);
  if (!ext.empty()) {
    if (ext.front() != ';') return fail(400, "invalid chunk size");
    chunk_ext_bytes_ += ext.size();
    if (chunk_ext_bytes_ > kMaxChunkExtensionBytes) return fail(400, "chunk extensions too large");
    for (unsigned char c : ext) {
      if (!is_field_value_char(c)) return fail(400, "invalid character in chunk extension");
    }
  }
  if (size > limits_.max_body_size - body_bytes_) {
    return fail(413, "request body exceeds the limit of " + std::to_string(limits_.max_body_size) +
                         " bytes");
  }
  if (size == 0) {
    state_ = State::kTrailers;
    field_bytes_ = 0;
    field_count_ = 0;
  } else {
    state_ = State::kChunkData;
    remaining_ = size;
  }
  return {Event::kNeedMore, line.consumed};
}

RequestParser::Step RequestParser::parse_chunk_data_end(std::string_view in) {
  if (in.empty()) return {Event::kNeedMore, 0};
  if (in[0] != '\r') return fail(400, "missing CRLF after chunk data");
  if (in.size() < 2) return {Event::kNeedMore, 0};
  if (in[1] != '\n') return fail(400, "missing CRLF after chunk data");
  state_ = State::kChunkSize;
  return {Event::kNeedMore, 2};
}

RequestParser::Step RequestParser::finish_message() {
  state_ = State::kRequestLine;
  skipped_blank_bytes_ = 0;
  return {Event::kEnd, 0};
}

}  // namespace mirror::h1
