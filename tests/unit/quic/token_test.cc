#include "quic/token.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>

#include "quic/address.h"
#include "quic/cid.h"

namespace mirror::quic {
namespace {

using A = InitialVerdict::Action;
constexpr uint64_t kSec = 1'000'000'000ull;

std::array<uint8_t, 32> kSecret = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

ngtcp2_cid cid(uint8_t fill, size_t len) {
  ngtcp2_cid c{};
  c.datalen = len;
  memset(c.data, fill, len);
  return c;
}

TEST(JudgeInitial, NoTokenFollowsTheRetryMode) {
  EXPECT_EQ(judge_initial(RetryMode::kNever, true, TokenKind::kNone, false).action, A::kAccept);
  EXPECT_EQ(judge_initial(RetryMode::kAlways, false, TokenKind::kNone, false).action, A::kRetry);
  EXPECT_EQ(judge_initial(RetryMode::kAuto, false, TokenKind::kNone, false).action, A::kAccept);
  EXPECT_EQ(judge_initial(RetryMode::kAuto, true, TokenKind::kNone, false).action, A::kRetry);
  EXPECT_FALSE(judge_initial(RetryMode::kNever, false, TokenKind::kNone, false).address_validated);
}

TEST(JudgeInitial, ValidRetryTokenValidatesTheAddress) {
  auto v = judge_initial(RetryMode::kAlways, true, TokenKind::kRetry, true);
  EXPECT_EQ(v.action, A::kAccept);
  EXPECT_TRUE(v.address_validated);
  EXPECT_TRUE(v.token_from_retry);
}

TEST(JudgeInitial, BadRetryTokenIsRefusedWithInvalidToken) {
  for (auto mode : {RetryMode::kNever, RetryMode::kAlways, RetryMode::kAuto}) {
    EXPECT_EQ(judge_initial(mode, false, TokenKind::kRetry, false).action, A::kCloseInvalidToken);
  }
}

TEST(JudgeInitial, NewTokenSkipsRetry) {
  auto v = judge_initial(RetryMode::kAlways, true, TokenKind::kRegular, true);
  EXPECT_EQ(v.action, A::kAccept);
  EXPECT_TRUE(v.address_validated);
  EXPECT_FALSE(v.token_from_retry);
}

TEST(JudgeInitial, ExpiredOrUnknownTokenCountsAsNoToken) {
  EXPECT_EQ(judge_initial(RetryMode::kNever, false, TokenKind::kRegular, false).action, A::kAccept);
  EXPECT_FALSE(
      judge_initial(RetryMode::kNever, false, TokenKind::kRegular, false).address_validated);
  EXPECT_EQ(judge_initial(RetryMode::kAlways, false, TokenKind::kRegular, false).action, A::kRetry);
  EXPECT_EQ(judge_initial(RetryMode::kAuto, true, TokenKind::kUnknown, false).action, A::kRetry);
  EXPECT_EQ(judge_initial(RetryMode::kAuto, false, TokenKind::kUnknown, false).action, A::kAccept);
}

TEST(ClassifyToken, ByMagicByte) {
  std::array<uint8_t, 3> retry{NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY, 0, 0};
  std::array<uint8_t, 3> regular{NGTCP2_CRYPTO_TOKEN_MAGIC_REGULAR, 0, 0};
  std::array<uint8_t, 3> other{0x11, 0, 0};
  EXPECT_EQ(classify_token({}), TokenKind::kNone);
  EXPECT_EQ(classify_token(retry), TokenKind::kRetry);
  EXPECT_EQ(classify_token(regular), TokenKind::kRegular);
  EXPECT_EQ(classify_token(other), TokenKind::kUnknown);
}

class TokenSealerTest : public ::testing::Test {
 protected:
  TokenSealer sealer{kSecret};
  Address client = *Address::parse("192.0.2.7", 4433);
  Address same_ip_other_port = *Address::parse("192.0.2.7", 5555);
  Address other_ip = *Address::parse("192.0.2.8", 4433);
  uint64_t now = 1'700'000'000ull * kSec;
};

TEST_F(TokenSealerTest, RetryTokenRoundTripsTheOriginalDcid) {
  ngtcp2_cid odcid = cid(0x11, 12), retry_scid = cid(0x22, 18);
  auto token = sealer.make_retry_token(NGTCP2_PROTO_VER_V1, client.sa(), client.len, retry_scid,
                                       odcid, now);
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(classify_token(token), TokenKind::kRetry);
  ngtcp2_cid out{};
  ASSERT_TRUE(sealer.verify_retry_token(token, NGTCP2_PROTO_VER_V1, client.sa(), client.len,
                                        retry_scid, std::chrono::seconds(10), now + kSec, &out));
  EXPECT_EQ(CidKey(out), CidKey(odcid));
}

TEST_F(TokenSealerTest, RetryTokenIsBoundToAddressCidAndTime) {
  ngtcp2_cid odcid = cid(0x11, 12), retry_scid = cid(0x22, 18), other_scid = cid(0x33, 18);
  auto token = sealer.make_retry_token(NGTCP2_PROTO_VER_V1, client.sa(), client.len, retry_scid,
                                       odcid, now);
  ngtcp2_cid out{};
  auto ttl = std::chrono::seconds(10);
  EXPECT_FALSE(sealer.verify_retry_token(token, NGTCP2_PROTO_VER_V1, other_ip.sa(), other_ip.len,
                                         retry_scid, ttl, now, &out));
  EXPECT_FALSE(sealer.verify_retry_token(token, NGTCP2_PROTO_VER_V1, client.sa(), client.len,
                                         other_scid, ttl, now, &out));
  EXPECT_FALSE(sealer.verify_retry_token(token, NGTCP2_PROTO_VER_V1, client.sa(), client.len,
                                         retry_scid, ttl, now + 11 * kSec, &out));
  TokenSealer other_secret(std::array<uint8_t, 32>{});
  EXPECT_FALSE(other_secret.verify_retry_token(token, NGTCP2_PROTO_VER_V1, client.sa(),
                                               client.len, retry_scid, ttl, now, &out));
  auto tampered = token;
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_FALSE(sealer.verify_retry_token(tampered, NGTCP2_PROTO_VER_V1, client.sa(), client.len,
                                         retry_scid, ttl, now, &out));
}

TEST_F(TokenSealerTest, NewTokenSurvivesAPortChangeButNotAnotherAddress) {
  auto token = sealer.make_regular_token(client.sa(), client.len, now);
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(classify_token(token), TokenKind::kRegular);
  auto ttl = std::chrono::hours(24);
  EXPECT_TRUE(sealer.verify_regular_token(token, client.sa(), client.len, ttl, now + kSec));
  // A NAT may give the returning client another port; the token is bound to the IP only.
  EXPECT_TRUE(sealer.verify_regular_token(token, same_ip_other_port.sa(), same_ip_other_port.len,
                                          ttl, now + kSec));
  EXPECT_FALSE(sealer.verify_regular_token(token, other_ip.sa(), other_ip.len, ttl, now + kSec));
  EXPECT_FALSE(
      sealer.verify_regular_token(token, client.sa(), client.len, ttl, now + 25 * 3600 * kSec));
}

TEST_F(TokenSealerTest, WallClockIsEpochBased) {
  // Tokens must survive restarts and be checkable on other hosts: not a monotonic clock.
  EXPECT_GT(wall_clock_ns(), 1'600'000'000ull * kSec);
}

}  // namespace
}  // namespace mirror::quic
