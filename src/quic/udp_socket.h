// One UDP socket of a worker: SO_REUSEPORT (every worker binds the same address), the true local
// address and ECN bits of every datagram (IP_PKTINFO / IPV6_RECVPKTINFO, IP_RECVTOS /
// IPV6_RECVTCLASS), batched receives (recvmmsg) and batched sends (UDP_SEGMENT, i.e. GSO, with a
// per-packet fallback when the kernel or the route refuses it).
#pragma once

#include <ngtcp2/ngtcp2.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "quic/address.h"

namespace mirror::quic {

struct ReceivedDatagram {
  std::span<uint8_t> data;
  Address local;   // destination address of the datagram, with our port
  Address remote;
  uint8_t ecn = 0;
};

class UdpSocket {
 public:
  struct Config {
    int buffer_bytes = 4 * 1024 * 1024;
    bool enable_gso = true;
  };
  static Result<std::unique_ptr<UdpSocket>> open(const Address& bind_address, const Config& cfg);

  int fd() const { return fd_.get(); }
  const Address& bound() const { return bound_; }
  int family() const { return bound_.family(); }
  bool gso() const { return gso_; }

  // Reads one batch (recvmmsg) and calls fn per datagram. Returns the number read (0: nothing
  // pending). Truncated datagrams are dropped.
  size_t receive_batch(const std::function<void(ReceivedDatagram&)>& fn);

  enum class SendStatus { kOk, kBlocked, kError };
  // Sends data as datagrams of gso_size bytes (the last may be shorter) from `local` to `remote`,
  // marking them with `ecn`. *sent_bytes: how much left the socket (whole datagrams) when blocked.
  SendStatus send(const ngtcp2_addr& local, const ngtcp2_addr& remote, uint8_t ecn,
                  std::span<const uint8_t> data, size_t gso_size, size_t* sent_bytes = nullptr);

  uint64_t gso_sends() const { return gso_sends_.load(std::memory_order_relaxed); }

 private:
  UdpSocket() = default;
  SendStatus send_one(const ngtcp2_addr& local, const ngtcp2_addr& remote, uint8_t ecn,
                      std::span<const uint8_t> data, size_t gso_size);

  static constexpr size_t kBatch = 16;
  static constexpr size_t kBufferSize = 65536;

  UniqueFd fd_;
  Address bound_;
  bool gso_ = false;
  std::atomic<uint64_t> gso_sends_{0};
  std::vector<uint8_t> buffers_;  // kBatch * kBufferSize
};

}  // namespace mirror::quic
