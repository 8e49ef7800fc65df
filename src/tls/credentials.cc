#include "tls/credentials.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/unique_fd.h"
#include "tls/gnutls_util.h"

namespace mirror::tls {
namespace {

constexpr const char* kCode = "tls.cert";
constexpr time_t kDevValiditySeconds = 365 * 24 * 3600;
// A development certificate this close to expiry is replaced at start-up rather than used.
constexpr time_t kDevRenewBeforeSeconds = 24 * 3600;

Error cert_error(std::string message) { return make_error(kCode, std::move(message)); }

// The certificates in a PEM file, leaf first.
Result<std::vector<X509Crt>> parse_chain(const std::string& pem, const std::string& path) {
  if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return cert_error(fmt::format("tls: {}: no PEM certificate found", path));
  }
  gnutls_x509_crt_t* list = nullptr;
  unsigned int count = 0;
  gnutls_datum_t data = borrow(pem);
  int rc = gnutls_x509_crt_list_import2(&list, &count, &data, GNUTLS_X509_FMT_PEM, 0);
  if (rc < 0) return gnutls_error(kCode, fmt::format("tls: {}: bad certificate PEM", path), rc);
  std::vector<X509Crt> chain;
  for (unsigned int i = 0; i < count; ++i) chain.emplace_back(list[i]);
  gnutls_free(list);
  if (chain.empty()) return cert_error(fmt::format("tls: {}: no PEM certificate found", path));
  return chain;
}

Result<Privkey> parse_key(const std::string& pem, const std::string& path) {
  gnutls_privkey_t raw = nullptr;
  int rc = gnutls_privkey_init(&raw);
  if (rc < 0) return gnutls_error(kCode, "tls: gnutls_privkey_init", rc);
  Privkey key(raw);
  gnutls_datum_t data = borrow(pem);
  rc = gnutls_privkey_import_x509_raw(key.get(), &data, GNUTLS_X509_FMT_PEM, nullptr, 0);
  if (rc < 0) return gnutls_error(kCode, fmt::format("tls: {}: bad private key", path), rc);
  return key;
}

// The DER SubjectPublicKeyInfo of a public key.
Result<std::string> spki_der(gnutls_pubkey_t pub) {
  OwnedDatum der;
  int rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, der.out());
  if (rc < 0) return gnutls_error(kCode, "tls: exporting public key", rc);
  return std::string(der.view());
}

Result<std::string> cert_spki_der(gnutls_x509_crt_t crt) {
  gnutls_pubkey_t raw = nullptr;
  int rc = gnutls_pubkey_init(&raw);
  if (rc < 0) return gnutls_error(kCode, "tls: gnutls_pubkey_init", rc);
  Pubkey pub(raw);
  rc = gnutls_pubkey_import_x509(pub.get(), crt, 0);
  if (rc < 0) return gnutls_error(kCode, "tls: reading certificate public key", rc);
  return spki_der(pub.get());
}

Result<std::string> key_spki_der(gnutls_privkey_t key) {
  gnutls_pubkey_t raw = nullptr;
  int rc = gnutls_pubkey_init(&raw);
  if (rc < 0) return gnutls_error(kCode, "tls: gnutls_pubkey_init", rc);
  Pubkey pub(raw);
  rc = gnutls_pubkey_import_privkey(pub.get(), key, 0, 0);
  if (rc < 0) return gnutls_error(kCode, "tls: deriving public key from private key", rc);
  return spki_der(pub.get());
}

std::string sha256(std::string_view bytes) {
  uint8_t digest[32];
  gnutls_hash_fast(GNUTLS_DIG_SHA256, bytes.data(), bytes.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Creates dir and any missing parents with mode 0700 (they may hold a private key).
Result<void> make_private_dirs(const std::string& dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) == 0) continue;
    if (errno != EEXIST) {
      return cert_error(fmt::format("tls: cannot create directory {}: {}", prefix, strerror(errno)));
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return cert_error(fmt::format("tls: {} is not a directory", dir));
  }
  return {};
}

