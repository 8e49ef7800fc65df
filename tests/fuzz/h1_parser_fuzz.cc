// libFuzzer target for h1::RequestParser. Besides "no crash, no sanitizer report" it checks that
// feeding the input in small pieces gives the same requests as feeding it at once (the parser must
// not depend on where TCP segments split), and that every accepted head obeys the limits.
//
//   clang++ -std=c++20 -g -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/h1_parser_fuzz.cc \
//     src/h1/parser.cc src/http/headers.cc -o h1_parser_fuzz
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "h1/parser.h"

namespace {

using mirror::h1::BodyFraming;
using mirror::h1::Limits;
using mirror::h1::RequestParser;

struct Trace {
  std::vector<std::string> requests;  // per request: method, target, authority, body, trailers
  bool error = false;
};

void check(bool ok) {
  if (!ok) abort();
}

Trace run(std::string_view input, size_t piece, const Limits& limits) {
  RequestParser parser(limits);
  Trace trace;
  std::string buffer;
  std::string current;
  size_t fed = 0;
  while (true) {
    size_t n = piece == 0 ? input.size() - fed : std::min(piece, input.size() - fed);
    buffer.append(input.substr(fed, n));
    fed += n;
    while (true) {
      auto step = parser.parse(buffer);
      check(step.consumed <= buffer.size());
      if (step.event == RequestParser::Event::kError) {
        check(parser.error().status >= 400 && parser.error().status <= 505);
        check(!parser.error().message.empty());
        trace.error = true;
        return trace;
      }
      if (step.event == RequestParser::Event::kHead) {
        const auto& h = parser.head();
        check(!h.target.empty() && (h.target[0] == '/' || h.target == "*"));
        check(h.minor_version == 0 || h.minor_version == 1);
        check(h.framing != BodyFraming::kContentLength || h.content_length <= limits.max_body_size);
        check(h.headers.size() <= limits.max_header_count);
        for (const auto& f : h.headers) {
          check(f.value.find_first_of("\r\n", 0) == std::string::npos);
          check(f.value.find('\0') == std::string::npos);
        }
        current = h.method + " " + h.target + " " + h.authority + "|";
      }
      if (step.event == RequestParser::Event::kBody) {
        check(!step.body.empty());
        current.append(step.body);
      }
      if (step.event == RequestParser::Event::kEnd) {
        check(parser.body_bytes() <= limits.max_body_size);
        current += "|" + std::to_string(parser.trailers().size());
        trace.requests.push_back(std::move(current));
        current.clear();
      }
      buffer.erase(0, step.consumed);
      if (step.event == RequestParser::Event::kNeedMore) break;
    }
    if (fed == input.size()) return trace;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // Small limits so the fuzzer reaches every limit path; the first byte picks the piece size.
  Limits limits;
  limits.max_request_line = 256;
  limits.max_header_count = 16;
  limits.max_header_bytes = 1024;
  limits.max_body_size = 4096;
  size_t piece = 1 + data[0] % 16;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  Trace whole = run(input, 0, limits);
  Trace split = run(input, piece, limits);
  check(whole.error == split.error);
  check(whole.requests == split.requests);
  return 0;
}
