#include "quic/endpoint.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "base/clock.h"
#include "quic/token.h"
#include "tls/anti_replay.h"

namespace mirror::quic {
namespace {

// "127.0.0.1", "0.0.0.0:8443", "::", "[::1]:8443" -> host + port (default_port when absent).
std::optional<Address> parse_listen(const std::string& s, uint16_t default_port) {
  std::string host = s;
  uint16_t port = default_port;
  auto set_port = [&](const std::string& p) {
    try {
      int v = std::stoi(p);
      if (v < 0 || v > 65535) return false;
      port = static_cast<uint16_t>(v);
      return true;
    } catch (...) {
      return false;
    }
  };
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':' || !set_port(s.substr(close + 2))) return std::nullopt;
    }
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    auto colon = s.find(':');
    host = s.substr(0, colon);
    if (!set_port(s.substr(colon + 1))) return std::nullopt;
  }
  return Address::parse(host, port);
}

}  // namespace

Endpoint::Endpoint(struct ev_loop* loop, int worker_id, const Options& options,
                   std::shared_ptr<const Shared> shared, ApplicationFactory factory)
    : loop_(loop),
      worker_id_(worker_id),
      options_(options),
      shared_(std::move(shared)),
      factory_(std::move(factory)),
      codec_(shared_->cid_codec()),
      sealer_(shared_->token_sealer()),
      reset_limiter_(options.stateless_resets_per_second) {
  flush_timer_.init(loop_, [this] { flush(); });
  shutdown_deadline_.init(loop_, [this] {
    std::vector<Connection*> all;
    for (auto& [c, e] : connections_) all.push_back(c);
    for (auto* c : all) {
      if (!c->dead()) c->close_now();
    }
    flush();
  });
}

Endpoint::~Endpoint() {
  flush_timer_.stop();
  shutdown_deadline_.stop();
  for (auto& s : sockets_) s->watcher.stop();
  // Connections abort their exchanges (connection_lost) as they are destroyed.
  connections_.clear();
  cids_.clear();
  connections_open_.store(0);
}

Result<void> Endpoint::start(const std::vector<std::string>& listen_addresses) {
  // tls::AntiReplay keeps one GnuTLS anti-replay context per thread, whose recording window starts
  // when it is created; GnuTLS refuses 0-RTT for tickets issued before that. Create ours now (on
  // the worker thread) so tickets issued by other workers after startup are accepted here.
  if (shared_->anti_replay && options_.enable_0rtt) shared_->anti_replay->get();
  UdpSocket::Config cfg{options_.socket_buffer_bytes, options_.enable_gso};
  for (const auto& s : listen_addresses) {
    auto addr = parse_listen(s, options_.port);
    if (!addr) return make_error("quic.config", "bad listen address for HTTP/3: " + s);
    auto udp = UdpSocket::open(*addr, cfg);
    if (!udp) return udp.error();
    auto sock = std::make_unique<Socket>();
    sock->udp = std::move(udp.value());
    size_t index = sockets_.size();
    sock->watcher.init(loop_, sock->udp->fd(), EV_READ,
                       [this, index](int revents) { on_socket_event(index, revents); });
    sock->watcher.start();
    spdlog::debug("quic worker {}: listening on udp {}{}", worker_id_,
                  sock->udp->bound().to_string(), sock->udp->gso() ? " (GSO)" : "");
    sockets_.push_back(std::move(sock));
  }
  if (sockets_.empty()) return make_error("quic.config", "no HTTP/3 listen address");
  return {};
}

std::vector<Address> Endpoint::local_addresses() const {
  std::vector<Address> out;
  for (const auto& s : sockets_) out.push_back(s->udp->bound());
  return out;
}

Stats Endpoint::stats() const {
  Stats s = snapshot(counters_);
  for (const auto& s2 : sockets_) s.gso_sends += s2->udp->gso_sends();
  s.connections_open = connections_open_.load(std::memory_order_relaxed);
  s.handshakes_in_progress = handshakes_in_progress_.load(std::memory_order_relaxed);
  return s;
}

// --- receiving and routing ---

