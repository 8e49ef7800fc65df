#include "h1/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mirror::h1 {
namespace {

using namespace std::string_literals;

// One parsed request, collected from the parser's events.
struct Parsed {
  RequestHead head;
  std::string body;
  http::Headers trailers;
};

struct Outcome {
  std::vector<Parsed> requests;
  int error_status = 0;  // 0 = no error
  std::string error_message;
  size_t leftover = 0;   // bytes not consumed at the end
};

// Feeds `input` in pieces of `piece` bytes (0 = all at once), keeping unconsumed bytes like the
// session does, and collects every event.
Outcome run(std::string_view input, size_t piece = 0, Limits limits = {}) {
  RequestParser parser(limits);
  Outcome out;
  std::string buffer;
  Parsed current;
  size_t fed = 0;
  while (true) {
    size_t n = piece == 0 ? input.size() - fed : std::min(piece, input.size() - fed);
    buffer.append(input.substr(fed, n));
    fed += n;
    while (true) {
      auto step = parser.parse(buffer);
      std::string body(step.body);
      buffer.erase(0, step.consumed);
      if (step.event == RequestParser::Event::kNeedMore) break;
      if (step.event == RequestParser::Event::kError) {
        out.error_status = parser.error().status;
        out.error_message = parser.error().message;
        out.leftover = buffer.size();
        return out;
      }
      if (step.event == RequestParser::Event::kHead) current.head = parser.head();
      if (step.event == RequestParser::Event::kBody) current.body += body;
      if (step.event == RequestParser::Event::kEnd) {
        current.trailers = parser.trailers();
        out.requests.push_back(std::move(current));
        current = Parsed{};
      }
    }
    if (fed == input.size()) break;
  }
  out.leftover = buffer.size();
  return out;
}

int status_of(std::string_view input, Limits limits = {}) {
  return run(input, 0, limits).error_status;
}

TEST(ParserTest, SimpleGet) {
  auto out = run("GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n");
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  ASSERT_EQ(out.requests.size(), 1u);
  const auto& h = out.requests[0].head;
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/a/b?x=1");
  EXPECT_EQ(h.authority, "example.com");
  EXPECT_EQ(h.minor_version, 1);
  EXPECT_TRUE(h.keep_alive);
  EXPECT_EQ(h.framing, BodyFraming::kNone);
  EXPECT_EQ(h.headers.get_or("user-agent"), "t");
  EXPECT_EQ(out.leftover, 0u);
}

TEST(ParserTest, HeaderNamesAreLowerCasedAndValuesTrimmed) {
  auto out = run("GET / HTTP/1.1\r\nHOST: h\r\nX-Thing:  \t spaced value \t\r\n\r\n");
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  const auto& headers = out.requests[0].head.headers;
  auto it = headers.begin();
  EXPECT_EQ(it->name, "host");
  ++it;
  EXPECT_EQ(it->name, "x-thing");
  EXPECT_EQ(it->value, "spaced value");
}

TEST(ParserTest, ContentLengthBody) {
  auto out = run("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].head.framing, BodyFraming::kContentLength);
  EXPECT_EQ(out.requests[0].body, "hello");
}

TEST(ParserTest, LeadingZerosInContentLengthAreDecimal) {
  auto out = run("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n1234567");
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  EXPECT_EQ(out.requests[0].body, "1234567");
}

TEST(ParserTest, RepeatedIdenticalContentLengthIsAccepted) {
  auto out = run("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  EXPECT_EQ(out.requests[0].body, "abc");
}

TEST(ParserTest, ChunkedWithExtensionsAndTrailers) {
  std::string req =
      "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value;flag\r\nhello\r\n"
      "6 ; quoted=\"a b\"\r\n world\r\n"
      "0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n";
  auto out = run(req);
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].head.framing, BodyFraming::kChunked);
  EXPECT_EQ(out.requests[0].body, "hello world");
  EXPECT_EQ(out.requests[0].trailers.get_or("x-checksum"), "abc");
  EXPECT_EQ(out.requests[0].trailers.get_or("x-other"), "1");
  EXPECT_EQ(out.leftover, 0u);
}

TEST(ParserTest, ChunkedSizesAreHexAndCaseInsensitive) {
  std::string body(0x1A, 'z');
  auto out = run("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n1a\r\n" + body +
                 "\r\n0\r\n\r\n");
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  EXPECT_EQ(out.requests[0].body, body);
}

TEST(ParserTest, TabBeforeChunkedIsOptionalWhitespace) {
  // TE.TE obfuscation "Transfer-Encoding: \tchunked": HTAB is OWS (RFC 9110 §5.6.3), so this is
  // plain chunked for us; CL+TE is rejected anyway, so there is no second reading to disagree with.
  auto out = run("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \tchunked\r\n\r\n0\r\n\r\n");
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  EXPECT_EQ(out.requests[0].head.framing, BodyFraming::kChunked);
}

TEST(ParserTest, PipelinedRequestsInOneBuffer) {
  std::string input =
      "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
      "POST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
      "GET /4 HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET /5 HTTP/1.1\r\nHo";  // incomplete: stays buffered
  auto out = run(input);
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  ASSERT_EQ(out.requests.size(), 4u);
  EXPECT_EQ(out.requests[0].head.target, "/1");
  EXPECT_EQ(out.requests[1].head.target, "/2");
  EXPECT_EQ(out.requests[1].body, "abc");
  EXPECT_EQ(out.requests[2].head.target, "/3");
  EXPECT_EQ(out.requests[2].body, "xy");
  EXPECT_EQ(out.requests[3].head.target, "/4");
  EXPECT_EQ(out.leftover, std::string_view("GET /5 HTTP/1.1\r\nHo").size() -
                              std::string_view("GET /5 HTTP/1.1\r\n").size());
}

TEST(ParserTest, EveryByteBoundaryGivesTheSameResult) {
  std::string input =
      "POST /a?b HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nwxyz"
      "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;e=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n"
      "\r\nGET http://Example.org:8080 HTTP/1.1\r\nHost: ignored\r\n\r\n";
  auto whole = run(input);
  ASSERT_EQ(whole.error_status, 0) << whole.error_message;
  ASSERT_EQ(whole.requests.size(), 3u);
  for (size_t piece = 1; piece <= 7; ++piece) {
    auto out = run(input, piece);
    ASSERT_EQ(out.error_status, 0) << "piece " << piece << ": " << out.error_message;
    ASSERT_EQ(out.requests.size(), 3u) << "piece " << piece;
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(out.requests[i].head.target, whole.requests[i].head.target);
      EXPECT_EQ(out.requests[i].body, whole.requests[i].body) << "piece " << piece;
      EXPECT_EQ(out.requests[i].trailers.get_or("t"), whole.requests[i].trailers.get_or("t"));
    }
  }
  // And a split at every single position into two pieces.
  for (size_t cut = 1; cut < input.size(); ++cut) {
    RequestParser parser(Limits{});
    std::string buffer(input.substr(0, cut));
    std::string bodies;
    int ends = 0;
    for (int round = 0; round < 2; ++round) {
      if (round == 1) buffer.append(input.substr(cut));
      while (true) {
        auto step = parser.parse(buffer);
        if (step.event == RequestParser::Event::kBody) bodies.append(step.body);
        buffer.erase(0, step.consumed);
        ASSERT_NE(step.event, RequestParser::Event::kError) << "cut " << cut;
        if (step.event == RequestParser::Event::kEnd) ++ends;
        if (step.event == RequestParser::Event::kNeedMore) break;
      }
    }
    EXPECT_EQ(ends, 3) << "cut " << cut;
    EXPECT_EQ(bodies, "wxyzabc0123456789abcdef") << "cut " << cut;
  }
}

