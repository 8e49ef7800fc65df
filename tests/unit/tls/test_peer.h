// Test helpers for the tls layer: a temporary directory and an in-process GnuTLS client over
// memory buffers, so handshakes run without sockets.
#pragma once

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tls/stream_session.h"

namespace mirror::tls::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mirror-tls-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A GnuTLS client session with memory transport: bytes it sends collect in out; bytes for it are
// appended to in.
class TestClient {
 public:
  struct Options {
    std::string priority = "NORMAL";
    std::vector<std::string> alpn;
    std::string trust_file;   // CA file to verify the server against (empty: no verification)
    std::string verify_name;  // host name / IP to verify
    std::string session_data; // resume from this (gnutls_session_get_data2 output)
  };

  explicit TestClient(const Options& o) {
    gnutls_certificate_allocate_credentials(&creds_);
    if (!o.trust_file.empty()) {
      gnutls_certificate_set_x509_trust_file(creds_, o.trust_file.c_str(), GNUTLS_X509_FMT_PEM);
    }
    gnutls_init(&s_, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
    gnutls_priority_set_direct(s_, o.priority.c_str(), nullptr);
    gnutls_credentials_set(s_, GNUTLS_CRD_CERTIFICATE, creds_);
    // GnuTLS keeps the name pointer, so the string must live as long as the session.
    verify_name_ = o.verify_name;
    if (!verify_name_.empty()) gnutls_session_set_verify_cert(s_, verify_name_.c_str(), 0);
    if (!o.alpn.empty()) {
      std::vector<gnutls_datum_t> protos;
      for (const auto& p : o.alpn) {
        protos.push_back({reinterpret_cast<unsigned char*>(const_cast<char*>(p.data())),
                          static_cast<unsigned>(p.size())});
      }
      gnutls_alpn_set_protocols(s_, protos.data(), protos.size(), 0);
    }
    if (!o.session_data.empty()) {
      gnutls_session_set_data(s_, o.session_data.data(), o.session_data.size());
    }
    gnutls_transport_set_ptr(s_, this);
    gnutls_transport_set_push_function(s_, [](gnutls_transport_ptr_t p, const void* d, size_t n) {
      static_cast<TestClient*>(p)->out.append(static_cast<const char*>(d), n);
      return static_cast<ssize_t>(n);
    });
    gnutls_transport_set_pull_function(s_, [](gnutls_transport_ptr_t p, void* d, size_t n) {
      return static_cast<TestClient*>(p)->pull(d, n);
    });
    gnutls_transport_set_pull_timeout_function(s_, [](gnutls_transport_ptr_t p, unsigned) {
      auto* c = static_cast<TestClient*>(p);
      if (c->pos_ < c->in.size()) return 1;
      gnutls_transport_set_errno(c->s_, EAGAIN);
      return -1;
    });
  }
  ~TestClient() {
    gnutls_deinit(s_);
    gnutls_certificate_free_credentials(creds_);
  }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // One handshake step: 0 done, GNUTLS_E_AGAIN needs more, other negative: failed.
  int handshake() {
    if (done_) return 0;
    int rc;
    do {
      rc = gnutls_handshake(s_);
    } while (rc < 0 && rc != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(rc));
    if (rc == 0) done_ = true;
    return rc;
  }
  bool done() const { return done_; }

  // Reads all decryptable application data; returns 0 on close_notify, else the last status.
  int read_all(std::string& plaintext) {
    char buf[16384];
    for (;;) {
      ssize_t n = gnutls_record_recv(s_, buf, sizeof buf);
      if (n > 0) {
        plaintext.append(buf, n);
        continue;
      }
      if (n == GNUTLS_E_INTERRUPTED || (n < 0 && n != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(n))) {
        continue;
      }
      return static_cast<int>(n);
    }
  }
  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = gnutls_record_send(s_, data.data(), data.size());
      if (n < 0) return false;
      data.remove_prefix(n);
    }
    return true;
  }
  std::string session_data() {
    gnutls_datum_t d{nullptr, 0};
    if (gnutls_session_get_data2(s_, &d) < 0) return {};
    std::string out(reinterpret_cast<char*>(d.data), d.size);
    gnutls_free(d.data);
    return out;
  }
  std::string alpn() const {
    gnutls_datum_t d{nullptr, 0};
    if (gnutls_alpn_get_selected_protocol(s_, &d) != 0) return {};
    return std::string(reinterpret_cast<char*>(d.data), d.size);
  }
  gnutls_session_t native() const { return s_; }

  std::string in;   // bytes from the server, not yet read
  std::string out;  // bytes for the server

 private:
  ssize_t pull(void* d, size_t n) {
    size_t avail = in.size() - pos_;
    if (avail == 0) {
      gnutls_transport_set_errno(s_, EAGAIN);
      return -1;
    }
    n = std::min(n, avail);
    memcpy(d, in.data() + pos_, n);
    pos_ += n;
    if (pos_ == in.size()) {
      in.clear();
      pos_ = 0;
    }
    return static_cast<ssize_t>(n);
  }

  std::string verify_name_;
  gnutls_certificate_credentials_t creds_ = nullptr;
  gnutls_session_t s_ = nullptr;
  size_t pos_ = 0;
  bool done_ = false;
};

inline std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Moves bytes between client and server until both finish the handshake, one fails, or nothing
// moves. Returns the server's feed() result (the first failure).
inline Result<void> pump_handshake(TestClient& client, ServerSession& server) {
  for (int round = 0; round < 20; ++round) {
    int rc = client.handshake();
    if (rc < 0 && rc != GNUTLS_E_AGAIN) {
      // Deliver the client's alert (if any) so the server sees the failure too.
      if (!client.out.empty()) {
        std::string o = std::move(client.out);
        client.out.clear();
        (void)server.feed(bytes(o));
      }
      return make_error("client", gnutls_strerror(rc));
    }
    std::string to_server = std::move(client.out);
    client.out.clear();
    auto fed = server.feed(bytes(to_server));
    client.in += server.ciphertext_out();
    server.ciphertext_out().clear();
    if (!fed) {
      client.handshake();  // let the client read the alert
      return fed;
    }
    if (client.done() && server.handshake_done() && client.out.empty()) return {};
  }
  return make_error("pump", "handshake made no progress");
}

}  // namespace mirror::tls::testing
