#include "app/static_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "../web/fake_exchange.h"
#include "app/static_path.h"
#include "web/pipeline.h"

namespace mirror::app {
namespace {

namespace fs = std::filesystem;
using testing::FakeExchange;

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

// Reads the bytes the protocol would send, from whichever body kind the response holds.
std::string body_bytes(FakeExchange& ex) {
  std::string out;
  http::BodyReader reader(&ex.response->body);
  uint8_t buf[7];  // small, to exercise offsets
  while (true) {
    auto r = reader.read(buf);
    out.append(reinterpret_cast<char*>(buf), r.n);
    if (r.eof || r.n == 0) break;
  }
  return out;
}

// Layout (outside/ is next to the root, not in it):
//   <tmp>/root/{index.html, app.js, video/seg.ts, live/index.m3u8, blob.bin, empty.txt,
//               sub/dir/file.txt, link.txt -> sub/dir/file.txt, escape -> ../outside/secret.txt,
//               abslink.txt -> <root>/sub/dir/file.txt, absescape -> <tmp>/outside/secret.txt,
//               dirlink -> sub, fifo}
//   <tmp>/outside/secret.txt
class StaticFilesTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mirror-static-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ / "root";
    write_file(root_ / "index.html", "<h1>hi</h1>");
    write_file(root_ / "app.js", "console.log(1)");
    write_file(root_ / "video/seg.ts", std::string(1000, 'G'));
    write_file(root_ / "live/index.m3u8", "#EXTM3U\n");
    write_file(root_ / "blob.bin", "0123456789");
    write_file(root_ / "empty.txt", "");
    write_file(root_ / "sub/dir/file.txt", "inside");
    write_file(base_ / "outside/secret.txt", "SECRET");
    fs::create_symlink("sub/dir/file.txt", root_ / "link.txt");
    fs::create_symlink("../outside/secret.txt", root_ / "escape");
    fs::create_symlink("sub", root_ / "dirlink");
    fs::create_symlink(root_ / "sub/dir/file.txt", root_ / "abslink.txt");
    fs::create_symlink(base_ / "outside/secret.txt", root_ / "absescape");
    ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0644), 0);

    Status st =
        register_static_routes(p_.router(), StaticOptions{root_.string(), "/static", GetParam()});
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
  void TearDown() override { fs::remove_all(base_); }

  std::shared_ptr<FakeExchange> request(
      std::string_view target, std::vector<std::pair<std::string, std::string>> headers = {},
      std::string_view method = "GET") {
    auto ex = FakeExchange::make(method, target);
    for (const auto& [k, v] : headers) ex->header(k, v);
    p_.handle(ex);
    return ex;
  }

  fs::path base_;
  fs::path root_;
  web::Pipeline p_;
};

