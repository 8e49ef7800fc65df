#include "quic/cid.h"

#include <gtest/gtest.h>

#include <array>
#include <set>

namespace mirror::quic {
namespace {

std::array<uint8_t, 32> secret(uint8_t seed) {
  std::array<uint8_t, 32> s{};
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(seed * 31 + i);
  return s;
}

TEST(CidCodec, EveryWorkerIdRoundTrips) {
  CidCodec codec(secret(1));
  for (int w = 0; w < kMaxWorkers; ++w) {
    ngtcp2_cid cid = codec.make(w);
    ASSERT_EQ(cid.datalen, kCidLength);
    auto owner = codec.worker_of({cid.data, cid.datalen});
    ASSERT_TRUE(owner.has_value());
    EXPECT_EQ(*owner, w);
  }
}

TEST(CidCodec, AnotherWorkerWithTheSameSecretDecodesIt) {
  auto s = secret(7);
  CidCodec a(s), b(s);
  ngtcp2_cid cid = a.make(42);
  EXPECT_EQ(b.worker_of({cid.data, cid.datalen}), 42);
}

TEST(CidCodec, WorkerByteIsMaskedNotConstant) {
  CidCodec codec(secret(3));
  std::set<uint8_t> first_bytes;
  for (int i = 0; i < 64; ++i) {
    ngtcp2_cid cid = codec.make(5);
    first_bytes.insert(cid.data[0]);
    EXPECT_EQ(codec.worker_of({cid.data, cid.datalen}), 5);
  }
  // With a keyed mask over random bytes the first byte varies (64 draws of 256 values).
  EXPECT_GT(first_bytes.size(), 10u);
}

TEST(CidCodec, DeterministicForGivenRandomBytes) {
  CidCodec codec(secret(9));
  std::array<uint8_t, kCidLength - 1> rnd{};
  rnd.fill(0xab);
  ngtcp2_cid a = codec.make(3, rnd), b = codec.make(3, rnd), c = codec.make(4, rnd);
  EXPECT_EQ(CidKey(a), CidKey(b));
  EXPECT_FALSE(CidKey(a) == CidKey(c));
  EXPECT_EQ(0, memcmp(a.data + 1, rnd.data(), rnd.size()));
}

TEST(CidCodec, DifferentSecretsDisagree) {
  CidCodec a(secret(1)), b(secret(2));
  int same = 0;
  for (int i = 0; i < 32; ++i) {
    ngtcp2_cid cid = a.make(1);
    if (b.worker_of({cid.data, cid.datalen}) == 1) ++same;
  }
  EXPECT_LT(same, 8);  // chance agreement only (1/256 each)
}

TEST(CidCodec, ForeignLengthsAreNotOurs) {
  CidCodec codec(secret(1));
  std::array<uint8_t, 20> buf{};
  EXPECT_FALSE(codec.worker_of({buf.data(), 8}).has_value());
  EXPECT_FALSE(codec.worker_of({buf.data(), 20}).has_value());
  EXPECT_FALSE(codec.worker_of({buf.data(), 0}).has_value());
}

TEST(CidCodec, FreshCidsAreUnique) {
  CidCodec codec(secret(1));
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    ngtcp2_cid cid = codec.make(0);
    EXPECT_TRUE(seen.insert(cid_hex(cid)).second);
  }
}

TEST(CidKey, HashAndEqualityUseLengthAndBytes) {
  uint8_t bytes[4] = {1, 2, 3, 4};
  CidKey a(bytes, 4), b(bytes, 3), c(bytes, 4);
  EXPECT_EQ(a, c);
  EXPECT_FALSE(a == b);
  EXPECT_EQ(CidKeyHash()(a), CidKeyHash()(c));
  EXPECT_EQ(cid_hex(bytes, 4), "01020304");
}

}  // namespace
}  // namespace mirror::quic
