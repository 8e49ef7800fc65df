#include "tls/anti_replay.h"

#include <atomic>

#include <spdlog/spdlog.h>

#include "tls/gnutls_util.h"

namespace mirror::tls {
namespace {

constexpr const char* kCode = "tls.anti_replay";

// GnuTLS prefixes each key with its recording-window start (uint32 sec_hi, sec_lo, nsec); the rest
// is the ClientHello's PSK binder. The prefix differs between our per-thread handles, so we key
// the store on the binder alone.
constexpr size_t kWindowStartPrefix = 12;

std::atomic<uint64_t> g_next_id{1};

// This thread's handles, by AntiReplay id. Ids are never reused, so an entry left behind by a
// destroyed AntiReplay is never looked up again.
struct ThreadHandle {
  uint64_t owner;
  gnutls_anti_replay_t handle;
};
thread_local std::vector<ThreadHandle> t_handles;

int db_add(void* ptr, time_t expires, const gnutls_datum_t* key, const gnutls_datum_t*) noexcept {
  std::string_view k(reinterpret_cast<const char*>(key->data), key->size);
  if (k.size() > kWindowStartPrefix) k.remove_prefix(kWindowStartPrefix);
  return static_cast<AntiReplay*>(ptr)->add(expires, k);
}

}  // namespace

Result<std::shared_ptr<AntiReplay>> AntiReplay::create(std::chrono::milliseconds window,
                                                       Clock clock) {
  if (window.count() <= 0) return make_error(kCode, "tls: anti-replay window must be positive");
  std::shared_ptr<AntiReplay> ar(new AntiReplay());
  ar->id_ = g_next_id.fetch_add(1);
  ar->window_ = window;
  ar->clock_ = clock ? std::move(clock) : Clock([] { return ::time(nullptr); });
  // Create the creating thread's handle now, so configuration errors surface here.
  if (!ar->get()) return make_error(kCode, "tls: gnutls_anti_replay_init failed");
  return ar;
}

AntiReplay::~AntiReplay() = default;

gnutls_anti_replay_t AntiReplay::get() const {
  for (const ThreadHandle& th : t_handles) {
    if (th.owner == id_) return th.handle;
  }
  gnutls_anti_replay_t raw = nullptr;
  int rc = gnutls_anti_replay_init(&raw);
  if (rc < 0) {
    spdlog::error("tls: gnutls_anti_replay_init: {}", gnutls_strerror(rc));
    return nullptr;
  }
  Handle handle(raw);
  gnutls_anti_replay_set_window(raw, static_cast<unsigned>(window_.count()));
  gnutls_anti_replay_set_add_function(raw, db_add);
  gnutls_anti_replay_set_ptr(raw, const_cast<AntiReplay*>(this));
  {
    std::lock_guard lock(mu_);
    handles_.push_back(std::move(handle));
  }
  t_handles.push_back({id_, raw});
  return raw;
}

void AntiReplay::enable(gnutls_session_t session) const {
  if (gnutls_anti_replay_t h = get()) gnutls_anti_replay_enable(session, h);
}

int AntiReplay::add(time_t expires, std::string_view key) {
  time_t now = clock_();
  std::lock_guard lock(mu_);
  prune_locked(now);
  auto [it, inserted] = seen_.try_emplace(std::string(key), expires);
  if (!inserted) {
    if (it->second >= now) return GNUTLS_E_DB_ENTRY_EXISTS;
    it->second = expires;  // an expired leftover: the key is new again
  }
  return 0;
}

size_t AntiReplay::size() const {
  std::lock_guard lock(mu_);
  return seen_.size();
}

void AntiReplay::prune_locked(time_t now) {
  // A full sweep at most once a second keeps add() O(1) amortized.
  if (now < next_prune_) return;
  next_prune_ = now + 1;
  std::erase_if(seen_, [now](const auto& entry) { return entry.second < now; });
}

}  // namespace mirror::tls
