#include "quic/udp_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

namespace mirror::quic {
namespace {

Error sys_error(const char* what, const Address& addr) {
  return make_error("quic.socket", fmt::format("{} {}: {}", what, addr.to_string(), strerror(errno)));
}

void set_buffer(int fd, int force_opt, int opt, int bytes) {
  if (bytes <= 0) return;
  // The FORCE variants bypass net.core.{r,w}mem_max but need CAP_NET_ADMIN.
  if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) == 0) return;
  setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
}

uint8_t cmsg_ecn(msghdr* msg) {
  for (auto* c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS && c->cmsg_len) {
      return *reinterpret_cast<uint8_t*>(CMSG_DATA(c)) & 0x3;
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS && c->cmsg_len) {
      int v;
      memcpy(&v, CMSG_DATA(c), sizeof(v));
      return static_cast<uint8_t>(v & 0x3);
    }
  }
  return 0;
}

bool cmsg_local(msghdr* msg, int family, Address* out) {
  for (auto* c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
    if (family == AF_INET && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      sockaddr_in in{};
      in.sin_family = AF_INET;
      in.sin_addr = pi.ipi_addr;
      *out = Address(reinterpret_cast<sockaddr*>(&in), sizeof(in));
      return true;
    }
    if (family == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      sockaddr_in6 in6{};
      in6.sin6_family = AF_INET6;
      in6.sin6_addr = pi.ipi6_addr;
      *out = Address(reinterpret_cast<sockaddr*>(&in6), sizeof(in6));
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<UdpSocket>> UdpSocket::open(const Address& addr, const Config& cfg) {
  std::unique_ptr<UdpSocket> s(new UdpSocket());
  int family = addr.family();
  s->fd_.reset(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int fd = s->fd_.get();
  if (fd < 0) return sys_error("socket", addr);
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    return sys_error("SO_REUSEPORT", addr);
  }
  if (family == AF_INET6) {
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0 ||
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) != 0) {
      return sys_error("IPV6_RECVPKTINFO", addr);
    }
    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
    int pmtud = IPV6_PMTUDISC_DO;  // QUIC does its own PMTUD; never fragment
    setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtud, sizeof(pmtud));
  } else {
    if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) != 0) {
      return sys_error("IP_PKTINFO", addr);
    }
    setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
    int pmtud = IP_PMTUDISC_DO;
    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtud, sizeof(pmtud));
  }
  set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, cfg.buffer_bytes);
  set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, cfg.buffer_bytes);
  if (::bind(fd, addr.sa(), addr.len) != 0) return sys_error("bind", addr);
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return sys_error("getsockname", addr);
  }
  s->bound_ = Address(reinterpret_cast<sockaddr*>(&ss), len);
  if (cfg.enable_gso) {
    int seg = 0;
    socklen_t seglen = sizeof(seg);
    s->gso_ = getsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, &seglen) == 0;
  }
  s->buffers_.resize(kBatch * kBufferSize);
  return s;
}

