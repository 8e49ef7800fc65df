#include "tls/ticket_key.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_peer.h"
#include "tls/gnutls_util.h"

namespace mirror::tls {
namespace {

using testing::TempDir;

std::string key_bytes(const TicketKeys& k) {
  return std::string(reinterpret_cast<const char*>(k.key()->data), k.key()->size);
}

TEST(TicketKeys, GeneratedKeysAre64RandomBytes) {
  auto a = TicketKeys::generate();
  auto b = TicketKeys::from_config("");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->key()->size, 64u);
  EXPECT_EQ((*b)->key()->size, 64u);
  EXPECT_NE(key_bytes(**a), key_bytes(**b));
}

TEST(TicketKeys, LoadsRawAndBase64Files) {
  TempDir tmp;
  std::string raw(64, '\0');
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<char>(255 - i);
  std::ofstream(tmp.file("raw.key"), std::ios::binary) << raw;
  std::ofstream(tmp.file("b64.key")) << base64(testing::bytes(raw)) << "\n";

  auto r = TicketKeys::from_config(tmp.file("raw.key"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(key_bytes(**r), raw);
  auto b = TicketKeys::load_file(tmp.file("b64.key"));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(key_bytes(**b), raw);
}

TEST(TicketKeys, RejectsWrongSizeAndMissingFiles) {
  TempDir tmp;
  std::ofstream(tmp.file("short.key")) << base64(testing::bytes(std::string(32, 'k')));
  auto r = TicketKeys::load_file(tmp.file("short.key"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "tls.ticket_key");
  EXPECT_NE(r.error().message.find("64 bytes"), std::string::npos) << r.error().message;

  auto m = TicketKeys::from_config(tmp.file("missing.key"));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find(tmp.file("missing.key")), std::string::npos);
}

TEST(TicketKeys, EnableAcceptsServerSessions) {
  auto k = TicketKeys::generate();
  ASSERT_TRUE(k.ok());
  gnutls_session_t s = nullptr;
  ASSERT_EQ(gnutls_init(&s, GNUTLS_SERVER), 0);
  EXPECT_TRUE((*k)->enable(s).ok());
  gnutls_deinit(s);
}

}  // namespace
}  // namespace mirror::tls
