#include "quic/token.h"

namespace mirror::quic {

TokenKind classify_token(std::span<const uint8_t> token) {
  if (token.empty()) return TokenKind::kNone;
  switch (token[0]) {
    case NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY: return TokenKind::kRetry;
    case NGTCP2_CRYPTO_TOKEN_MAGIC_REGULAR: return TokenKind::kRegular;
    default: return TokenKind::kUnknown;
  }
}

InitialVerdict judge_initial(RetryMode mode, bool busy, TokenKind kind, bool token_ok) {
  using A = InitialVerdict::Action;
  const bool want_retry = mode == RetryMode::kAlways || (mode == RetryMode::kAuto && busy);
  switch (kind) {
    case TokenKind::kRetry:
      // A Retry token is only ever valid right after our Retry; a bad one means the client (or an
      // attacker) replays or forges it: RFC 9000 §8.1.2 says close with INVALID_TOKEN.
      if (token_ok) return {A::kAccept, true, true};
      return {A::kCloseInvalidToken, false, false};
    case TokenKind::kRegular:
      if (token_ok) return {A::kAccept, true, false};
      [[fallthrough]];  // an expired NEW_TOKEN token is treated as no token (§8.1.3)
    case TokenKind::kUnknown:
    case TokenKind::kNone:
      if (want_retry) return {A::kRetry, false, false};
      return {A::kAccept, false, false};
  }
  return {A::kAccept, false, false};
}

uint64_t wall_clock_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::vector<uint8_t> TokenSealer::make_retry_token(uint32_t version, const sockaddr* remote,
                                                   socklen_t remote_len,
                                                   const ngtcp2_cid& retry_scid,
                                                   const ngtcp2_cid& odcid, uint64_t now_ns) const {
  std::vector<uint8_t> token(NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN);
  auto n = ngtcp2_crypto_generate_retry_token(token.data(), secret_.data(), secret_.size(),
                                              version, remote, remote_len, &retry_scid, &odcid,
                                              now_ns);
  if (n < 0) return {};
  token.resize(static_cast<size_t>(n));
  return token;
}

bool TokenSealer::verify_retry_token(std::span<const uint8_t> token, uint32_t version,
                                     const sockaddr* remote, socklen_t remote_len,
                                     const ngtcp2_cid& dcid, std::chrono::nanoseconds lifetime,
                                     uint64_t now_ns, ngtcp2_cid* odcid) const {
  return ngtcp2_crypto_verify_retry_token(odcid, token.data(), token.size(), secret_.data(),
                                          secret_.size(), version, remote, remote_len, &dcid,
                                          static_cast<ngtcp2_duration>(lifetime.count()),
                                          now_ns) == 0;
}

std::vector<uint8_t> TokenSealer::make_regular_token(const sockaddr* remote, socklen_t remote_len,
                                                     uint64_t now_ns) const {
  std::vector<uint8_t> token(NGTCP2_CRYPTO_MAX_REGULAR_TOKENLEN);
  auto n = ngtcp2_crypto_generate_regular_token(token.data(), secret_.data(), secret_.size(),
                                                remote, remote_len, now_ns);
  if (n < 0) return {};
  token.resize(static_cast<size_t>(n));
  return token;
}

bool TokenSealer::verify_regular_token(std::span<const uint8_t> token, const sockaddr* remote,
                                       socklen_t remote_len, std::chrono::nanoseconds lifetime,
                                       uint64_t now_ns) const {
  return ngtcp2_crypto_verify_regular_token(token.data(), token.size(), secret_.data(),
                                            secret_.size(), remote, remote_len,
                                            static_cast<ngtcp2_duration>(lifetime.count()),
                                            now_ns) == 0;
}

}  // namespace mirror::quic
