#include "h3load/udp.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/ip.h>

#include <cerrno>
#include <cstring>

namespace h3load {

using mirror::make_error;

mirror::Result<Address> resolve_udp(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (int rv = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rv != 0) {
    return make_error("resolve", host + ":" + port + ": " + gai_strerror(rv));
  }
  Address a;
  std::memcpy(&a.storage, res->ai_addr, res->ai_addrlen);
  a.len = res->ai_addrlen;
  freeaddrinfo(res);
  return a;
}

namespace {

// Asks for `bytes`; SO_*BUFFORCE ignores net.core.[rw]mem_max but needs CAP_NET_ADMIN, so fall
// back to the capped option.
void grow_buffer(int fd, int force_opt, int opt, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) != 0) {
    setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
  }
}

}  // namespace

mirror::Result<mirror::UniqueFd> open_udp_socket(const Address& remote, Address& local) {
  const int family = remote.storage.ss_family;
  mirror::UniqueFd fd(socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!fd) return make_error("udp.socket", std::strerror(errno));
  grow_buffer(fd.get(), SO_RCVBUFFORCE, SO_RCVBUF, 8 << 20);
  grow_buffer(fd.get(), SO_SNDBUFFORCE, SO_SNDBUF, 4 << 20);
  // Don't fragment: PMTUD probes must fail rather than be split.
  int pmtu = IP_PMTUDISC_DO;
  if (family == AF_INET) {
    setsockopt(fd.get(), IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
  } else {
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu);
  }
  if (connect(fd.get(), remote.sa(), remote.len) != 0) {
    return make_error("udp.connect", std::strerror(errno));
  }
  local.len = sizeof local.storage;
  if (getsockname(fd.get(), local.sa(), &local.len) != 0) {
    return make_error("udp.getsockname", std::strerror(errno));
  }
  return fd;
}

RecvBatch::RecvBatch() : buf_(kMessages * kSlotSize), iov_(kMessages), msgs_(kMessages) {
  for (size_t i = 0; i < kMessages; ++i) {
    iov_[i] = {buf_.data() + i * kSlotSize, kSlotSize};
    msgs_[i].msg_hdr = {};
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
}

int RecvBatch::receive(int fd) {
  for (;;) {
    for (auto& m : msgs_) m.msg_hdr.msg_flags = 0;
    const int n = recvmmsg(fd, msgs_.data(), kMessages, MSG_DONTWAIT, nullptr);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -errno;
  }
}

void SendBatch::reset(size_t slot_size) {
  if (buf_.size() < slot_size * kMaxPackets) buf_.resize(slot_size * kMaxPackets);
  slot_size_ = slot_size;
  lens_.clear();
  sent_ = 0;
}

int SendBatch::flush(int fd) {
  while (sent_ < lens_.size()) {
    const size_t n = lens_.size() - sent_;
    iovec iov[kMaxPackets];
    mmsghdr msgs[kMaxPackets];
    for (size_t i = 0; i < n; ++i) {
      iov[i] = {buf_.data() + (sent_ + i) * slot_size_, lens_[sent_ + i]};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int rv = sendmmsg(fd, msgs, static_cast<unsigned>(n), 0);
    if (rv > 0) {
      sent_ += static_cast<size_t>(rv);
      continue;
    }
    if (rv < 0 && errno == EINTR) continue;
    if (rv < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
    if (rv < 0 && errno == EMSGSIZE) {  // the first unsent datagram is too big: drop it
      ++sent_;
      continue;
    }
    return rv < 0 ? -errno : -EIO;
  }
  return 0;
}

}  // namespace h3load
