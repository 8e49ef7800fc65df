// Server connection IDs that name the worker owning the connection, so any worker can route a
// datagram (after migration or NAT rebinding SO_REUSEPORT may hash it to another worker).
// Layout (kCidLength bytes): [worker byte ^ mask][random...]. The mask is a keyed hash of the random
// bytes, so the worker id is not visible as a constant byte on the wire; any worker holding the
// shared secret recovers it.
#pragma once

#include <ngtcp2/ngtcp2.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>

namespace mirror::quic {

inline constexpr size_t kCidLength = 18;
inline constexpr int kMaxWorkers = 256;

class CidCodec {
 public:
  // secret: any bytes shared by all workers (the endpoint static secret).
  explicit CidCodec(std::span<const uint8_t> secret);

  // A fresh random CID owned by worker_id (0..255).
  ngtcp2_cid make(int worker_id) const;
  // Same, with caller-provided random bytes (tests).
  ngtcp2_cid make(int worker_id, std::span<const uint8_t, kCidLength - 1> random) const;
  // The worker a CID names, or nullopt if it is not one of ours by length.
  std::optional<int> worker_of(std::span<const uint8_t> cid) const;

 private:
  uint8_t mask(const uint8_t* rest) const;
  std::array<uint8_t, 16> key_{};
};

// A CID as a hash-map key.
struct CidKey {
  uint8_t len = 0;
  std::array<uint8_t, NGTCP2_MAX_CIDLEN> data{};

  CidKey() = default;
  CidKey(const uint8_t* p, size_t n) : len(static_cast<uint8_t>(n)) { memcpy(data.data(), p, n); }
  explicit CidKey(const ngtcp2_cid& c) : CidKey(c.data, c.datalen) {}
  bool operator==(const CidKey& o) const {
    return len == o.len && memcmp(data.data(), o.data.data(), len) == 0;
  }
};

struct CidKeyHash {
  size_t operator()(const CidKey& k) const noexcept {
    // CIDs are random; FNV-1a over them is plenty (and not attacker-controllable for ours).
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < k.len; ++i) {
      h ^= k.data[i];
      h *= 1099511628211ull;
    }
    return static_cast<size_t>(h);
  }
};

std::string cid_hex(const uint8_t* p, size_t n);
inline std::string cid_hex(const ngtcp2_cid& c) { return cid_hex(c.data, c.datalen); }

// Cryptographically secure random bytes (gnutls_rnd). Returns false on failure.
bool random_bytes(uint8_t* out, size_t n);

}  // namespace mirror::quic
