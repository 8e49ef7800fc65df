#include "quic/tls_session.h"

#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <cstring>

#include <fmt/format.h>

#include "quic/shared.h"
#include "tls/anti_replay.h"
#include "tls/credentials.h"
#include "tls/ticket_key.h"

namespace mirror::quic {
namespace {

// QUIC forbids the TLS 1.3 middlebox-compatibility mode and CCM_8 (RFC 9001 §5.3, §8.4).
constexpr char kPriority[] =
    "%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:"
    "+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"
    "+GROUP-SECP384R1:+GROUP-SECP521R1";

constexpr unsigned char kAlpnH3[] = {'h', '3'};

// Refuses a handshake whose negotiated ALPN is not h3 (belt and braces over ALPN_MANDATORY).
int check_alpn(gnutls_session_t session, unsigned, unsigned, unsigned,
               const gnutls_datum_t*) noexcept {
  gnutls_datum_t alpn;
  if (gnutls_alpn_get_selected_protocol(session, &alpn) != 0) return GNUTLS_E_NO_APPLICATION_PROTOCOL;
  if (alpn.size != sizeof(kAlpnH3) || memcmp(alpn.data, kAlpnH3, sizeof(kAlpnH3)) != 0) {
    return GNUTLS_E_NO_APPLICATION_PROTOCOL;
  }
  return 0;
}

Error tls_error(const char* what, int rv) {
  return make_error("quic.tls", fmt::format("{}: {}", what, gnutls_strerror(rv)));
}

}  // namespace

Result<std::unique_ptr<TlsSession>> TlsSession::create(const Shared& shared, bool enable_0rtt,
                                                       ngtcp2_crypto_conn_ref* conn_ref) {
  std::unique_ptr<TlsSession> s(new TlsSession());
  const bool early = enable_0rtt && shared.ticket_keys && shared.anti_replay;
  unsigned flags = GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET | GNUTLS_NO_END_OF_EARLY_DATA;
  if (early) flags |= GNUTLS_ENABLE_EARLY_DATA;
  gnutls_session_t raw = nullptr;
  if (int rv = gnutls_init(&raw, flags); rv != 0) return tls_error("gnutls_init", rv);
  s->session_.reset(raw);
  if (int rv = gnutls_priority_set_direct(raw, kPriority, nullptr); rv != 0) {
    return tls_error("gnutls_priority_set_direct", rv);
  }
  if (shared.ticket_keys) {
    if (int rv = gnutls_session_ticket_enable_server(raw, shared.ticket_keys->key()); rv != 0) {
      return tls_error("gnutls_session_ticket_enable_server", rv);
    }
  }
  gnutls_handshake_set_hook_function(raw, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_POST,
                                     check_alpn);
  if (ngtcp2_crypto_gnutls_configure_server_session(raw) != 0) {
    return make_error("quic.tls", "ngtcp2_crypto_gnutls_configure_server_session failed");
  }
  if (early) {
    shared.anti_replay->enable(raw);
    // RFC 9001 §4.6.1: a QUIC server's NewSessionTicket must carry max_early_data_size 0xffffffff.
    gnutls_record_set_max_early_data_size(raw, 0xffffffffu);
  }
  gnutls_session_set_ptr(raw, conn_ref);
  if (int rv = gnutls_credentials_set(raw, GNUTLS_CRD_CERTIFICATE, shared.credentials->get());
      rv != 0) {
    return tls_error("gnutls_credentials_set", rv);
  }
  gnutls_datum_t alpn{const_cast<unsigned char*>(kAlpnH3), sizeof(kAlpnH3)};
  gnutls_alpn_set_protocols(raw, &alpn, 1, GNUTLS_ALPN_MANDATORY | GNUTLS_ALPN_SERVER_PRECEDENCE);
  return s;
}

bool TlsSession::send_ticket() { return gnutls_session_ticket_send(session_.get(), 1, 0) == 0; }

bool TlsSession::early_data_accepted() const {
  return (gnutls_session_get_flags(session_.get()) & GNUTLS_SFLAGS_EARLY_DATA) != 0;
}

bool TlsSession::resumed() const { return gnutls_session_is_resumed(session_.get()) != 0; }

}  // namespace mirror::quic
