#include "tls/ticket_key.h"

#include <cstring>

#include <fmt/format.h>

#include "tls/gnutls_util.h"

namespace mirror::tls {
namespace {

constexpr const char* kCode = "tls.ticket_key";
// GnuTLS's TICKET_MASTER_KEY_SIZE (what gnutls_session_ticket_key_generate produces and what
// gnutls_session_ticket_enable_server requires).
constexpr size_t kMasterKeySize = 64;

}  // namespace

TicketKeys::~TicketKeys() {
  if (datum_.data) {
    gnutls_memset(datum_.data, 0, datum_.size);
    gnutls_free(datum_.data);
  }
}

Result<std::shared_ptr<TicketKeys>> TicketKeys::generate() {
  std::shared_ptr<TicketKeys> keys(new TicketKeys());
  int rc = gnutls_session_ticket_key_generate(&keys->datum_);
  if (rc < 0) return gnutls_error(kCode, "tls: generating session ticket key", rc);
  return keys;
}

Result<std::shared_ptr<TicketKeys>> TicketKeys::load_file(const std::string& path) {
  auto content = read_file(path, kCode);
  if (!content) return content.error();
  std::string raw;
  if (content->size() == kMasterKeySize) {
    raw = std::move(*content);
  } else if (!base64_decode(*content, raw) || raw.size() != kMasterKeySize) {
    return make_error(kCode, fmt::format("tls: {}: a ticket key must be {} bytes, raw or base64 "
                                         "(head -c {} /dev/urandom | base64 -w0 > {})",
                                         path, kMasterKeySize, kMasterKeySize, path));
  }
  std::shared_ptr<TicketKeys> keys(new TicketKeys());
  keys->datum_.data = static_cast<unsigned char*>(gnutls_malloc(kMasterKeySize));
  if (!keys->datum_.data) return make_error(kCode, "tls: out of memory");
  keys->datum_.size = kMasterKeySize;
  memcpy(keys->datum_.data, raw.data(), kMasterKeySize);
  gnutls_memset(raw.data(), 0, raw.size());
  return keys;
}

Result<std::shared_ptr<TicketKeys>> TicketKeys::from_config(const std::string& path) {
  return path.empty() ? generate() : load_file(path);
}

Result<void> TicketKeys::enable(gnutls_session_t session) const {
  int rc = gnutls_session_ticket_enable_server(session, &datum_);
  if (rc < 0) return gnutls_error(kCode, "tls: gnutls_session_ticket_enable_server", rc);
  return {};
}

}  // namespace mirror::tls
