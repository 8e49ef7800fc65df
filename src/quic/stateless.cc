// Packets the endpoint sends without connection state: Version Negotiation, Retry, a stateless
// CONNECTION_CLOSE for Initials we refuse, and stateless resets for unknown connection IDs.
#include <ngtcp2/ngtcp2_crypto.h>

#include <array>

#include "base/clock.h"
#include "quic/endpoint.h"

namespace mirror::quic {
namespace {

// Smallest datagram we answer with a stateless reset. Our short-header packets are at least
// 1 + 18 (CID) + 1 (packet number) + 20 (payload + tag) bytes, and the reset must be shorter than
// the packet that triggered it (RFC 9000 §10.3.3), so two endpoints cannot loop forever.
constexpr size_t kMinResetTrigger = 41;
constexpr size_t kMaxResetSize = 64;

// A reserved version (0x?a?a?a?a) derived from the client address, so every VN packet greases the
// version list (RFC 9000 §15) while staying stable for one client.
uint32_t grease_version(const Address& remote) {
  uint32_t h = 0x811C9DC5u;
  const auto* p = reinterpret_cast<const uint8_t*>(remote.sa());
  for (socklen_t i = 0; i < remote.len; ++i) {
    h ^= p[i];
    h *= 0x01000193u;
  }
  return (h & 0xf0f0f0f0u) | 0x0a0a0a0au;
}

}  // namespace

void Endpoint::send_raw(std::span<const uint8_t> packet, const Address& local,
                        const Address& remote, size_t socket_index) {
  auto* sock = sockets_[socket_index]->udp.get();
  if (sock->send(local.as_ngtcp2(), remote.as_ngtcp2(), 0, packet, packet.size()) ==
      UdpSocket::SendStatus::kOk) {
    counters_.datagrams_sent.fetch_add(1, std::memory_order_relaxed);
  }
}

void Endpoint::send_version_negotiation(const ngtcp2_version_cid& vc, const Address& local,
                                        const Address& remote, size_t socket_index) {
  std::array<uint32_t, 2> versions{grease_version(remote), NGTCP2_PROTO_VER_V1};
  std::array<uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> buf;
  uint8_t unused = 0;
  random_bytes(&unused, 1);
  // The VN packet echoes the client's CIDs swapped.
  auto n = ngtcp2_pkt_write_version_negotiation(buf.data(), buf.size(), unused, vc.scid,
                                                vc.scidlen, vc.dcid, vc.dcidlen, versions.data(),
                                                versions.size());
  if (n <= 0) return;
  counters_.version_negotiations_sent.fetch_add(1, std::memory_order_relaxed);
  send_raw({buf.data(), static_cast<size_t>(n)}, local, remote, socket_index);
}

void Endpoint::send_retry(const ngtcp2_pkt_hd& hd, const Address& local, const Address& remote,
                          size_t socket_index, size_t trigger_len) {
  // The Retry's SCID names this worker, so the client's next Initial routes back here.
  ngtcp2_cid retry_scid = codec_.make(worker_id_);
  auto token = sealer_.make_retry_token(hd.version, remote.sa(), remote.len, retry_scid, hd.dcid,
                                        wall_clock_ns());
  if (token.empty()) return;
  std::array<uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> buf;
  // Never more than 3x what the client sent (anti-amplification also applies to Retry).
  size_t cap = std::min(buf.size(), trigger_len * 3);
  auto n = ngtcp2_crypto_write_retry(buf.data(), cap, hd.version, &hd.scid, &retry_scid, &hd.dcid,
                                     token.data(), token.size());
  if (n <= 0) return;
  counters_.retries_sent.fetch_add(1, std::memory_order_relaxed);
  send_raw({buf.data(), static_cast<size_t>(n)}, local, remote, socket_index);
}

void Endpoint::send_stateless_close(const ngtcp2_pkt_hd& hd, uint64_t error_code,
                                    const Address& local, const Address& remote,
                                    size_t socket_index) {
  std::array<uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> buf;
  auto n = ngtcp2_crypto_write_connection_close(buf.data(), buf.size(), hd.version, &hd.scid,
                                                &hd.dcid, error_code, nullptr, 0);
  if (n <= 0) return;
  send_raw({buf.data(), static_cast<size_t>(n)}, local, remote, socket_index);
}

void Endpoint::send_stateless_reset(std::span<const uint8_t> dcid, size_t trigger_len,
                                    const Address& local, const Address& remote,
                                    size_t socket_index) {
  if (trigger_len < kMinResetTrigger || dcid.size() != kCidLength) {
    counters_.datagrams_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!reset_limiter_.allow(monotonic_ns())) {
    counters_.datagrams_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ngtcp2_cid cid{};
  cid.datalen = dcid.size();
  memcpy(cid.data, dcid.data(), dcid.size());
  std::array<uint8_t, NGTCP2_STATELESS_RESET_TOKENLEN> token;
  // The same derivation the connection used when it issued this CID: only we can produce it.
  if (ngtcp2_crypto_generate_stateless_reset_token(token.data(), shared_->static_secret.data(),
                                                   shared_->static_secret.size(), &cid) != 0) {
    return;
  }
  size_t total = std::min(trigger_len - 1, kMaxResetSize);
  size_t randlen = total - 1 - NGTCP2_STATELESS_RESET_TOKENLEN;
  std::array<uint8_t, kMaxResetSize> rand;
  random_bytes(rand.data(), randlen);
  std::array<uint8_t, kMaxResetSize> buf;
  auto n = ngtcp2_pkt_write_stateless_reset(buf.data(), buf.size(), token.data(), rand.data(),
                                            randlen);
  if (n <= 0) return;
  counters_.stateless_resets_sent.fetch_add(1, std::memory_order_relaxed);
  send_raw({buf.data(), static_cast<size_t>(n)}, local, remote, socket_index);
}

}  // namespace mirror::quic
