// Address validation (RFC 9000 §8.1): Retry tokens, NEW_TOKEN tokens and the policy that decides,
// for a client Initial, whether to accept it, answer with Retry, or refuse it statelessly.
// Tokens are AEAD-sealed by ngtcp2_crypto with the endpoint's static secret and a wall-clock
// timestamp, so any worker (or host with the same secret) can verify them.
#pragma once

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "quic/options.h"

namespace mirror::quic {

enum class TokenKind { kNone, kRetry, kRegular, kUnknown };
TokenKind classify_token(std::span<const uint8_t> token);

// What to do with a client Initial that opens a new connection.
struct InitialVerdict {
  enum class Action {
    kAccept,             // create the connection
    kRetry,              // send Retry (stateless), no state kept
    kCloseInvalidToken,  // stateless CONNECTION_CLOSE(INVALID_TOKEN): a bad/expired Retry token
  };
  Action action = Action::kAccept;
  bool address_validated = false;  // a valid token: lift the 3x anti-amplification limit
  bool token_from_retry = false;   // the token is a verified Retry token (ODCID recovered)
};

// token_ok: the result of verifying the token (ignored for kNone). busy: handshakes in progress on
// this worker exceed the retry threshold (kAuto mode).
InitialVerdict judge_initial(RetryMode mode, bool busy, TokenKind kind, bool token_ok);

// Nanoseconds since the Unix epoch: tokens carry wall-clock time so they survive restarts and are
// valid across hosts.
uint64_t wall_clock_ns();

class TokenSealer {
 public:
  explicit TokenSealer(std::span<const uint8_t> secret) : secret_(secret.begin(), secret.end()) {}

  // Empty on failure.
  std::vector<uint8_t> make_retry_token(uint32_t version, const sockaddr* remote,
                                        socklen_t remote_len, const ngtcp2_cid& retry_scid,
                                        const ngtcp2_cid& odcid, uint64_t now_ns) const;
  // On success stores the client's original DCID in *odcid. dcid: the DCID of the Initial that
  // carries the token (it must be the Retry's SCID).
  bool verify_retry_token(std::span<const uint8_t> token, uint32_t version, const sockaddr* remote,
                          socklen_t remote_len, const ngtcp2_cid& dcid,
                          std::chrono::nanoseconds lifetime, uint64_t now_ns,
                          ngtcp2_cid* odcid) const;

  std::vector<uint8_t> make_regular_token(const sockaddr* remote, socklen_t remote_len,
                                          uint64_t now_ns) const;
  bool verify_regular_token(std::span<const uint8_t> token, const sockaddr* remote,
                            socklen_t remote_len, std::chrono::nanoseconds lifetime,
                            uint64_t now_ns) const;

  std::span<const uint8_t> secret() const { return secret_; }

 private:
  std::vector<uint8_t> secret_;
};

}  // namespace mirror::quic
