// The GnuTLS side of one QUIC server connection: TLS 1.3 only, ALPN "h3", the shared certificate,
// session tickets with the shared key (sent after the handshake, for resumption and 0-RTT), and
// early data with the shared anti-replay store when 0-RTT is enabled. ngtcp2_crypto_gnutls wires
// the secrets, handshake bytes and transport parameters between GnuTLS and ngtcp2.
#pragma once

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <memory>

#include "base/c_handle.h"
#include "base/result.h"

namespace mirror::quic {

struct Shared;

class TlsSession {
 public:
  // conn_ref must outlive the session (GnuTLS callbacks reach the ngtcp2_conn through it).
  static Result<std::unique_ptr<TlsSession>> create(const Shared& shared, bool enable_0rtt,
                                                    ngtcp2_crypto_conn_ref* conn_ref);

  gnutls_session_t native() const { return session_.get(); }
  // NewSessionTicket after the handshake (GNUTLS_NO_AUTO_SEND_TICKET is set).
  bool send_ticket();
  // The client's 0-RTT data was accepted.
  bool early_data_accepted() const;
  bool resumed() const;

 private:
  TlsSession() = default;
  CHandle<gnutls_session_int, gnutls_deinit> session_;
};

}  // namespace mirror::quic