TEST(ParserTest, AbsoluteFormBecomesPathAndAuthority) {
  auto out = run("GET https://api.example.com:8443/v1/x?q=1 HTTP/1.1\r\nHost: other\r\n\r\n");
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  EXPECT_EQ(out.requests[0].head.target, "/v1/x?q=1");
  EXPECT_EQ(out.requests[0].head.authority, "api.example.com:8443");

  out = run("GET HTTP://h.example?x HTTP/1.1\r\nHost: h.example\r\n\r\n");
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  EXPECT_EQ(out.requests[0].head.target, "/?x");
  EXPECT_EQ(out.requests[0].head.authority, "h.example");
}

TEST(ParserTest, OptionsAsterisk) {
  auto out = run("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  EXPECT_EQ(out.requests[0].head.target, "*");
}

TEST(ParserTest, Http10KeepAliveRules) {
  auto out = run("GET / HTTP/1.0\r\n\r\n");  // no Host needed in 1.0
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  EXPECT_FALSE(out.requests[0].head.keep_alive);
  out = run("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  EXPECT_TRUE(out.requests[0].head.keep_alive);
  out = run("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n");
  EXPECT_FALSE(out.requests[0].head.keep_alive);
}

TEST(ParserTest, ExpectContinue) {
  auto out = run("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx");
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  EXPECT_TRUE(out.requests[0].head.expect_continue);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nExpect: fly\r\n\r\n"), 417);
  // HTTP/1.0 expectations are ignored (RFC 9110 §10.1.1).
  out = run("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(out.error_status, 0);
  EXPECT_FALSE(out.requests[0].head.expect_continue);
}

TEST(ParserTest, BlankLinesBeforeRequestAreSkipped) {
  auto out = run("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(out.error_status, 0) << out.error_message;
  EXPECT_EQ(out.requests.size(), 1u);
}

TEST(ParserTest, ResetAfterError) {
  RequestParser parser(Limits{});
  EXPECT_EQ(parser.parse("BAD\n").event, RequestParser::Event::kError);
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\n").event, RequestParser::Event::kError);
  parser.reset();
  EXPECT_FALSE(parser.started());
  auto step = parser.parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(step.event, RequestParser::Event::kHead);
}

// --- limits ----------------------------------------------------------------------------------

TEST(ParserLimitsTest, RequestLineTooLong) {
  Limits limits;
  limits.max_request_line = 64;
  std::string long_target = "/" + std::string(100, 'a');
  EXPECT_EQ(status_of("GET " + long_target + " HTTP/1.1\r\nHost: h\r\n\r\n", limits), 414);
  // Detected before the line ends, so a client cannot make us buffer without bound.
  EXPECT_EQ(status_of("GET " + long_target, limits), 414);
  EXPECT_EQ(status_of("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n", limits), 0);
}

TEST(ParserLimitsTest, TooManyHeaders) {
  Limits limits;
  limits.max_header_count = 3;
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", limits), 0);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits), 431);
}

TEST(ParserLimitsTest, HeaderBytes) {
  Limits limits;
  limits.max_header_bytes = 100;
  std::string big(120, 'v');
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nX: " + big + "\r\n\r\n", limits), 431);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nX: " + big, limits), 431);  // partial line
}

TEST(ParserLimitsTest, BodySize) {
  Limits limits;
  limits.max_body_size = 10;
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits), 413);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789",
                      limits), 0);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "6\r\n012345\r\n5\r\n",
                      limits), 413);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "6\r\n012345\r\n4\r\n0123\r\n0\r\n\r\n",
                      limits), 0);
}

