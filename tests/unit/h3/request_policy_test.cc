#include "h3/request_policy.h"

#include <gtest/gtest.h>

namespace mirror::h3 {
namespace {

TEST(HeaderBudget, CountsNameValueAndOverhead) {
  HeaderBudget b(100, 10);
  EXPECT_TRUE(b.add(4, 4));  // 40
  EXPECT_EQ(b.bytes(), 40u);
  EXPECT_TRUE(b.add(10, 18));  // 100: exactly at the limit is fine
  EXPECT_FALSE(b.exceeded());
  EXPECT_FALSE(b.add(0, 0));  // 132 > 100
  EXPECT_TRUE(b.exceeded());
}

TEST(HeaderBudget, FieldCountLimit) {
  HeaderBudget b(1 << 20, 3);
  EXPECT_TRUE(b.add(1, 1));
  EXPECT_TRUE(b.add(1, 1));
  EXPECT_TRUE(b.add(1, 1));
  EXPECT_FALSE(b.add(1, 1));
  EXPECT_EQ(b.count(), 4u);
}

TEST(HeaderBudget, StaysExceededOnceOver) {
  HeaderBudget b(50, 100);
  EXPECT_FALSE(b.add(40, 40));
  EXPECT_FALSE(b.add(0, 0));
  EXPECT_TRUE(b.exceeded());
}

TEST(RefuseEarlyRequest, OnlySafeMethodsMayRunFromZeroRtt) {
  using M = http::Method;
  for (M m : {M::kGet, M::kHead, M::kOptions}) {
    EXPECT_FALSE(refuse_early_request(m, true)) << static_cast<int>(m);
  }
  for (M m : {M::kPost, M::kPut, M::kDelete, M::kPatch, M::kConnect, M::kTrace, M::kOther}) {
    EXPECT_TRUE(refuse_early_request(m, true)) << static_cast<int>(m);
    EXPECT_FALSE(refuse_early_request(m, false)) << static_cast<int>(m);
  }
}

TEST(ConnectionSpecificHeaders, AreRecognised) {
  for (auto n : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}) {
    EXPECT_TRUE(is_connection_specific_header(n)) << n;
  }
  for (auto n : {"content-type", "te", "content-length", "x-connection"}) {
    EXPECT_FALSE(is_connection_specific_header(n)) << n;
  }
}

TEST(ErrorJson, ShapeAndEscaping) {
  EXPECT_EQ(error_json("VALIDATION_ERROR", "too large"),
            R"({"error":{"type":"VALIDATION_ERROR","message":"too large"}})");
  EXPECT_EQ(error_json("T", "a\"b\\c\nd\x01"),
            R"({"error":{"type":"T","message":"a\"b\\c\nd\u0001"}})");
}

}  // namespace
}  // namespace mirror::h3
