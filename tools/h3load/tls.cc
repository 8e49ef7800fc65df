#include "h3load/tls.h"

#include <ngtcp2/ngtcp2_crypto_gnutls.h>

namespace h3load {

namespace {

// QUIC forbids the TLS 1.3 middlebox-compatibility mode and allows only these AEADs (RFC 9001
// §5.3); the groups are the usual ones.
constexpr const char* kPriority =
    "%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:"
    "-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CCM:"
    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1";

mirror::Error tls_error(const char* what, int rv) {
  return mirror::make_error("tls", std::string(what) + ": " + gnutls_strerror(rv));
}

}  // namespace

mirror::Result<TlsCredentials> make_tls_credentials() {
  gnutls_certificate_credentials_t cred = nullptr;
  if (int rv = gnutls_certificate_allocate_credentials(&cred); rv != 0) {
    return tls_error("gnutls_certificate_allocate_credentials", rv);
  }
  return TlsCredentials(cred);
}

mirror::Result<TlsSession> make_tls_session(gnutls_certificate_credentials_t credentials,
                                            const std::string& sni,
                                            ngtcp2_crypto_conn_ref* conn_ref) {
  gnutls_session_t raw = nullptr;
  if (int rv = gnutls_init(&raw, GNUTLS_CLIENT | GNUTLS_NO_END_OF_EARLY_DATA); rv != 0) {
    return tls_error("gnutls_init", rv);
  }
  TlsSession session(raw);
  if (int rv = gnutls_priority_set_direct(raw, kPriority, nullptr); rv != 0) {
    return tls_error("gnutls_priority_set_direct", rv);
  }
  // Installs the secret/read/alert hooks and the quic_transport_parameters extension.
  if (ngtcp2_crypto_gnutls_configure_client_session(raw) != 0) {
    return mirror::make_error("tls", "ngtcp2_crypto_gnutls_configure_client_session failed");
  }
  gnutls_session_set_ptr(raw, conn_ref);
  if (int rv = gnutls_credentials_set(raw, GNUTLS_CRD_CERTIFICATE, credentials); rv != 0) {
    return tls_error("gnutls_credentials_set", rv);
  }
  static const char kAlpn[] = "h3";
  gnutls_datum_t alpn{reinterpret_cast<unsigned char*>(const_cast<char*>(kAlpn)), 2};
  if (int rv = gnutls_alpn_set_protocols(raw, &alpn, 1, GNUTLS_ALPN_MANDATORY); rv != 0) {
    return tls_error("gnutls_alpn_set_protocols", rv);
  }
  if (!sni.empty()) {
    if (int rv = gnutls_server_name_set(raw, GNUTLS_NAME_DNS, sni.data(), sni.size()); rv != 0) {
      return tls_error("gnutls_server_name_set", rv);
    }
  }
  return session;
}

}  // namespace h3load