TEST(ParserLimitsTest, TrailerLimits) {
  Limits limits;
  limits.max_header_count = 2;
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
                      limits), 431);
}

// --- request smuggling and malformed input: the exact status for each case ------------------

struct BadCase {
  const char* name;
  std::string input;
  int status;
  const char* why;  // part of the expected error message
};

class SmugglingTest : public testing::TestWithParam<BadCase> {};

TEST_P(SmugglingTest, Rejected) {
  const BadCase& c = GetParam();
  auto out = run(c.input);
  EXPECT_EQ(out.error_status, c.status) << c.name << " (" << out.error_message << ")";
  EXPECT_NE(out.error_message.find(c.why), std::string::npos)
      << c.name << ": expected \"" << c.why << "\" in \"" << out.error_message << "\"";
  // Byte by byte must reach the same verdict.
  EXPECT_EQ(run(c.input, 1).error_status, c.status) << c.name << " fed byte by byte";
}

const std::string kPost = "POST / HTTP/1.1\r\nHost: h\r\n";

INSTANTIATE_TEST_SUITE_P(
    Corpus, SmugglingTest,
    testing::Values(
        // CL.TE / TE.CL: both framings present.
        BadCase{"cl_te", kPost + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX",
                400, "both Content-Length and Transfer-Encoding"},
        BadCase{"te_cl", kPost + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
                400, "both Content-Length and Transfer-Encoding"},
        // Content-Length values.
        BadCase{"cl_conflict", kPost + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400, "conflicting Content-Length"},
        BadCase{"cl_list", kPost + "Content-Length: 1,2\r\n\r\nab", 400, "invalid Content-Length"},
        BadCase{"cl_list_equal", kPost + "Content-Length: 2, 2\r\n\r\nab", 400, "invalid Content-Length"},
        BadCase{"cl_plus", kPost + "Content-Length: +5\r\n\r\nhello", 400, "invalid Content-Length"},
        BadCase{"cl_minus", kPost + "Content-Length: -1\r\n\r\n", 400, "invalid Content-Length"},
        BadCase{"cl_hex", kPost + "Content-Length: 0x5\r\n\r\nhello", 400, "invalid Content-Length"},
        BadCase{"cl_inner_space", kPost + "Content-Length: 1 0\r\n\r\n", 400, "invalid Content-Length"},
        BadCase{"cl_empty", kPost + "Content-Length: \r\n\r\n", 400, "invalid Content-Length"},
        BadCase{"cl_overflow", kPost + "Content-Length: 99999999999999999999999\r\n\r\n", 400, "invalid Content-Length"},
        BadCase{"cl_huge", kPost + "Content-Length: 9223372036854775807\r\n\r\n", 413, "exceeds the limit"},
        // Transfer-Encoding variants.
        BadCase{"te_gzip_chunked", kPost + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501, "unsupported transfer coding"},
        BadCase{"te_chunked_gzip", kPost + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400, "chunked must be the final"},
        BadCase{"te_xchunked", kPost + "Transfer-Encoding: xchunked\r\n\r\n", 501, "unsupported transfer coding"},
        BadCase{"te_identity", kPost + "Transfer-Encoding: identity\r\n\r\n", 501, "unsupported transfer coding"},
        BadCase{"te_two_fields", kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n",
                400, "chunked must be the final"},
        BadCase{"te_chunked_twice", kPost + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400, "invalid Transfer-Encoding"},
        BadCase{"te_empty", kPost + "Transfer-Encoding: \r\n\r\n", 400, "invalid Transfer-Encoding"},
        BadCase{"te_chunked_params", kPost + "Transfer-Encoding: chunked;x=1\r\n\r\n", 400, "invalid Transfer-Encoding"},
        BadCase{"te_space_before_colon", kPost + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400, "whitespace between header name and colon"},
        BadCase{"te_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "not allowed in HTTP/1.0"},
        BadCase{"te_vertical_tab", kPost + "Transfer-Encoding:\x0b" "chunked\r\n\r\n", 400, "invalid character in header value"},
        // Line endings.
        BadCase{"bare_lf_request_line", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400, "bare LF"},
        BadCase{"bare_lf_header", "GET / HTTP/1.1\r\nHost: h\n\r\n", 400, "bare LF"},
        BadCase{"bare_lf_end", "GET / HTTP/1.1\r\nHost: h\r\n\n", 400, "bare LF"},
        BadCase{"bare_cr_header", "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400, "bare CR"},
        BadCase{"bare_cr_request_line", "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bare CR"},
        BadCase{"bare_lf_chunk_size", kPost + "Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
                400, "bare LF"},
        // Header syntax.
        BadCase{"obs_fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400, "obsolete line folding"},
        BadCase{"obs_fold_tab", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400, "obsolete line folding"},
        BadCase{"space_before_colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400, "whitespace between header name and colon"},
        BadCase{"name_with_space", "GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n", 400, "invalid character in header name"},
        BadCase{"name_with_nul", "GET / HTTP/1.1\r\nHost: h\r\nX\0Y: v\r\n\r\n"s,
                400, "invalid character in header name"},
        BadCase{"value_with_nul", "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"s,
                400, "invalid character in header value"},
        BadCase{"value_with_control", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n", 400, "invalid character in header value"},
        BadCase{"value_with_del", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fz\r\n\r\n", 400, "invalid character in header value"},
        BadCase{"no_colon", "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400, "without a colon"},
        BadCase{"empty_name", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400, "empty header name"},
        BadCase{"name_with_slash", "GET / HTTP/1.1\r\nHost: h\r\nX/Y: v\r\n\r\n", 400, "invalid character in header name"},
        // Host.
        BadCase{"missing_host", "GET / HTTP/1.1\r\n\r\n", 400, "missing Host"},
        BadCase{"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "multiple Host"},
        BadCase{"host_with_slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "invalid Host"},
        BadCase{"host_with_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "invalid Host"},
        // Request line.
        BadCase{"method_with_nul", "G\0T / HTTP/1.1\r\nHost: h\r\n\r\n"s, 400, "invalid character in method"},
        BadCase{"method_bad_char", "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid character in method"},
        BadCase{"double_space", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "malformed request line"},
        BadCase{"tab_separator", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid character in method"},
        BadCase{"http09", "GET /\r\n\r\n", 400, "malformed request line"},
        BadCase{"trailing_space", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400, "malformed HTTP version"},
        BadCase{"target_with_nul", "GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"s, 400, "invalid character in request target"},
        BadCase{"target_with_fragment", "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid character in request target"},
        BadCase{"target_non_ascii", "GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid character in request target"},
        BadCase{"authority_form", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n",
                400, "must be origin-form"},
        BadCase{"relative_target", "GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", 400, "must be origin-form"},
        BadCase{"asterisk_not_options", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400, "only allowed with OPTIONS"},
        BadCase{"absolute_ftp", "GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "must be origin-form"},
        BadCase{"absolute_userinfo", "GET http://u@h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid authority"},
        BadCase{"absolute_no_host", "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid authority"},
        BadCase{"version_lower_case", "GET / http/1.1\r\nHost: h\r\n\r\n", 400, "malformed HTTP version"},
        BadCase{"version_garbage", "GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400, "malformed HTTP version"},
        BadCase{"version_2", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, "version not supported"},
        BadCase{"version_12", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505, "version not supported"},
        BadCase{"version_09", "GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505, "version not supported"},
        BadCase{"tls_on_plain_port", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s,
                400, "invalid character in method"},
        // Chunked framing.
        BadCase{"chunk_size_overflow",
                kPost + "Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", 400, "chunk size too large"},
        BadCase{"chunk_size_not_hex", kPost + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "invalid chunk size"},
        BadCase{"chunk_size_empty", kPost + "Transfer-Encoding: chunked\r\n\r\n\r\n", 400, "invalid chunk size"},
        BadCase{"chunk_size_sign", kPost + "Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n", 400, "invalid chunk size"},
        BadCase{"chunk_size_0x", kPost + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n", 400, "invalid chunk size"},
        BadCase{"chunk_missing_crlf",
                kPost + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", 400, "missing CRLF after chunk data"},
        BadCase{"chunk_data_lf_only",
                kPost + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n", 400, "missing CRLF after chunk data"},
        BadCase{"chunk_ext_control",
                kPost + "Transfer-Encoding: chunked\r\n\r\n3;a=\x01\r\nabc\r\n0\r\n\r\n", 400, "invalid character in chunk extension"},
        BadCase{"trailer_obs_fold",
                kPost + "Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n", 400, "obsolete line folding"},
        BadCase{"trailer_bad_name",
                kPost + "Transfer-Encoding: chunked\r\n\r\n0\r\nX Y: a\r\n\r\n", 400, "invalid character in header name"}),
    [](const testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(ParserTest, BlankLineFloodIsRejected) {
  std::string flood;
  for (int i = 0; i < 100; ++i) flood += "\r\n";
  EXPECT_EQ(status_of(flood), 400);
}

TEST(ParserTest, ChunkExtensionsAreBounded) {
  std::string req = kPost + "Transfer-Encoding: chunked\r\n\r\n";
  std::string ext(900, 'e');
  for (int i = 0; i < 40; ++i) req += "1;" + ext + "\r\nx\r\n";
  req += "0\r\n\r\n";
  EXPECT_EQ(status_of(req), 400);
}

}  // namespace
}  // namespace mirror::h1
