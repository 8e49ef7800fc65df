#include "middleware/request_id.h"

#include <cstdint>
#include <random>

namespace mirror::middleware {
namespace {

constexpr size_t kMaxRequestIdLength = 128;

// xoshiro256** (Blackman & Vigna): a few ns per id, no locks; seeded once per thread.
class FastRng {
 public:
  FastRng() {
    std::random_device rd;
    for (auto& s : s_) s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  uint64_t next() {
    uint64_t result = rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace

bool is_sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string generate_request_id() {
  thread_local FastRng rng;
  uint64_t hi = rng.next();
  uint64_t lo = rng.next();
  hi = (hi & ~0xF000ull) | 0x4000ull;                  // version 4
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);  // variant 10xx
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t pos = 0;
  auto put = [&](uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;  // keep the dashes
      out[pos++] = kHex[(v >> (i * 4)) & 0xF];
    }
  };
  put(hi, 16);
  put(lo, 16);
  return out;
}

void RequestId::handle(web::Context& ctx, const web::Next& next) {
  const std::string* given = ctx.req().headers.get("x-request-id");
  std::string id = (given && is_sane_request_id(*given)) ? *given : generate_request_id();
  ctx.res().headers.set("x-request-id", id);
  ctx.set_request_id(std::move(id));
  next();
}

}  // namespace mirror::middleware
