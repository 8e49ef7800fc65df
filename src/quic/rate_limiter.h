// Token bucket: `rate` events per second on average, bursts up to `burst`. Used for stateless
// resets (per worker) and for stream resets per connection (Rapid-Reset style floods).
#pragma once

#include <algorithm>
#include <cstdint>

namespace mirror::quic {

class RateLimiter {
 public:
  // rate == 0 means "never allow".
  RateLimiter(double rate_per_second, double burst) : rate_(rate_per_second), burst_(burst),
                                                      tokens_(burst) {}
  explicit RateLimiter(double rate_per_second) : RateLimiter(rate_per_second, rate_per_second) {}

  // Takes one token if available. now_ns: a monotonic clock in nanoseconds.
  bool allow(uint64_t now_ns) {
    if (rate_ <= 0) return false;
    if (last_ns_ != 0 && now_ns > last_ns_) {
      tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(now_ns - last_ns_) / 1e9);
    }
    last_ns_ = std::max(last_ns_, now_ns);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  uint64_t last_ns_ = 0;
};

}  // namespace mirror::quic