void Endpoint::on_socket_event(size_t index, int revents) {
  Socket& sock = *sockets_[index];
  if (revents & EV_WRITE) {
    auto waiters = std::move(sock.write_waiters);
    sock.write_waiters.clear();
    sock.watcher.set_events(EV_READ);
    for (auto* c : waiters) {
      if (connections_.count(c) && !c->dead()) c->on_writable();
    }
  }
  if (revents & EV_READ) {
    in_batch_ = true;
    // A few batches per wakeup, then let timers and other sockets run.
    for (int round = 0; round < 4; ++round) {
      size_t n = sock.udp->receive_batch([&](ReceivedDatagram& d) {
        dispatch(d.data, d.local, d.remote, d.ecn, index, false);
      });
      if (n == 0) break;
    }
    in_batch_ = false;
  }
  flush();
}

void Endpoint::deliver(Datagram d) {
  if (d.socket_index >= sockets_.size()) return;
  in_batch_ = true;
  dispatch(d.data, d.local, d.remote, d.ecn, d.socket_index, true);
  in_batch_ = false;
  flush();
}

void Endpoint::dispatch(std::span<const uint8_t> data, const Address& local, const Address& remote,
                        uint8_t ecn, size_t socket_index, bool forwarded) {
  counters_.datagrams_received.fetch_add(1, std::memory_order_relaxed);
  ngtcp2_version_cid vc;
  switch (ngtcp2_pkt_decode_version_cid(&vc, data.data(), data.size(), kCidLength)) {
    case 0: break;
    case NGTCP2_ERR_VERSION_NEGOTIATION:
      send_version_negotiation(vc, local, remote, socket_index);
      return;
    default:
      counters_.datagrams_dropped.fetch_add(1, std::memory_order_relaxed);
      return;
  }
  const bool long_header = data[0] & 0x80;
  if (long_header && vc.version == 0) return;  // Version Negotiation sent to a server: ignore
  if (long_header && vc.version != NGTCP2_PROTO_VER_V1) {
    // ngtcp2 also speaks drafts and v2-draft; we offer QUIC v1 only (ALPN h3 is defined for v1).
    // Like ngtcp2, answer only datagrams large enough to be a client's first flight.
    if (data.size() >= NGTCP2_MAX_UDP_PAYLOAD_SIZE) {
      send_version_negotiation(vc, local, remote, socket_index);
    } else {
      counters_.datagrams_dropped.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }

  auto it = cids_.find(CidKey(vc.dcid, vc.dcidlen));
  if (spdlog::should_log(spdlog::level::trace)) {
    spdlog::trace("quic worker {}: {} bytes from {} dcid {} -> {}{}", worker_id_, data.size(),
                  remote.to_string(), cid_hex(vc.dcid, vc.dcidlen),
                  it != cids_.end() ? "connection" : "unknown", forwarded ? " (forwarded)" : "");
  }
  if (it != cids_.end()) {
    Connection* c = it->second;
    c->on_datagram(data, local, remote, ecn, sockets_[socket_index]->udp.get());
    return;
  }

  // Long-header types in bits 4-5 (v1): 0 Initial, 1 0-RTT, 2 Handshake, 3 Retry.
  const int long_type = (data[0] & 0x30) >> 4;
  const bool client_chosen_dcid = long_header && (long_type == 0 || long_type == 1);
  if (!client_chosen_dcid && !forwarded) {
    // Handshake and 1-RTT packets carry a CID we issued: it names the worker that owns it.
    auto owner = codec_.worker_of({vc.dcid, vc.dcidlen});
    if (owner && *owner != worker_id_ && *owner < shared_->worker_count && forwarder_) {
      Datagram d;
      d.local = local;
      d.remote = remote;
      d.ecn = ecn;
      d.socket_index = socket_index;
      d.data.assign(data.begin(), data.end());
      counters_.datagrams_forwarded.fetch_add(1, std::memory_order_relaxed);
      forwarder_(*owner, std::move(d));
      return;
    }
  }
  if (!long_header) {
    send_stateless_reset({vc.dcid, vc.dcidlen}, data.size(), local, remote, socket_index);
    return;
  }
  if (client_chosen_dcid) {
    accept(data, local, remote, ecn, socket_index);
    return;
  }
  counters_.datagrams_dropped.fetch_add(1, std::memory_order_relaxed);
}

void Endpoint::accept(std::span<const uint8_t> data, const Address& local, const Address& remote,
                      uint8_t ecn, size_t socket_index) {
  ngtcp2_pkt_hd hd;
  switch (ngtcp2_accept(&hd, data.data(), data.size())) {
    case 0: break;
    case NGTCP2_ERR_RETRY:  // 0-RTT before the Initial (ngtcp2 0.12): make the client start over
      if (!shutting_down_) send_retry(hd, local, remote, socket_index, data.size());
      return;
    default:
      counters_.datagrams_dropped.fetch_add(1, std::memory_order_relaxed);
      return;
  }
  if (shutting_down_ || connections_.size() >= options_.max_connections ||
      handshakes_in_progress_ >= options_.max_handshakes) {
    counters_.connections_refused.fetch_add(1, std::memory_order_relaxed);
    send_stateless_close(hd, NGTCP2_CONNECTION_REFUSED, local, remote, socket_index);
    return;
  }

  // Address validation: Retry / NEW_TOKEN tokens (RFC 9000 §8.1).
  std::span<const uint8_t> token(hd.token.base, hd.token.len);
  TokenKind kind = classify_token(token);
  bool token_ok = false;
  ngtcp2_cid odcid{};
  const uint64_t now = wall_clock_ns();
  if (kind == TokenKind::kRetry) {
    token_ok = sealer_.verify_retry_token(token, hd.version, remote.sa(), remote.len, hd.dcid,
                                          options_.retry_token_lifetime, now, &odcid);
  } else if (kind == TokenKind::kRegular) {
    token_ok = sealer_.verify_regular_token(token, remote.sa(), remote.len,
                                            options_.new_token_lifetime, now);
  }
  if (kind != TokenKind::kNone && !token_ok) {
    counters_.invalid_tokens.fetch_add(1, std::memory_order_relaxed);
  }
  bool busy = handshakes_in_progress_ >= options_.retry_threshold;
  InitialVerdict verdict = judge_initial(options_.retry, busy, kind, token_ok);
  switch (verdict.action) {
    case InitialVerdict::Action::kRetry:
      send_retry(hd, local, remote, socket_index, data.size());
      return;
    case InitialVerdict::Action::kCloseInvalidToken:
      send_stateless_close(hd, NGTCP2_INVALID_TOKEN, local, remote, socket_index);
      return;
    case InitialVerdict::Action::kAccept:
      break;
  }
  // A tokenless Initial must carry a DCID of at least 8 bytes (ngtcp2_accept checked it unless a
  // token was present; an ignored token does not count).
  if (!verdict.address_validated && hd.dcid.datalen < NGTCP2_MIN_INITIAL_DCIDLEN) {
    counters_.datagrams_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }

  UdpSocket* sock = sockets_[socket_index]->udp.get();
  Connection::Accept a{&hd, &local, &remote, sock, verdict.token_from_retry ? &odcid : nullptr,
                       verdict.address_validated ? token : std::span<const uint8_t>()};
  auto created = Connection::create(*this, factory_, a);
  if (!created) {
    spdlog::warn("quic: cannot create connection: {}", created.error().message);
    return;
  }
  Connection* c = created.value().get();
  Entry& e = connections_[c];
  e.conn = std::move(created.value());
  ++handshakes_in_progress_;
  connections_open_.store(connections_.size(), std::memory_order_relaxed);
  counters_.connections_accepted.fetch_add(1, std::memory_order_relaxed);
  // Route the client's chosen DCID (its retransmitted Initials and 0-RTT) and our first SCID.
  associate_cid(hd.dcid, c);
  std::vector<ngtcp2_cid> scids(ngtcp2_conn_get_num_scid(c->native()));
  ngtcp2_conn_get_scid(c->native(), scids.data());
  for (const auto& s : scids) associate_cid(s, c);

  c->on_datagram(data, local, remote, ecn, sock);
  if (c->retry_requested()) send_retry(hd, local, remote, socket_index, data.size());
}

// --- connection host ---

void Endpoint::associate_cid(const ngtcp2_cid& cid, Connection* conn) {
  CidKey key(cid);
  auto [it, inserted] = cids_.emplace(key, conn);
  if (!inserted) {
    if (it->second == conn) return;
    it->second = conn;  // a stale entry of a dead connection (cannot happen with random CIDs)
  }
  auto e = connections_.find(conn);
  if (e != connections_.end()) e->second.cids.push_back(key);
}

void Endpoint::dissociate_cid(const ngtcp2_cid& cid) {
  CidKey key(cid);
  auto it = cids_.find(key);
  if (it == cids_.end()) return;
  auto e = connections_.find(it->second);
  if (e != connections_.end()) std::erase(e->second.cids, key);
  cids_.erase(it);
}

void Endpoint::handshake_finished(Connection*) {
  if (handshakes_in_progress_ > 0) --handshakes_in_progress_;
}

void Endpoint::schedule_write(Connection* conn) {
  if (conn->write_scheduled) return;
  conn->write_scheduled = true;
  pending_writes_.push_back(conn);
  arm_flush();
}

void Endpoint::wait_writable(Connection* conn, UdpSocket* socket) {
  for (auto& s : sockets_) {
    if (s->udp.get() != socket) continue;
    if (std::find(s->write_waiters.begin(), s->write_waiters.end(), conn) ==
        s->write_waiters.end()) {
      s->write_waiters.push_back(conn);
    }
    s->watcher.set_events(EV_READ | EV_WRITE);
    return;
  }
}

void Endpoint::reap(Connection* conn) {
  reap_list_.push_back(conn);
  arm_flush();
}

void Endpoint::arm_flush() {
  // Inside a receive batch the flush runs at its end; otherwise on the next loop iteration.
  if (!in_batch_ && !flush_timer_.active()) flush_timer_.start(0);
}

void Endpoint::flush() {
  flush_timer_.stop();
  // Writes can schedule more writes (a full GSO batch): those run on the next loop pass.
  auto writes = std::move(pending_writes_);
  pending_writes_.clear();
  for (auto* c : writes) {
    c->write_scheduled = false;
    if (!c->dead() && connections_.count(c)) c->write();
  }
  while (!reap_list_.empty()) {
    auto list = std::move(reap_list_);
    reap_list_.clear();
    for (auto* c : list) remove_connection(c);
  }
  if (!pending_writes_.empty() && !flush_timer_.active()) flush_timer_.start(0);
  if (shutting_down_ && connections_.empty() && on_drained_) {
    auto fn = std::move(on_drained_);
    on_drained_ = nullptr;
    shutdown_deadline_.stop();
    fn();
  }
}

void Endpoint::remove_connection(Connection* conn) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  for (const auto& key : it->second.cids) {
    auto cit = cids_.find(key);
    if (cit != cids_.end() && cit->second == conn) cids_.erase(cit);
  }
  std::erase(pending_writes_, conn);
  for (auto& s : sockets_) std::erase(s->write_waiters, conn);
  if (!conn->handshake_reported()) handshake_finished(conn);
  // Destroy outside the map first so callbacks during destruction see a consistent endpoint.
  auto owned = std::move(it->second.conn);
  connections_.erase(it);
  connections_open_.store(connections_.size(), std::memory_order_relaxed);
  owned.reset();
}

