// The session-ticket master key shared by every worker (TCP TLS and QUIC alike), so a ticket issued
// by one worker (or, with a shared key file, one host) is accepted by all of them.
//
// Rotation (GnuTLS 3.7.9 lib/stek.c): GnuTLS never encrypts tickets with this master key directly.
// Each session derives the ticket-encryption key as SHA3-512(T || master key) with
// T = floor(unix_time / period), period = 3 x the ticket lifetime (gnutls_db_set_cache_expiration,
// default 6 h, so the key changes every 18 h). A ticket encrypted under the current or the previous
// period's key is accepted, and GnuTLS separately refuses tickets older than their lifetime. All
// holders of the same master key derive the same keys from the clock, so workers and hosts need no
// coordination beyond sharing the master key (and roughly synchronized clocks). To invalidate every
// outstanding ticket at once, replace the master key (new file + restart).
#pragma once

#include <gnutls/gnutls.h>

#include <memory>
#include <string>

#include "base/result.h"

namespace mirror::tls {

class TicketKeys {
 public:
  // A fresh random master key (gnutls_session_ticket_key_generate); per process.
  static Result<std::shared_ptr<TicketKeys>> generate();
  // Reads the master key from a file shared by a fleet: either the raw 64 bytes or their base64
  // (e.g. `head -c 64 /dev/urandom | base64 -w0 > ticket.key`). Errors have code "tls.ticket_key".
  static Result<std::shared_ptr<TicketKeys>> load_file(const std::string& path);
  // load_file(path) when path is non-empty, else generate().
  static Result<std::shared_ptr<TicketKeys>> from_config(const std::string& path);

  // The master key, for gnutls_session_ticket_enable_server(session, key()).
  const gnutls_datum_t* key() const { return &datum_; }
  // Convenience: gnutls_session_ticket_enable_server(session, key()).
  Result<void> enable(gnutls_session_t session) const;

  ~TicketKeys();
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

 private:
  TicketKeys() = default;
  gnutls_datum_t datum_{nullptr, 0};  // owned (gnutls_malloc'd), wiped and freed in the destructor
};

}  // namespace mirror::tls