// Writes a file with mode 0600 via a temporary file and rename(), so a reader never sees half.
Result<void> write_private_file(const std::string& path, std::string_view data) {
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return cert_error(fmt::format("tls: cannot write {}: {}", tmp, strerror(errno)));
  ::fchmod(fd.get(), 0600);  // O_CREAT does not change the mode of a leftover file
  while (!data.empty()) {
    ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::unlink(tmp.c_str());
      return cert_error(fmt::format("tls: cannot write {}: {}", tmp, strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return cert_error(fmt::format("tls: cannot write {}: {}", path, strerror(err)));
  }
  return {};
}

// Builds the self-signed development certificate: ECDSA P-256, CN=localhost, SANs for the
// loopback names, serverAuth, valid from an hour ago (clock skew) for a year.
Result<void> generate_dev_cert(const std::string& cert_path, const std::string& key_path) {
  auto fail = [](std::string_view what, int rc) { return gnutls_error(kCode, what, rc); };

  gnutls_x509_privkey_t raw_key = nullptr;
  int rc = gnutls_x509_privkey_init(&raw_key);
  if (rc < 0) return fail("tls: gnutls_x509_privkey_init", rc);
  X509Privkey key(raw_key);
  rc = gnutls_x509_privkey_generate2(key.get(), GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, nullptr, 0);
  if (rc < 0) return fail("tls: generating ECDSA P-256 key", rc);

  gnutls_x509_crt_t raw_crt = nullptr;
  rc = gnutls_x509_crt_init(&raw_crt);
  if (rc < 0) return fail("tls: gnutls_x509_crt_init", rc);
  X509Crt crt(raw_crt);

  uint8_t serial[16];
  rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial);
  if (rc < 0) return fail("tls: random serial", rc);
  serial[0] = (serial[0] & 0x7f) | 0x01;  // positive and without a leading zero octet

  time_t now = ::time(nullptr);
  const char* err_pos = nullptr;
  uint8_t v4[4];
  uint8_t v6[16];
  inet_pton(AF_INET, "127.0.0.1", v4);
  inet_pton(AF_INET6, "::1", v6);

  struct Step {
    const char* what;
    int rc;
  };
  const Step steps[] = {
      {"version", gnutls_x509_crt_set_version(crt.get(), 3)},
      {"serial", gnutls_x509_crt_set_serial(crt.get(), serial, sizeof serial)},
      {"activation time", gnutls_x509_crt_set_activation_time(crt.get(), now - 3600)},
      {"expiration time", gnutls_x509_crt_set_expiration_time(crt.get(), now + kDevValiditySeconds)},
      {"subject", gnutls_x509_crt_set_dn(crt.get(), "CN=localhost", &err_pos)},
      {"key", gnutls_x509_crt_set_key(crt.get(), key.get())},
      {"SAN localhost", gnutls_x509_crt_set_subject_alt_name(crt.get(), GNUTLS_SAN_DNSNAME,
                                                            "localhost", 9, GNUTLS_FSAN_SET)},
      {"SAN 127.0.0.1", gnutls_x509_crt_set_subject_alt_name(crt.get(), GNUTLS_SAN_IPADDRESS, v4,
                                                            sizeof v4, GNUTLS_FSAN_APPEND)},
      {"SAN ::1", gnutls_x509_crt_set_subject_alt_name(crt.get(), GNUTLS_SAN_IPADDRESS, v6,
                                                      sizeof v6, GNUTLS_FSAN_APPEND)},
      {"basic constraints", gnutls_x509_crt_set_basic_constraints(crt.get(), 0, -1)},
      {"key usage", gnutls_x509_crt_set_key_usage(crt.get(), GNUTLS_KEY_DIGITAL_SIGNATURE)},
      {"extended key usage",
       gnutls_x509_crt_set_key_purpose_oid(crt.get(), GNUTLS_KP_TLS_WWW_SERVER, 0)},
  };
  for (const Step& step : steps) {
    if (step.rc < 0) return fail(fmt::format("tls: development certificate {}", step.what), step.rc);
  }

  uint8_t key_id[64];
  size_t key_id_size = sizeof key_id;
  rc = gnutls_x509_privkey_get_key_id(key.get(), GNUTLS_KEYID_USE_SHA1, key_id, &key_id_size);
  if (rc >= 0) rc = gnutls_x509_crt_set_subject_key_id(crt.get(), key_id, key_id_size);
  if (rc < 0) return fail("tls: development certificate subject key id", rc);

  rc = gnutls_x509_crt_sign2(crt.get(), crt.get(), key.get(), GNUTLS_DIG_SHA256, 0);
  if (rc < 0) return fail("tls: signing development certificate", rc);

  OwnedDatum cert_pem;
  OwnedDatum key_pem;
  rc = gnutls_x509_crt_export2(crt.get(), GNUTLS_X509_FMT_PEM, cert_pem.out());
  if (rc < 0) return fail("tls: exporting development certificate", rc);
  rc = gnutls_x509_privkey_export2_pkcs8(key.get(), GNUTLS_X509_FMT_PEM, nullptr,
                                         GNUTLS_PKCS_PLAIN, key_pem.out());
  if (rc < 0) return fail("tls: exporting development key", rc);

  // Key first: a crash in between leaves a pair that does not match, which the next start
  // detects and regenerates.
  if (auto r = write_private_file(key_path, key_pem.view()); !r) return r.error();
  if (auto r = write_private_file(cert_path, cert_pem.view()); !r) return r.error();
  return {};
}

std::string join_path(const std::string& dir, const char* name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace

Result<std::shared_ptr<Credentials>> Credentials::from_files(const std::string& cert_path,
                                                             const std::string& key_path) {
  auto cert_pem = read_file(cert_path, kCode);
  if (!cert_pem) return cert_pem.error();
  auto key_pem = read_file(key_path, kCode);
  if (!key_pem) return key_pem.error();

  auto chain = parse_chain(*cert_pem, cert_path);
  if (!chain) return chain.error();
  auto key = parse_key(*key_pem, key_path);
  if (!key) return key.error();
  gnutls_x509_crt_t leaf = chain->front().get();

  auto cert_spki = cert_spki_der(leaf);
  if (!cert_spki) return cert_spki.error();
  auto key_spki = key_spki_der(key->get());
  if (!key_spki) return key_spki.error();
  if (*cert_spki != *key_spki) {
    return cert_error(fmt::format("tls: {} does not match certificate {}", key_path, cert_path));
  }

  std::shared_ptr<Credentials> creds(new Credentials());
  gnutls_certificate_credentials_t raw = nullptr;
  int rc = gnutls_certificate_allocate_credentials(&raw);
  if (rc < 0) return gnutls_error(kCode, "tls: gnutls_certificate_allocate_credentials", rc);
  creds->creds_.reset(raw);
  gnutls_datum_t cert_data = borrow(*cert_pem);
  gnutls_datum_t key_data = borrow(*key_pem);
  rc = gnutls_certificate_set_x509_key_mem2(raw, &cert_data, &key_data, GNUTLS_X509_FMT_PEM,
                                            nullptr, 0);
  if (rc < 0) {
    return gnutls_error(kCode, fmt::format("tls: loading {} and {}", cert_path, key_path), rc);
  }

  uint8_t fp[32];
  size_t fp_size = sizeof fp;
  rc = gnutls_x509_crt_get_fingerprint(leaf, GNUTLS_DIG_SHA256, fp, &fp_size);
  if (rc < 0) return gnutls_error(kCode, "tls: certificate fingerprint", rc);

  creds->cert_path_ = cert_path;
  creds->key_path_ = key_path;
  creds->fingerprint_ = hex_colons({fp, fp_size});
  creds->spki_sha256_ = base64(as_bytes(sha256(*cert_spki)));
  creds->not_after_ =
      std::chrono::system_clock::from_time_t(gnutls_x509_crt_get_expiration_time(leaf));
  return creds;
}

Result<std::shared_ptr<Credentials>> Credentials::load(const CertOptions& options) {
  if (!options.cert_file.empty() || !options.key_file.empty()) {
    if (options.cert_file.empty() || options.key_file.empty()) {
      return cert_error("tls: cert_file and key_file must be set together");
    }
    auto creds = from_files(options.cert_file, options.key_file);
    if (!creds) return creds;
    if ((*creds)->not_after() < std::chrono::system_clock::now()) {
      spdlog::warn("tls: certificate {} expired", options.cert_file);
    }
    spdlog::info("tls: certificate {} sha256={}", (*creds)->cert_path(),
                 (*creds)->fingerprint_sha256());
    return creds;
  }

  if (options.state_dir.empty()) {
    return cert_error("tls: no cert_file/key_file and no state_dir for a development certificate");
  }
  const std::string cert_path = join_path(options.state_dir, "cert.pem");
  const std::string key_path = join_path(options.state_dir, "key.pem");
  const auto renew_at = std::chrono::system_clock::now() + std::chrono::seconds(kDevRenewBeforeSeconds);

  if (file_exists(cert_path) || file_exists(key_path)) {
    auto existing = from_files(cert_path, key_path);
    if (existing && (*existing)->not_after() > renew_at) {
      (*existing)->dev_ = true;
      spdlog::info("tls: development certificate {} sha256={} spki={}", cert_path,
                   (*existing)->fingerprint_sha256(), (*existing)->spki_sha256_base64());
      return existing;
    }
    spdlog::warn("tls: replacing development certificate {}: {}", cert_path,
                 existing ? std::string("expired or about to expire") : existing.error().message);
  }

  if (auto r = make_private_dirs(options.state_dir); !r) return r.error();
  if (auto r = generate_dev_cert(cert_path, key_path); !r) return r.error();
  auto created = from_files(cert_path, key_path);
  if (!created) return created;
  (*created)->dev_ = true;
  spdlog::info("tls: generated development certificate {} sha256={} spki={}", cert_path,
               (*created)->fingerprint_sha256(), (*created)->spki_sha256_base64());
  return created;
}

}  // namespace mirror::tls
