// TLS 1.3 0-RTT anti-replay (RFC 8446 §8) shared by every worker (TCP TLS and QUIC). GnuTLS checks
// the ticket age against the window and then asks our store whether it has seen this ClientHello
// (keyed by its PSK binder); the store is a mutex-guarded map of seen binders with expiry, so a
// replayed 0-RTT flight is refused (GnuTLS rejects the early data; the handshake goes on as 1-RTT).
//
// GnuTLS's gnutls_anti_replay_t is not thread-safe (each check may rewrite its window start time),
// so enable() gives every thread its own gnutls_anti_replay_t with the same window, all adding into
// this one store. GnuTLS prefixes each key with that per-object window start; we drop the prefix
// so a replay is caught whichever worker it reaches.
//
// GnuTLS behaviour to know (lib/tls13/anti_replay.c, 3.7.9): a handle refuses early data for
// tickets issued before its recording window started, and the window restarts whenever a check
// arrives more than `window` after its start. So on a busy server 0-RTT is accepted only for
// tickets up to about one window old (10 s by default); older tickets still resume, in 1-RTT.
// A larger window admits older tickets; the store then remembers ClientHellos that much longer,
// so replays stay refused. Call get() once on each worker thread at start-up, so tickets issued
// by other workers before this worker's first connection are not refused 0-RTT there.
#pragma once

#include <gnutls/gnutls.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/c_handle.h"
#include "base/result.h"

namespace mirror::tls {

class AntiReplay {
 public:
  // Wall clock in seconds (GnuTLS gives expiry as time_t); injectable for tests.
  using Clock = std::function<time_t()>;

  // window: how far a ClientHello's ticket age may be off (gnutls_anti_replay_set_window), and how
  // long seen ClientHellos are remembered. Errors: code "tls.anti_replay".
  static Result<std::shared_ptr<AntiReplay>> create(
      std::chrono::milliseconds window = std::chrono::seconds(10), Clock clock = {});

  // gnutls_anti_replay_enable(session, <this thread's handle>). For server sessions created with
  // GNUTLS_ENABLE_EARLY_DATA. Safe to call from any thread; lock-free after a thread's first call.
  void enable(gnutls_session_t session) const;
  // This thread's gnutls_anti_replay_t (created on first use), for code that wires GnuTLS itself.
  gnutls_anti_replay_t get() const;
  std::chrono::milliseconds window() const { return window_; }

  // The store: returns 0 and remembers key until `expires` if it is new, or
  // GNUTLS_E_DB_ENTRY_EXISTS if it is present and not expired. Thread-safe. Public for tests.
  int add(time_t expires, std::string_view key);
  // Entries currently stored (expired ones are pruned as new ones arrive).
  size_t size() const;

  ~AntiReplay();
  AntiReplay(const AntiReplay&) = delete;
  AntiReplay& operator=(const AntiReplay&) = delete;

 private:
  AntiReplay() = default;
  void prune_locked(time_t now);

  using Handle = CHandle<gnutls_anti_replay_st, gnutls_anti_replay_deinit>;

  uint64_t id_ = 0;  // unique per instance, for the per-thread handle cache
  std::chrono::milliseconds window_{};
  Clock clock_;
  mutable std::mutex mu_;
  mutable std::vector<Handle> handles_;            // one per thread that called get()
  std::unordered_map<std::string, time_t> seen_;  // binder -> expiry (seconds since epoch)
  time_t next_prune_ = 0;
};

}  // namespace mirror::tls
