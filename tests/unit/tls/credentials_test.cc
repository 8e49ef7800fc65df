#include "tls/credentials.h"

#include <arpa/inet.h>
#include <gnutls/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "test_peer.h"
#include "tls/gnutls_util.h"

namespace mirror::tls {
namespace {

using testing::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

// Runs a shell command and returns its stdout with the trailing newline removed.
std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

X509Crt import_cert(const std::string& path) {
  std::string pem = slurp(path);
  gnutls_x509_crt_t crt = nullptr;
  gnutls_x509_crt_init(&crt);
  gnutls_datum_t d = borrow(pem);
  EXPECT_EQ(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
  return X509Crt(crt);
}

TEST(Credentials, GeneratesDevCertWithPrivateModesAndReusesIt) {
  TempDir tmp;
  std::string state = tmp.file("state/nested");
  auto first = Credentials::load({.state_dir = state});
  ASSERT_TRUE(first.ok()) << first.error().message;
  const auto& c = **first;
  EXPECT_TRUE(c.self_signed_dev());
  EXPECT_EQ(c.cert_path(), state + "/cert.pem");
  EXPECT_EQ(c.key_path(), state + "/key.pem");
  EXPECT_NE(c.get(), nullptr);
  EXPECT_EQ(mode_of(c.key_path()), 0600u);
  EXPECT_EQ(mode_of(c.cert_path()), 0600u);
  EXPECT_EQ(mode_of(state), 0700u);
  EXPECT_EQ(mode_of(tmp.file("state")), 0700u);

  // "AB:CD:..." : 32 bytes.
  std::string fp = c.fingerprint_sha256();
  ASSERT_EQ(fp.size(), 32u * 3 - 1);
  for (size_t i = 0; i < fp.size(); ++i) {
    if (i % 3 == 2) {
      EXPECT_EQ(fp[i], ':');
    } else {
      EXPECT_TRUE(isxdigit(static_cast<unsigned char>(fp[i])) && !islower(fp[i])) << fp;
    }
  }
  auto days_left = std::chrono::duration_cast<std::chrono::hours>(
                       c.not_after() - std::chrono::system_clock::now()).count() / 24;
  EXPECT_GE(days_left, 360);
  EXPECT_LE(days_left, 366);

  std::string cert_pem = slurp(c.cert_path());
  auto second = Credentials::load({.state_dir = state});
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ((*second)->fingerprint_sha256(), fp);
  EXPECT_EQ((*second)->spki_sha256_base64(), c.spki_sha256_base64());
  EXPECT_EQ(slurp(c.cert_path()), cert_pem) << "reused certificate must not be rewritten";
}

TEST(Credentials, DevCertHasLocalhostNamesAndServerAuth) {
  TempDir tmp;
  auto creds = Credentials::load({.state_dir = tmp.path()});
  ASSERT_TRUE(creds.ok()) << creds.error().message;
  X509Crt crt = import_cert((*creds)->cert_path());

  char dn[256];
  size_t dn_size = sizeof dn;
  ASSERT_EQ(gnutls_x509_crt_get_dn(crt.get(), dn, &dn_size), 0);
  EXPECT_STREQ(dn, "CN=localhost");

  std::vector<std::string> dns, ips;
  for (unsigned i = 0;; ++i) {
    char san[64];
    size_t size = sizeof san;
    int type = gnutls_x509_crt_get_subject_alt_name(crt.get(), i, san, &size, nullptr);
    if (type < 0) break;
    if (type == GNUTLS_SAN_DNSNAME) dns.emplace_back(san, size);
    if (type == GNUTLS_SAN_IPADDRESS) {
      char text[INET6_ADDRSTRLEN];
      inet_ntop(size == 4 ? AF_INET : AF_INET6, san, text, sizeof text);
      ips.emplace_back(text);
    }
  }
  EXPECT_EQ(dns, std::vector<std::string>{"localhost"});
  EXPECT_EQ(ips, (std::vector<std::string>{"127.0.0.1", "::1"}));

  char oid[64];
  size_t oid_size = sizeof oid;
  ASSERT_EQ(gnutls_x509_crt_get_key_purpose_oid(crt.get(), 0, oid, &oid_size, nullptr), 0);
  EXPECT_STREQ(oid, GNUTLS_KP_TLS_WWW_SERVER);

  unsigned bits = 0;
  EXPECT_EQ(gnutls_x509_crt_get_pk_algorithm(crt.get(), &bits), GNUTLS_PK_ECDSA);
  gnutls_ecc_curve_t curve{};
  gnutls_datum_t x{}, y{};
  ASSERT_EQ(gnutls_x509_crt_get_pk_ecc_raw(crt.get(), &curve, &x, &y), 0);
  EXPECT_EQ(curve, GNUTLS_ECC_CURVE_SECP256R1);
  gnutls_free(x.data);
  gnutls_free(y.data);

  // The certificate verifies as its own trust anchor for each of its names.
  for (const char* name : {"localhost", "127.0.0.1", "::1"}) {
    EXPECT_NE(gnutls_x509_crt_check_hostname2(crt.get(), name, 0), 0u) << name;
  }
  EXPECT_EQ(gnutls_x509_crt_check_hostname2(crt.get(), "example.com", 0), 0u);
}

TEST(Credentials, RegeneratesCorruptDevCert) {
  TempDir tmp;
  auto first = Credentials::load({.state_dir = tmp.path()});
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::string old_fp = (*first)->fingerprint_sha256();

  spit(tmp.file("cert.pem"), "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n");
  auto second = Credentials::load({.state_dir = tmp.path()});
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_NE((*second)->fingerprint_sha256(), old_fp);
  // What is on disk now is the new, valid pair.
  auto third = Credentials::load({.cert_file = tmp.file("cert.pem"), .key_file = tmp.file("key.pem")});
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ((*third)->fingerprint_sha256(), (*second)->fingerprint_sha256());
  EXPECT_FALSE((*third)->self_signed_dev());
}

TEST(Credentials, RegeneratesDevCertWhoseKeyWasReplaced) {
  TempDir a, b;
  ASSERT_TRUE(Credentials::load({.state_dir = a.path()}).ok());
  ASSERT_TRUE(Credentials::load({.state_dir = b.path()}).ok());
  spit(a.file("key.pem"), slurp(b.file("key.pem")));  // now a mismatched pair
  auto again = Credentials::load({.state_dir = a.path()});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(Credentials::load({.cert_file = a.file("cert.pem"), .key_file = a.file("key.pem")}).ok());
}

TEST(Credentials, RegeneratesExpiredDevCert) {
  TempDir tmp;
  ASSERT_TRUE(Credentials::load({.state_dir = tmp.path()}).ok());

  // Re-sign the same key into a certificate that expired yesterday.
  std::string key_pem = slurp(tmp.file("key.pem"));
  gnutls_x509_privkey_t key_raw = nullptr;
  gnutls_x509_privkey_init(&key_raw);
  X509Privkey key(key_raw);
  gnutls_datum_t kd = borrow(key_pem);
  ASSERT_EQ(gnutls_x509_privkey_import(key.get(), &kd, GNUTLS_X509_FMT_PEM), 0);
  X509Crt crt = import_cert(tmp.file("cert.pem"));
  time_t now = time(nullptr);
  ASSERT_EQ(gnutls_x509_crt_set_activation_time(crt.get(), now - 10 * 86400), 0);
  ASSERT_EQ(gnutls_x509_crt_set_expiration_time(crt.get(), now - 86400), 0);
  ASSERT_EQ(gnutls_x509_crt_sign2(crt.get(), crt.get(), key.get(), GNUTLS_DIG_SHA256, 0), 0);
  OwnedDatum pem;
  ASSERT_EQ(gnutls_x509_crt_export2(crt.get(), GNUTLS_X509_FMT_PEM, pem.out()), 0);
  spit(tmp.file("cert.pem"), std::string(pem.view()));

  auto expired = Credentials::load({.cert_file = tmp.file("cert.pem"), .key_file = tmp.file("key.pem")});
  ASSERT_TRUE(expired.ok());  // an operator's expired certificate still loads (with a warning)
  EXPECT_LT((*expired)->not_after(), std::chrono::system_clock::now());

  auto renewed = Credentials::load({.state_dir = tmp.path()});
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_GT((*renewed)->not_after(), std::chrono::system_clock::now() + std::chrono::hours(24 * 300));
  EXPECT_NE((*renewed)->fingerprint_sha256(), (*expired)->fingerprint_sha256());
}

TEST(Credentials, MissingFileNamesThePath) {
  TempDir tmp;
  auto r = Credentials::load({.cert_file = tmp.file("nope.pem"), .key_file = tmp.file("key.pem")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "tls.cert");
  EXPECT_EQ(r.error().message,
            "tls: cannot read " + tmp.file("nope.pem") + ": No such file or directory");
}

TEST(Credentials, CertAndKeyMustBeSetTogether) {
  auto r = Credentials::load({.cert_file = "/etc/hostname"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("together"), std::string::npos) << r.error().message;
}

TEST(Credentials, NoStateDirIsAnError) {
  auto r = Credentials::load({});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("state_dir"), std::string::npos) << r.error().message;
}

TEST(Credentials, BadPemIsReported) {
  TempDir tmp;
  ASSERT_TRUE(Credentials::load({.state_dir = tmp.path()}).ok());
  spit(tmp.file("junk.pem"), "hello, I am not a certificate\n");
  auto r = Credentials::load({.cert_file = tmp.file("junk.pem"), .key_file = tmp.file("key.pem")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "tls: " + tmp.file("junk.pem") + ": no PEM certificate found");

  auto k = Credentials::load({.cert_file = tmp.file("cert.pem"), .key_file = tmp.file("junk.pem")});
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().message.rfind("tls: " + tmp.file("junk.pem") + ": bad private key", 0), 0u)
      << k.error().message;
}

TEST(Credentials, MismatchedKeyIsReported) {
  TempDir a, b;
  ASSERT_TRUE(Credentials::load({.state_dir = a.path()}).ok());
  ASSERT_TRUE(Credentials::load({.state_dir = b.path()}).ok());
  auto r = Credentials::load({.cert_file = a.file("cert.pem"), .key_file = b.file("key.pem")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "tls: " + b.file("key.pem") + " does not match certificate " + a.file("cert.pem"));
}

TEST(Credentials, ChainFileUsesTheLeaf) {
  TempDir a, b;
  auto leaf = Credentials::load({.state_dir = a.path()});
  ASSERT_TRUE(leaf.ok());
  ASSERT_TRUE(Credentials::load({.state_dir = b.path()}).ok());
  spit(a.file("chain.pem"), slurp(a.file("cert.pem")) + slurp(b.file("cert.pem")));
  auto r = Credentials::load({.cert_file = a.file("chain.pem"), .key_file = a.file("key.pem")});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->fingerprint_sha256(), (*leaf)->fingerprint_sha256());
}

TEST(Credentials, SpkiHashMatchesGnutlsKeyIdAndOpenssl) {
  TempDir tmp;
  auto creds = Credentials::load({.state_dir = tmp.path()});
  ASSERT_TRUE(creds.ok());
  std::string spki = (*creds)->spki_sha256_base64();
  ASSERT_EQ(spki.size(), 44u);
  EXPECT_EQ(spki.back(), '=');

  // GnuTLS's SHA-256 key id is the hash of the SubjectPublicKeyInfo DER: an independent route.
  X509Crt crt = import_cert((*creds)->cert_path());
  uint8_t id[32];
  size_t id_size = sizeof id;
  ASSERT_EQ(gnutls_x509_crt_get_key_id(crt.get(), GNUTLS_KEYID_USE_SHA256, id, &id_size), 0);
  ASSERT_EQ(id_size, 32u);
  EXPECT_EQ(spki, base64({id, id_size}));

  if (::access("/usr/bin/openssl", X_OK) == 0) {
    std::string cert = (*creds)->cert_path();
    EXPECT_EQ(spki, run("/usr/bin/openssl x509 -in " + cert +
                        " -pubkey -noout | /usr/bin/openssl pkey -pubin -outform der | "
                        "/usr/bin/openssl dgst -sha256 -binary | base64"));
    EXPECT_EQ("sha256 Fingerprint=" + (*creds)->fingerprint_sha256(),
              run("/usr/bin/openssl x509 -in " + cert + " -noout -fingerprint -sha256"));
  }
}

TEST(Base64, EncodesAndDecodesRfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64(testing::bytes(plain)), encoded);
    std::string decoded;
    ASSERT_TRUE(base64_decode(encoded + "\n", decoded)) << encoded;
    EXPECT_EQ(decoded, plain);
  }
  std::string out;
  EXPECT_FALSE(base64_decode("Zm9v!", out));
  EXPECT_FALSE(base64_decode("Zg==Zg", out));
}

}  // namespace
}  // namespace mirror::tls
