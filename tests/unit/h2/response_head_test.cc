#include "h2/response_head.h"

#include <gtest/gtest.h>

#include <memory>

namespace mirror::h2 {
namespace {

const std::string* find(const std::vector<http::Header>& fields, std::string_view name) {
  for (const auto& f : fields) {
    if (f.name == name) return &f.value;
  }
  return nullptr;
}

size_t count(const std::vector<http::Header>& fields, std::string_view name) {
  size_t n = 0;
  for (const auto& f : fields) n += f.name == name;
  return n;
}

class NullProducer final : public http::BodyProducer {
 public:
  ReadResult read(std::span<uint8_t>) override { return {0, true, false}; }
};

TEST(H2ResponseHead, StatusFirstThenFieldsAndDefaults) {
  http::Request req;
  http::Response res;
  res.status = 404;
  res.headers.add("Content-Type", "application/json");
  res.body = std::string("{}");
  auto f = response_fields(req, res, "Tue, 01 Oct 2024 10:00:00 GMT", "h3=\":443\"");
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].name, ":status");
  EXPECT_EQ(f[0].value, "404");
  EXPECT_EQ(*find(f, "content-type"), "application/json");
  EXPECT_EQ(*find(f, "content-length"), "2");
  EXPECT_EQ(*find(f, "date"), "Tue, 01 Oct 2024 10:00:00 GMT");
  EXPECT_EQ(*find(f, "server"), "mirror");
  EXPECT_EQ(*find(f, "alt-svc"), "h3=\":443\"");
}

TEST(H2ResponseHead, DropsConnectionSpecificPseudoAndUnsafeFields) {
  http::Request req;
  http::Response res;
  res.headers.add("connection", "close");
  res.headers.add("keep-alive", "1");
  res.headers.add("transfer-encoding", "chunked");
  res.headers.add("upgrade", "websocket");
  res.headers.add("proxy-connection", "close");
  res.headers.add(":status", "500");
  res.headers.add("x-split", "a\r\nx-injected: 1");
  res.headers.add("x-ok", "fine");
  auto f = response_fields(req, res, "d", "");
  for (const char* name : {"connection", "keep-alive", "transfer-encoding", "upgrade",
                           "proxy-connection", "x-split"}) {
    EXPECT_EQ(find(f, name), nullptr) << name;
  }
  EXPECT_EQ(count(f, ":status"), 1u);
  EXPECT_EQ(f[0].value, "200");
  EXPECT_EQ(*find(f, "x-ok"), "fine");
  EXPECT_EQ(find(f, "alt-svc"), nullptr);
}

TEST(H2ResponseHead, ContentLengthRules) {
  http::Request get;
  http::Request head;
  head.method = http::Method::kHead;

  http::Response text;
  text.body = std::string("hello");
  text.headers.set("content-length", "999");  // wrong: replaced by the real length
  auto f = response_fields(get, text, "d", "");
  EXPECT_EQ(count(f, "content-length"), 1u);
  EXPECT_EQ(*find(f, "content-length"), "5");
  EXPECT_EQ(*find(response_fields(head, text, "d", ""), "content-length"), "5");

  http::Response head_only;  // HEAD handler that knows the length but sends no body
  head_only.headers.set("content-length", "1234");
  EXPECT_EQ(*find(response_fields(head, head_only, "d", ""), "content-length"), "1234");
  EXPECT_EQ(*find(response_fields(get, head_only, "d", ""), "content-length"), "0");

  http::Response produced;
  produced.body = std::make_unique<NullProducer>();
  EXPECT_EQ(find(response_fields(get, produced, "d", ""), "content-length"), nullptr);
  produced.headers.set("content-length", "42");  // the producer's promise is kept
  EXPECT_EQ(*find(response_fields(get, produced, "d", ""), "content-length"), "42");

  http::Response no_content;
  no_content.status = 204;
  no_content.headers.set("content-length", "0");
  EXPECT_EQ(find(response_fields(get, no_content, "d", ""), "content-length"), nullptr);

  http::Response not_modified;
  not_modified.status = 304;
  not_modified.headers.set("content-length", "77");
  EXPECT_EQ(*find(response_fields(get, not_modified, "d", ""), "content-length"), "77");
}

TEST(H2ResponseHead, NoBodyCases) {
  http::Request get;
  http::Request head;
  head.method = http::Method::kHead;
  EXPECT_TRUE(response_has_no_body(head, 200));
  EXPECT_TRUE(response_has_no_body(get, 204));
  EXPECT_TRUE(response_has_no_body(get, 304));
  EXPECT_FALSE(response_has_no_body(get, 200));
  EXPECT_FALSE(response_has_no_body(get, 404));
}

TEST(H2ResponseHead, TrailersAndInformational) {
  http::Headers t;
  t.add("Grpc-Status", "0");
  t.add(":path", "/nope");
  t.add("connection", "x");
  auto tf = trailer_fields(t);
  ASSERT_EQ(tf.size(), 1u);
  EXPECT_EQ(tf[0].name, "grpc-status");

  http::Headers hints;
  hints.add("link", "</a.css>; rel=preload");
  auto inf = informational_fields(103, hints);
  ASSERT_EQ(inf.size(), 2u);
  EXPECT_EQ(inf[0].name, ":status");
  EXPECT_EQ(inf[0].value, "103");
  EXPECT_EQ(inf[1].name, "link");

  auto nva = to_nv(inf);
  ASSERT_EQ(nva.size(), 2u);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(nva[0].name), nva[0].namelen),
            ":status");
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(nva[1].value), nva[1].valuelen),
            "</a.css>; rel=preload");
}

}  // namespace
}  // namespace mirror::h2
