// HTTP validators and ranges for static files (RFC 9110 §8.8, §13, §14).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace mirror::app {

// If-None-Match against our (strong) ETag with the weak comparison §13.1.2 prescribes: a list of
// entity tags or "*"; W/ prefixes are ignored.
bool if_none_match_matches(std::string_view header, std::string_view etag);

// If-Range (§13.1.5): an entity tag must match strongly (no W/); a date must equal Last-Modified.
bool if_range_matches(std::string_view header, std::string_view etag,
                      std::chrono::system_clock::time_point last_modified);

struct RangeRequest {
  enum class Kind {
    kFull,           // no usable Range: serve the whole representation (also for several ranges)
    kPartial,        // one satisfiable range: 206
    kUnsatisfiable,  // 416 with Content-Range: bytes */size
  };
  Kind kind = Kind::kFull;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Parses one Range header value ("bytes=a-b", "bytes=a-", "bytes=-n") against `size`.
// Syntax errors and other units mean "ignore the header" (kFull), as §14.2 allows.
RangeRequest parse_range(std::string_view header, uint64_t size);

}  // namespace mirror::app
