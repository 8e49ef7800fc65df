// Socket addresses for QUIC paths, and the datagram that workers hand to each other.
#pragma once

#include <netinet/in.h>
#include <ngtcp2/ngtcp2.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mirror::quic {

struct Address {
  sockaddr_storage storage{};
  socklen_t len = 0;

  Address() = default;
  Address(const sockaddr* sa, socklen_t n) : len(n) { memcpy(&storage, sa, n); }

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
  uint16_t port() const;
  void set_port(uint16_t port);
  bool is_wildcard() const;
  // "1.2.3.4:443" or "[::1]:443".
  std::string to_string() const;
  ngtcp2_addr as_ngtcp2() const {
    return ngtcp2_addr{const_cast<sockaddr*>(sa()), len};
  }

  // "0.0.0.0", "::", "127.0.0.1", "[::1]" (numeric only) plus a port.
  static std::optional<Address> parse(std::string_view host, uint16_t port);
};

std::string address_to_string(const sockaddr* sa, socklen_t len);

// A UDP datagram handed from the worker that received it to the worker its DCID names.
struct Datagram {
  Address local;             // true local address (IP_PKTINFO) and port
  Address remote;
  uint8_t ecn = 0;           // ECN bits from IP_TOS / IPV6_TCLASS
  size_t socket_index = 0;   // which listen address (same order on every worker)
  std::vector<uint8_t> data;
};

}  // namespace mirror::quic
