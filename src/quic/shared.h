// State shared (read-only) by every worker's quic::Endpoint.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "base/result.h"
#include "quic/cid.h"
#include "quic/token.h"

namespace mirror::tls {
class Credentials;
class TicketKeys;
class AntiReplay;
}  // namespace mirror::tls

namespace mirror::quic {

struct Shared {
  std::shared_ptr<const tls::Credentials> credentials;  // same certificate as TCP
  std::shared_ptr<const tls::TicketKeys> ticket_keys;   // resumption + 0-RTT across workers
  std::shared_ptr<tls::AntiReplay> anti_replay;          // 0-RTT replay store (may be null: no 0-RTT)
  // Keys Retry/NEW_TOKEN tokens, stateless reset tokens and the worker byte of our CIDs. Every
  // worker (and every host of a fleet that shares a ticket key file) must hold the same value.
  std::array<uint8_t, 32> static_secret{};
  int worker_count = 1;  // CIDs naming a worker >= this are not ours (stateless reset / drop)

  // static_secret = random (from_ticket_key = false) or HMAC-SHA256(ticket master key, label), so
  // that hosts sharing a ticket key file also agree on tokens and stateless resets.
  static Result<std::shared_ptr<Shared>> create(std::shared_ptr<const tls::Credentials> credentials,
                                                std::shared_ptr<const tls::TicketKeys> ticket_keys,
                                                std::shared_ptr<tls::AntiReplay> anti_replay,
                                                int worker_count, bool secret_from_ticket_key);

  CidCodec cid_codec() const { return CidCodec(static_secret); }
  TokenSealer token_sealer() const { return TokenSealer(static_secret); }
};

}  // namespace mirror::quic
