// Small request-level rules of the HTTP/3 session, kept apart so they can be tested without a
// connection: the header budget (431), the 0-RTT rule (425, RFC 8470), response header hygiene and
// the JSON error bodies.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "http/message.h"

namespace mirror::h3 {

// Counts a decoded field section against limits. Size is name + value + 32 per field (the
// HPACK/QPACK accounting of RFC 9114 §4.2.2 / RFC 7541 §4.1).
class HeaderBudget {
 public:
  HeaderBudget(size_t max_bytes, size_t max_count) : max_bytes_(max_bytes), max_count_(max_count) {}
  // False once either limit is exceeded (and for every later field).
  bool add(size_t name_len, size_t value_len) {
    bytes_ += name_len + value_len + 32;
    ++count_;
    if (bytes_ > max_bytes_ || count_ > max_count_) exceeded_ = true;
    return !exceeded_;
  }
  bool exceeded() const { return exceeded_; }
  size_t bytes() const { return bytes_; }
  size_t count() const { return count_; }

 private:
  size_t max_bytes_, max_count_;
  size_t bytes_ = 0, count_ = 0;
  bool exceeded_ = false;
};

// Requests replayable from 0-RTT are answered only if safe (GET, HEAD, OPTIONS); any other method
// that arrived in early data gets 425 Too Early without reaching the application.
bool refuse_early_request(http::Method method, bool early_data);

// Connection-specific fields are forbidden in HTTP/3 (RFC 9114 §4.2); they are dropped from
// responses the application builds for any protocol.
using http::is_connection_specific_header;  // (http/headers.h)

// {"error":{"type":"<type>","message":"<message>"}} with JSON string escaping.
std::string error_json(std::string_view type, std::string_view message);

}  // namespace mirror::h3