TEST_P(StaticFilesTest, ServesFilesWithTypesAndValidators) {
  auto ex = request("/static/index.html");
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->header_value("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(ex->header_value("accept-ranges"), "bytes");
  EXPECT_EQ(ex->response->content_length(), 11);
  EXPECT_TRUE(std::holds_alternative<http::FileBody>(ex->response->body));
  EXPECT_EQ(body_bytes(*ex), "<h1>hi</h1>");

  struct stat st {};
  ASSERT_EQ(::stat((root_ / "index.html").c_str(), &st), 0);
  char expected[128];
  snprintf(expected, sizeof expected, "\"%llx-%llx-%llx\"",
           static_cast<unsigned long long>(st.st_size),
           static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ull + st.st_mtim.tv_nsec,
           static_cast<unsigned long long>(st.st_ino));
  EXPECT_EQ(ex->header_value("etag"), expected);
  EXPECT_TRUE(std::regex_match(ex->header_value("last-modified"),
                               std::regex(R"(\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT)")));

  EXPECT_EQ(request("/static/app.js")->header_value("content-type"),
            "text/javascript; charset=utf-8");
  EXPECT_EQ(request("/static/video/seg.ts")->header_value("content-type"), "video/mp2t");
  EXPECT_EQ(request("/static/live/index.m3u8")->header_value("content-type"),
            "application/vnd.apple.mpegurl");
  EXPECT_EQ(request("/static/blob.bin")->header_value("content-type"), "application/octet-stream");
  auto empty = request("/static/empty.txt");
  EXPECT_EQ(empty->status(), 200);
  EXPECT_EQ(empty->response->content_length(), 0);
  auto spaced = request("/static/sub/dir/file%2Etxt");  // encoded dot: refused outright
  EXPECT_EQ(spaced->status(), 404);
}

TEST_P(StaticFilesTest, HeadGetsTheSameHeaders) {
  auto get = request("/static/index.html");
  auto head = request("/static/index.html", {}, "HEAD");
  EXPECT_EQ(head->status(), 200);
  EXPECT_EQ(head->header_value("etag"), get->header_value("etag"));
  EXPECT_EQ(head->response->content_length(), 11);
}

TEST_P(StaticFilesTest, ConditionalRequests) {
  auto first = request("/static/index.html");
  std::string etag = first->header_value("etag");
  std::string lm = first->header_value("last-modified");

  auto inm = request("/static/index.html", {{"if-none-match", etag}});
  EXPECT_EQ(inm->status(), 304);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(inm->response->body));
  EXPECT_EQ(inm->header_value("etag"), etag);
  EXPECT_FALSE(inm->has_header("content-type"));

  EXPECT_EQ(request("/static/index.html", {{"if-none-match", "W/" + etag}})->status(), 304);
  EXPECT_EQ(request("/static/index.html", {{"if-none-match", "\"x\", " + etag}})->status(), 304);
  EXPECT_EQ(request("/static/index.html", {{"if-none-match", "*"}})->status(), 304);
  EXPECT_EQ(request("/static/index.html", {{"if-none-match", "\"other\""}})->status(), 200);

  EXPECT_EQ(request("/static/index.html", {{"if-modified-since", lm}})->status(), 304);
  EXPECT_EQ(request("/static/index.html", {{"if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT"}})
                ->status(),
            200);
  EXPECT_EQ(request("/static/index.html", {{"if-modified-since", "not a date"}})->status(), 200);
  // If-None-Match present: If-Modified-Since is ignored.
  EXPECT_EQ(
      request("/static/index.html", {{"if-none-match", "\"other\""}, {"if-modified-since", lm}})
          ->status(),
      200);
}

TEST_P(StaticFilesTest, Ranges) {
  auto r = request("/static/blob.bin", {{"range", "bytes=2-5"}});
  ASSERT_EQ(r->status(), 206);
  EXPECT_EQ(r->header_value("content-range"), "bytes 2-5/10");
  EXPECT_EQ(r->response->content_length(), 4);
  EXPECT_EQ(body_bytes(*r), "2345");

  auto open_end = request("/static/blob.bin", {{"range", "bytes=7-"}});
  EXPECT_EQ(open_end->status(), 206);
  EXPECT_EQ(body_bytes(*open_end), "789");

  auto suffix = request("/static/blob.bin", {{"range", "bytes=-2"}});
  EXPECT_EQ(suffix->status(), 206);
  EXPECT_EQ(suffix->header_value("content-range"), "bytes 8-9/10");
  EXPECT_EQ(body_bytes(*suffix), "89");

  auto big = request("/static/video/seg.ts", {{"range", "bytes=990-"}});
  EXPECT_EQ(big->status(), 206);
  EXPECT_EQ(body_bytes(*big), std::string(10, 'G'));

  auto bad = request("/static/blob.bin", {{"range", "bytes=10-"}});
  EXPECT_EQ(bad->status(), 416);
  EXPECT_EQ(bad->header_value("content-range"), "bytes */10");
  EXPECT_EQ(bad->header_value("content-type"), "application/json");
  EXPECT_NE(bad->body().find("Range not satisfiable"), std::string::npos);

  auto multi = request("/static/blob.bin", {{"range", "bytes=0-1,4-5"}});
  EXPECT_EQ(multi->status(), 200);
  EXPECT_EQ(body_bytes(*multi), "0123456789");

  std::string etag = r->header_value("etag");
  std::string lm = r->header_value("last-modified");
  EXPECT_EQ(request("/static/blob.bin", {{"range", "bytes=0-0"}, {"if-range", etag}})->status(),
            206);
  EXPECT_EQ(request("/static/blob.bin", {{"range", "bytes=0-0"}, {"if-range", lm}})->status(), 206);
  auto stale = request("/static/blob.bin", {{"range", "bytes=0-0"}, {"if-range", "\"old\""}});
  EXPECT_EQ(stale->status(), 200);
  EXPECT_EQ(body_bytes(*stale), "0123456789");
}

