#include "quic/rate_limiter.h"

#include <gtest/gtest.h>

namespace mirror::quic {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;

TEST(RateLimiter, AllowsTheBurstThenRefuses) {
  RateLimiter r(10, 5);
  uint64_t t = 100 * kSec;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(r.allow(t)) << i;
  EXPECT_FALSE(r.allow(t));
  EXPECT_FALSE(r.allow(t));
}

TEST(RateLimiter, RefillsAtTheRate) {
  RateLimiter r(10, 10);
  uint64_t t = 5 * kSec;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(r.allow(t));
  ASSERT_FALSE(r.allow(t));
  t += kSec / 10;  // one token
  EXPECT_TRUE(r.allow(t));
  EXPECT_FALSE(r.allow(t));
  t += 10 * kSec;  // refill caps at the burst
  int allowed = 0;
  while (r.allow(t)) ++allowed;
  EXPECT_EQ(allowed, 10);
}

TEST(RateLimiter, SustainedRateOverManySeconds) {
  RateLimiter r(100);
  uint64_t t = kSec;
  int allowed = 0;
  // 1000 attempts per second for 10 s: about 100/s get through (plus the initial burst).
  for (int i = 0; i < 10000; ++i) {
    t += kSec / 1000;
    if (r.allow(t)) ++allowed;
  }
  EXPECT_GE(allowed, 1000);
  EXPECT_LE(allowed, 1101);
}

TEST(RateLimiter, ZeroRateNeverAllows) {
  RateLimiter r(0);
  EXPECT_FALSE(r.allow(kSec));
  EXPECT_FALSE(r.allow(100 * kSec));
}

TEST(RateLimiter, ClockGoingBackwardsDoesNotMint) {
  RateLimiter r(1, 1);
  EXPECT_TRUE(r.allow(10 * kSec));
  EXPECT_FALSE(r.allow(5 * kSec));
  EXPECT_FALSE(r.allow(10 * kSec));
  EXPECT_TRUE(r.allow(11 * kSec));
}

}  // namespace
}  // namespace mirror::quic
