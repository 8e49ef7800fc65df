// GnuTLS for the QUIC client: one credentials object shared by all threads (read-only after
// creation), one session per connection. No certificate verification: this is a benchmark tool
// and development servers use self-signed certificates.
#pragma once

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <string>

#include "base/c_handle.h"
#include "base/result.h"

namespace h3load {

using TlsCredentials =
    mirror::CHandle<gnutls_certificate_credentials_st, gnutls_certificate_free_credentials>;
using TlsSession = mirror::CHandle<gnutls_session_int, gnutls_deinit>;

mirror::Result<TlsCredentials> make_tls_credentials();

// A client session for QUIC: TLS 1.3 only, ALPN "h3", SNI = `sni` unless empty, wired to ngtcp2
// through `conn_ref` (which must outlive the session).
mirror::Result<TlsSession> make_tls_session(gnutls_certificate_credentials_t credentials,
                                            const std::string& sni,
                                            ngtcp2_crypto_conn_ref* conn_ref);

}  // namespace h3load
