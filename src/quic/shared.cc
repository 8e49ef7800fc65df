#include "quic/shared.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "tls/ticket_key.h"

namespace mirror::quic {

Result<std::shared_ptr<Shared>> Shared::create(
    std::shared_ptr<const tls::Credentials> credentials,
    std::shared_ptr<const tls::TicketKeys> ticket_keys, std::shared_ptr<tls::AntiReplay> anti_replay,
    int worker_count, bool secret_from_ticket_key) {
  if (!credentials) return make_error("quic.config", "QUIC needs TLS credentials");
  if (worker_count < 1 || worker_count > kMaxWorkers) {
    return make_error("quic.config", "worker count must be between 1 and 256");
  }
  auto shared = std::make_shared<Shared>();
  shared->credentials = std::move(credentials);
  shared->ticket_keys = std::move(ticket_keys);
  shared->anti_replay = std::move(anti_replay);
  shared->worker_count = worker_count;
  if (secret_from_ticket_key && shared->ticket_keys) {
    static constexpr char kLabel[] = "mirror quic static secret v1";
    const gnutls_datum_t* key = shared->ticket_keys->key();
    if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key->data, key->size, kLabel, sizeof(kLabel) - 1,
                         shared->static_secret.data()) != 0) {
      return make_error("quic.secret", "cannot derive the QUIC static secret");
    }
  } else if (!random_bytes(shared->static_secret.data(), shared->static_secret.size())) {
    return make_error("quic.secret", "cannot generate the QUIC static secret");
  }
  return shared;
}

}  // namespace mirror::quic
