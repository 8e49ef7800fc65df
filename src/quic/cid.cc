#include "quic/cid.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <algorithm>
#include <string>

namespace mirror::quic {

bool random_bytes(uint8_t* out, size_t n) { return gnutls_rnd(GNUTLS_RND_RANDOM, out, n) == 0; }

CidCodec::CidCodec(std::span<const uint8_t> secret) {
  // Fold the secret into a 16-byte key (the secret is random already; this only sizes it).
  for (size_t i = 0; i < secret.size(); ++i) key_[i % key_.size()] ^= secret[i];
}

uint8_t CidCodec::mask(const uint8_t* rest) const {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : key_) {
    h ^= b;
    h *= 1099511628211ull;
  }
  for (size_t i = 0; i < kCidLength - 1; ++i) {
    h ^= rest[i];
    h *= 1099511628211ull;
  }
  return static_cast<uint8_t>(h ^ (h >> 32) ^ (h >> 16) ^ (h >> 8));
}

ngtcp2_cid CidCodec::make(int worker_id, std::span<const uint8_t, kCidLength - 1> random) const {
  ngtcp2_cid cid{};
  cid.datalen = kCidLength;
  std::copy(random.begin(), random.end(), cid.data + 1);
  cid.data[0] = static_cast<uint8_t>(worker_id) ^ mask(cid.data + 1);
  return cid;
}

ngtcp2_cid CidCodec::make(int worker_id) const {
  std::array<uint8_t, kCidLength - 1> rnd{};
  if (!random_bytes(rnd.data(), rnd.size())) {
    // gnutls_rnd does not fail once the library is initialised; keep CIDs unique regardless.
    static thread_local uint64_t counter = 0;
    ++counter;
    memcpy(rnd.data(), &counter, sizeof(counter));
  }
  return make(worker_id, rnd);
}

std::optional<int> CidCodec::worker_of(std::span<const uint8_t> cid) const {
  if (cid.size() != kCidLength) return std::nullopt;
  return static_cast<int>(cid[0] ^ mask(cid.data() + 1));
}

std::string cid_hex(const uint8_t* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s += kHex[p[i] >> 4];
    s += kHex[p[i] & 0xf];
  }
  return s;
}

}  // namespace mirror::quic
