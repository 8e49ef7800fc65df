// UDP plumbing for the client: a connected socket per QUIC connection, batched receive
// (recvmmsg, one buffer set per worker thread) and batched send (sendmmsg, per connection).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace h3load {

struct Address {
  sockaddr_storage storage{};
  socklen_t len = 0;
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&storage); }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

mirror::Result<Address> resolve_udp(const std::string& host, const std::string& port);

// A non-blocking UDP socket connect()ed to `remote` (so the kernel filters other senders and
// reports ICMP errors as ECONNREFUSED), with large buffers and DF set for PMTUD. Fills `local`.
mirror::Result<mirror::UniqueFd> open_udp_socket(const Address& remote, Address& local);

// Receive side, shared by all connections of one worker thread (they run one at a time).
class RecvBatch {
 public:
  static constexpr size_t kMessages = 32;
  static constexpr size_t kSlotSize = 4096;  // we advertise max_udp_payload_size = kSlotSize

  RecvBatch();
  // Reads up to kMessages datagrams. Returns how many (0 = nothing waiting), or -errno.
  int receive(int fd);
  const uint8_t* data(size_t i) const { return buf_.data() + i * kSlotSize; }
  size_t size(size_t i) const { return msgs_[i].msg_len; }
  bool truncated(size_t i) const { return (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0; }

 private:
  std::vector<uint8_t> buf_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
};

// Send side: ngtcp2 writes packets straight into slots; flush() hands them to the kernel in one
// sendmmsg call and remembers where it stopped if the socket buffer is full.
class SendBatch {
 public:
  static constexpr size_t kMaxPackets = 32;

  // Empties the batch; every slot can hold `slot_size` bytes.
  void reset(size_t slot_size);
  uint8_t* slot() { return buf_.data() + lens_.size() * slot_size_; }
  size_t slot_size() const { return slot_size_; }
  void commit(size_t len) { lens_.push_back(len); }
  size_t count() const { return lens_.size(); }
  bool pending() const { return sent_ < lens_.size(); }

  // Returns 0 when everything is sent, 1 when the socket would block (call again when it is
  // writable), or -errno on a hard error. Datagrams the kernel refuses as too big (EMSGSIZE,
  // e.g. a PMTUD probe) are dropped: QUIC treats them as lost.
  int flush(int fd);

 private:
  std::vector<uint8_t> buf_;
  std::vector<size_t> lens_;
  size_t slot_size_ = 0;
  size_t sent_ = 0;
};

}  // namespace h3load