size_t UdpSocket::receive_batch(const std::function<void(ReceivedDatagram&)>& fn) {
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iovs{};
  std::array<sockaddr_storage, kBatch> names{};
  static constexpr size_t kCtrl = CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(int));
  std::array<std::array<uint8_t, kCtrl>, kBatch> ctrl{};
  for (size_t i = 0; i < kBatch; ++i) {
    iovs[i] = iovec{buffers_.data() + i * kBufferSize, kBufferSize};
    auto& h = msgs[i].msg_hdr;
    h.msg_name = &names[i];
    h.msg_namelen = sizeof(names[i]);
    h.msg_iov = &iovs[i];
    h.msg_iovlen = 1;
    h.msg_control = ctrl[i].data();
    h.msg_controllen = ctrl[i].size();
  }
  int n;
  do {
    n = recvmmsg(fd_.get(), msgs.data(), kBatch, 0, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return 0;
  for (int i = 0; i < n; ++i) {
    auto& h = msgs[i].msg_hdr;
    if (h.msg_flags & MSG_TRUNC) continue;
    ReceivedDatagram d;
    d.data = std::span<uint8_t>(buffers_.data() + i * kBufferSize, msgs[i].msg_len);
    d.remote = Address(reinterpret_cast<sockaddr*>(&names[i]), h.msg_namelen);
    if (!cmsg_local(&h, family(), &d.local)) d.local = bound_;
    d.local.set_port(bound_.port());
    d.ecn = cmsg_ecn(&h);
    if (d.data.empty()) continue;
    fn(d);
  }
  return static_cast<size_t>(n);
}

UdpSocket::SendStatus UdpSocket::send_one(const ngtcp2_addr& local, const ngtcp2_addr& remote,
                                          uint8_t ecn, std::span<const uint8_t> data,
                                          size_t gso_size) {
  iovec iov{const_cast<uint8_t*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_name = remote.addr;
  msg.msg_namelen = remote.addrlen;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) uint8_t ctrl[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(uint16_t)) +
                                CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof(ctrl);
  size_t used = 0;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  // Source address: reply from the address the peer talked to (multi-homed hosts, wildcard binds).
  if (local.addr->sa_family == AF_INET && family() == AF_INET) {
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo pi{};
    pi.ipi_spec_dst = reinterpret_cast<const sockaddr_in*>(local.addr)->sin_addr;
    memcpy(CMSG_DATA(c), &pi, sizeof(pi));
    used += CMSG_SPACE(sizeof(in_pktinfo));
    c = CMSG_NXTHDR(&msg, c);
  } else if (local.addr->sa_family == AF_INET6 && family() == AF_INET6) {
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo pi{};
    pi.ipi6_addr = reinterpret_cast<const sockaddr_in6*>(local.addr)->sin6_addr;
    memcpy(CMSG_DATA(c), &pi, sizeof(pi));
    used += CMSG_SPACE(sizeof(in6_pktinfo));
    c = CMSG_NXTHDR(&msg, c);
  }
  if (data.size() > gso_size) {
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t seg = static_cast<uint16_t>(gso_size);
    memcpy(CMSG_DATA(c), &seg, sizeof(seg));
    used += CMSG_SPACE(sizeof(uint16_t));
    c = CMSG_NXTHDR(&msg, c);
  }
  if (ecn) {
    c->cmsg_level = family() == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
    c->cmsg_type = family() == AF_INET6 ? IPV6_TCLASS : IP_TOS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    int tos = ecn;
    memcpy(CMSG_DATA(c), &tos, sizeof(tos));
    used += CMSG_SPACE(sizeof(int));
  }
  msg.msg_controllen = used;
  if (used == 0) msg.msg_control = nullptr;
  ssize_t n;
  do {
    n = sendmsg(fd_.get(), &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) {
    if (data.size() > gso_size) gso_sends_.fetch_add(1, std::memory_order_relaxed);
    return SendStatus::kOk;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return SendStatus::kBlocked;
  return SendStatus::kError;
}

UdpSocket::SendStatus UdpSocket::send(const ngtcp2_addr& local, const ngtcp2_addr& remote,
                                      uint8_t ecn, std::span<const uint8_t> data, size_t gso_size,
                                      size_t* sent_bytes) {
  if (sent_bytes) *sent_bytes = 0;
  if (gso_size == 0 || gso_size > data.size()) gso_size = data.size();
  if (gso_ && data.size() > gso_size) {
    auto st = send_one(local, remote, ecn, data, gso_size);
    if (st != SendStatus::kError) {
      if (st == SendStatus::kOk && sent_bytes) *sent_bytes = data.size();
      return st;
    }
    if (errno == EIO || errno == EINVAL) {
      // EIO: the device cannot segment (e.g. checksum offload off); EINVAL: the kernel rejects
      // the segment size. Fall back to one sendmsg per packet for the rest of this socket's life.
      spdlog::warn("quic: disabling UDP GSO on {}: {}", bound_.to_string(), strerror(errno));
      gso_ = false;
    } else if (errno != EMSGSIZE) {  // EMSGSIZE: this batch only is too big for the route
      return st;
    }
  }
  size_t off = 0;
  while (off < data.size()) {
    size_t len = std::min(gso_size, data.size() - off);
    auto st = send_one(local, remote, ecn, data.subspan(off, len), len);
    if (st == SendStatus::kBlocked) return st;
    // A failed datagram (e.g. EHOSTUNREACH on an old path) is like a lost one: QUIC recovers.
    off += len;
    if (sent_bytes) *sent_bytes = off;
  }
  return SendStatus::kOk;
}

}  // namespace mirror::quic