void Endpoint::request_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  std::vector<Connection*> all;
  for (auto& [c, e] : connections_) all.push_back(c);
  for (auto* c : all) c->request_shutdown();
  shutdown_deadline_.start(static_cast<double>(options_.shutdown_timeout.count()) / 1000.0);
  arm_flush();
}

Stats snapshot(const Counters& c) {
  auto g = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  Stats s;
  s.connections_accepted = g(c.connections_accepted);
  s.connections_refused = g(c.connections_refused);
  s.handshakes_completed = g(c.handshakes_completed);
  s.handshake_timeouts = g(c.handshake_timeouts);
  s.connections_0rtt = g(c.connections_0rtt);
  s.requests_0rtt = g(c.requests_0rtt);
  s.early_requests_refused = g(c.early_requests_refused);
  s.retries_sent = g(c.retries_sent);
  s.invalid_tokens = g(c.invalid_tokens);
  s.version_negotiations_sent = g(c.version_negotiations_sent);
  s.stateless_resets_sent = g(c.stateless_resets_sent);
  s.datagrams_received = g(c.datagrams_received);
  s.datagrams_sent = g(c.datagrams_sent);
  s.datagrams_forwarded = g(c.datagrams_forwarded);
  s.datagrams_dropped = g(c.datagrams_dropped);
  s.quic_datagram_frames_received = g(c.quic_datagram_frames_received);
  s.path_migrations = g(c.path_migrations);
  s.gso_sends = g(c.gso_sends);
  s.requests = g(c.requests);
  s.excessive_load_closes = g(c.excessive_load_closes);
  return s;
}

}  // namespace mirror::quic
