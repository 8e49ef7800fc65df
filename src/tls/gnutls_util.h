// Small helpers for the tls layer's GnuTLS code: RAII handles, owned datums, error text, files.
// Internal to src/tls (other layers use the public headers).
#pragma once

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/c_handle.h"
#include "base/result.h"

namespace mirror::tls {

using X509Crt = CHandle<gnutls_x509_crt_int, gnutls_x509_crt_deinit>;
using X509Privkey = CHandle<gnutls_x509_privkey_int, gnutls_x509_privkey_deinit>;
using Privkey = CHandle<gnutls_privkey_st, gnutls_privkey_deinit>;
using Pubkey = CHandle<gnutls_pubkey_st, gnutls_pubkey_deinit>;
using Priority = CHandle<gnutls_priority_st, gnutls_priority_deinit>;

// A datum whose bytes GnuTLS allocated (the *_export2 functions); freed with gnutls_free.
class OwnedDatum {
 public:
  OwnedDatum() = default;
  ~OwnedDatum() { gnutls_free(d_.data); }
  OwnedDatum(const OwnedDatum&) = delete;
  OwnedDatum& operator=(const OwnedDatum&) = delete;

  gnutls_datum_t* out() { return &d_; }
  const gnutls_datum_t& get() const { return d_; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(d_.data), d_.size};
  }

 private:
  gnutls_datum_t d_{nullptr, 0};
};

// A non-owning datum over bytes we hold (GnuTLS copies what it keeps).
inline gnutls_datum_t borrow(std::string_view bytes) {
  return {reinterpret_cast<unsigned char*>(const_cast<char*>(bytes.data())),
          static_cast<unsigned int>(bytes.size())};
}

// "what: GnuTLS message".
Error gnutls_error(std::string code, std::string_view what, int rc);

std::string hex_colons(std::span<const uint8_t> bytes);  // "AB:CD:..."
std::string base64(std::span<const uint8_t> bytes);      // standard alphabet, padded
// Decodes standard base64, ignoring whitespace; false on anything else.
bool base64_decode(std::string_view text, std::string& out);

// Reads a whole file; errors name the path ("tls: cannot read /x: No such file or directory").
Result<std::string> read_file(const std::string& path, const std::string& code);

}  // namespace mirror::tls
