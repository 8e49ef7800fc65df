// A strict, incremental HTTP/1.1 request parser (RFC 9112), written for request-smuggling safety:
// anything ambiguous about where a message ends is rejected with a specific status and message
// instead of being guessed at. The caller keeps the input buffer; the parser reports how many bytes
// of it each step used, so leftover bytes (a pipelined request) stay with the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/headers.h"

namespace mirror::h1 {

// Size limits for one request. Exceeding one gives the status named in its comment.
struct Limits {
  size_t max_request_line = 8 * 1024;     // bytes of "METHOD target HTTP/1.x" (414)
  size_t max_header_count = 100;          // fields in the head, and again in the trailers (431)
  size_t max_header_bytes = 32 * 1024;    // bytes of all field lines incl. CRLF, ditto (431)
  uint64_t max_body_size = 1024 * 1024;   // request body bytes, after de-chunking (413)
};

// Why a request was rejected: the status to answer with and a message for the error body.
struct ParseError {
  int status = 0;  // 400, 413, 414, 417, 431, 501 or 505
  std::string message;
};

enum class BodyFraming { kNone, kContentLength, kChunked };

// Everything about a request known once its head has been read.
struct RequestHead {
  std::string method;     // token as received (case-sensitive)
  std::string target;     // origin-form "/path?query", or "*" (OPTIONS); absolute-form reduced
  std::string authority;  // from an absolute-form target, else the Host field ("" if none)
  int minor_version = 1;  // HTTP/1.<minor_version>, 0 or 1
  http::Headers headers;  // names lower-case, values without surrounding whitespace
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;   // when framing is kContentLength
  bool keep_alive = true;        // from the version and the Connection field
  bool expect_continue = false;  // "Expect: 100-continue" on an HTTP/1.1 request
};

// True if a comma-separated field value (e.g. Connection) lists `token`, case-insensitively.
bool list_has_token(std::string_view list, std::string_view token);

class RequestParser {
 public:
  enum class Event {
    kNeedMore,  // feed more bytes (complete lines may have been consumed)
    kHead,      // head() is complete
    kBody,      // Step::body holds the next piece of the body
    kEnd,       // the request is complete (trailers() filled); the next parse() starts a new one
    kError,     // error() says why; the parser stays in this state until reset()
  };
  struct Step {
    Event event = Event::kNeedMore;
    size_t consumed = 0;    // bytes at the front of the input this step used
    std::string_view body;  // kBody: points into the input passed to parse()
  };

  explicit RequestParser(const Limits& limits) : limits_(limits) {}

  // Parses from the front of `in` (bytes not consumed by earlier steps) and reports one event.
  // Call again with the unconsumed rest until it returns kNeedMore or kError.
  Step parse(std::string_view in);

  // Forgets the current request (after kError, or to reuse the parser).
  void reset();

  // True once any byte of the current request has been consumed (used for timeouts).
  bool started() const { return state_ != State::kRequestLine || skipped_blank_bytes_ > 0; }
  // True while the current request's body is being read.
  bool in_body() const;

  const RequestHead& head() const { return head_; }
  RequestHead& head() { return head_; }
  http::Headers& trailers() { return trailers_; }
  const ParseError& error() const { return error_; }
  uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class State {
    kRequestLine,
    kHeaders,
    kBodyLength,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kDone,   // report kEnd next
    kError,
  };

  Step fail(int status, std::string message);
  Step parse_request_line(std::string_view in);
  Step parse_field_lines(std::string_view in, bool trailers);
  Step parse_chunk_size(std::string_view in);
  Step parse_chunk_data_end(std::string_view in);
  Step body_piece(std::string_view in);
  // Validates the request line's parts; fills head_. Returns an error step or kNeedMore.
  Step accept_request_line(std::string_view line);
  // Validates one "name: value" line into `into`.
  bool accept_field_line(std::string_view line, http::Headers& into);
  // Checks the finished head for framing and semantics (smuggling defences live here).
  Step finish_head();
  Step finish_message();

  Limits limits_;
  State state_ = State::kRequestLine;
  RequestHead head_;
  http::Headers trailers_;
  ParseError error_;
  std::string target_authority_;   // authority from an absolute-form target
  bool absolute_form_ = false;
  size_t skipped_blank_bytes_ = 0;  // empty lines tolerated before a request line
  size_t field_bytes_ = 0;          // bytes of field lines in this section (head or trailers)
  size_t field_count_ = 0;
  uint64_t body_bytes_ = 0;         // body bytes delivered so far
  uint64_t remaining_ = 0;          // of the Content-Length body or of the current chunk
  size_t chunk_ext_bytes_ = 0;      // total chunk-extension bytes in this message
};

}  // namespace mirror::h1