TEST_P(StaticFilesTest, TraversalAndOddPathsAre404) {
  const char* paths[] = {
      "/static/../outside/secret.txt",
      "/static/sub/../../outside/secret.txt",
      "/static/%2e%2e/outside/secret.txt",
      "/static/%2E%2E/outside/secret.txt",
      "/static/..%2foutside%2fsecret.txt",
      "/static/sub%2Fdir%2Ffile.txt",
      "/static/sub/./dir/file.txt",
      "/static/sub/dir/../dir/file.txt",
      "/static/..%5coutside%5csecret.txt",
      "/static/sub\\dir\\file.txt",
      "/static/index.html%00.txt",
      "/static//etc/passwd",
      "/static/sub/dir/file.txt/",
      "/static/",
      "/static/sub",
      "/static/sub/",
      "/static/dirlink",
      "/static/escape",
      "/static/absescape",
      "/static/fifo",
      "/static/missing.txt",
      "/static/bad%zzescape",
  };
  for (const char* path : paths) {
    auto ex = request(path);
    EXPECT_EQ(ex->status(), 404) << path;
    EXPECT_NE(ex->body().find("NOT_FOUND"), std::string::npos) << path;
  }
}

TEST_P(StaticFilesTest, SymlinksInsideTheRootWork) {
  auto link = request("/static/link.txt");
  EXPECT_EQ(link->status(), 200);
  EXPECT_EQ(body_bytes(*link), "inside");
  auto absolute = request("/static/abslink.txt");
  EXPECT_EQ(absolute->status(), 200);
  EXPECT_EQ(body_bytes(*absolute), "inside");
  auto via_dir = request("/static/dirlink/dir/file.txt");
  EXPECT_EQ(via_dir->status(), 200);
  EXPECT_EQ(body_bytes(*via_dir), "inside");
}

TEST_P(StaticFilesTest, OnlyGetAndHead) {
  auto post = request("/static/index.html", {}, "POST");
  EXPECT_EQ(post->status(), 405);
  EXPECT_EQ(post->header_value("allow"), "GET, HEAD, OPTIONS");
}

INSTANTIATE_TEST_SUITE_P(Resolvers, StaticFilesTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "openat2" : "realpath";
                         });

TEST(StaticRootTest, MissingRootIsAnError) {
  web::Router r;
  Status st = register_static_routes(r, StaticOptions{"/no/such/root", "/static", true});
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "static.root");
}

TEST(StaticRootTest, UsesOpenat2OnThisKernel) {
  auto root = StaticRoot::open("/tmp", true);
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->uses_openat2());  // Linux >= 5.6; the realpath path is tested explicitly
}

TEST(SanitizeTest, Cases) {
  EXPECT_EQ(sanitize_static_path("a/b.txt"), "a/b.txt");
  EXPECT_EQ(sanitize_static_path("a%20b.txt"), "a b.txt");
  EXPECT_EQ(sanitize_static_path("..."), "...");  // a legal file name
  EXPECT_EQ(sanitize_static_path("a..b"), "a..b");
  EXPECT_FALSE(sanitize_static_path(""));
  EXPECT_FALSE(sanitize_static_path(".."));
  EXPECT_FALSE(sanitize_static_path("a/.."));
  EXPECT_FALSE(sanitize_static_path("./a"));
  EXPECT_FALSE(sanitize_static_path("%2e%2e"));
  EXPECT_FALSE(sanitize_static_path("a%2Fb"));
  EXPECT_FALSE(sanitize_static_path("a%5Cb"));
  EXPECT_FALSE(sanitize_static_path("a%00"));
  EXPECT_FALSE(sanitize_static_path("a\\b"));
  EXPECT_FALSE(sanitize_static_path("/etc/passwd"));
  EXPECT_FALSE(sanitize_static_path("a//b"));
  EXPECT_FALSE(sanitize_static_path("a/"));
  EXPECT_FALSE(sanitize_static_path("%zz"));
}

}  // namespace
}  // namespace mirror::app
