// GnuTLS certificate credentials shared (read-only) by every worker thread, for TCP TLS and QUIC.
// Loads a PEM certificate chain + key, or generates and keeps a self-signed development certificate
// in the state directory when none is configured.
#pragma once

#include <gnutls/gnutls.h>

#include <chrono>
#include <memory>
#include <string>

#include "base/c_handle.h"
#include "base/result.h"

namespace mirror::tls {

struct CertOptions {
  std::string cert_file;  // PEM; may hold the leaf followed by its chain. Empty with key_file empty:
                          // use (or create) the development certificate in state_dir.
  std::string key_file;   // PEM private key matching the leaf certificate
  std::string state_dir;  // where the development cert.pem / key.pem live (created 0700)
};

class Credentials {
 public:
  // Loads the configured certificate, or the development certificate (generated when missing,
  // unreadable or expired: ECDSA P-256, CN=localhost, SAN localhost/127.0.0.1/::1, ~1 year).
  // Logs the path and SHA-256 fingerprint. Errors have code "tls.cert" and name the file.
  static Result<std::shared_ptr<Credentials>> load(const CertOptions& options);

  // Safe to use from many threads at once (GnuTLS only reads credentials during handshakes).
  gnutls_certificate_credentials_t get() const { return creds_.get(); }

  const std::string& cert_path() const { return cert_path_; }
  const std::string& key_path() const { return key_path_; }
  // True when the certificate is the generated development one.
  bool self_signed_dev() const { return dev_; }
  // SHA-256 of the leaf certificate DER, upper-case hex with colons ("AB:CD:...").
  std::string fingerprint_sha256() const { return fingerprint_; }
  // base64(SHA-256(SubjectPublicKeyInfo DER)) of the leaf, 44 chars; the value Chromium's
  // --ignore-certificate-errors-spki-list expects.
  std::string spki_sha256_base64() const { return spki_sha256_; }
  std::chrono::system_clock::time_point not_after() const { return not_after_; }

  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;

 private:
  Credentials() = default;
  // Parses and checks the PEM pair and builds the GnuTLS credentials.
  static Result<std::shared_ptr<Credentials>> from_files(const std::string& cert_path,
                                                         const std::string& key_path);

  CHandle<gnutls_certificate_credentials_st, gnutls_certificate_free_credentials> creds_;
  std::string cert_path_;
  std::string key_path_;
  bool dev_ = false;
  std::string fingerprint_;
  std::string spki_sha256_;
  std::chrono::system_clock::time_point not_after_{};
};

}  // namespace mirror::tls
