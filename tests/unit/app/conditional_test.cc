#include "app/conditional.h"

#include <gtest/gtest.h>

#include "app/mime_types.h"
#include "base/clock.h"

namespace mirror::app {
namespace {

using Kind = RangeRequest::Kind;

TEST(RangeTest, SingleRanges) {
  RangeRequest r = parse_range("bytes=0-4", 10);
  EXPECT_EQ(r.kind, Kind::kPartial);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, 5u);

  r = parse_range("bytes=5-", 10);
  EXPECT_EQ(r.kind, Kind::kPartial);
  EXPECT_EQ(r.offset, 5u);
  EXPECT_EQ(r.length, 5u);

  r = parse_range("bytes=-3", 10);
  EXPECT_EQ(r.kind, Kind::kPartial);
  EXPECT_EQ(r.offset, 7u);
  EXPECT_EQ(r.length, 3u);

  r = parse_range("bytes=-30", 10);  // more than the file: all of it
  EXPECT_EQ(r.kind, Kind::kPartial);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, 10u);

  r = parse_range("bytes=8-100", 10);  // clamped
  EXPECT_EQ(r.kind, Kind::kPartial);
  EXPECT_EQ(r.offset, 8u);
  EXPECT_EQ(r.length, 2u);

  r = parse_range(" Bytes = 9-9 ", 10);
  EXPECT_EQ(r.kind, Kind::kPartial);
  EXPECT_EQ(r.offset, 9u);
  EXPECT_EQ(r.length, 1u);
}

TEST(RangeTest, Unsatisfiable) {
  EXPECT_EQ(parse_range("bytes=10-", 10).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=10-20", 10).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 10).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-", 0).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=-5", 0).kind, Kind::kUnsatisfiable);
}

TEST(RangeTest, IgnoredMeansFull) {
  EXPECT_EQ(parse_range("bytes=0-1,3-4", 10).kind, Kind::kFull);  // several ranges
  EXPECT_EQ(parse_range("bytes=5-2", 10).kind, Kind::kFull);      // last < first
  EXPECT_EQ(parse_range("items=0-1", 10).kind, Kind::kFull);
  EXPECT_EQ(parse_range("bytes=abc", 10).kind, Kind::kFull);
  EXPECT_EQ(parse_range("bytes=1-x", 10).kind, Kind::kFull);
  EXPECT_EQ(parse_range("bytes=-", 10).kind, Kind::kFull);
  EXPECT_EQ(parse_range("bytes=+1-2", 10).kind, Kind::kFull);
  EXPECT_EQ(parse_range("bytes=99999999999999999999-", 10).kind, Kind::kFull);  // overflow
  EXPECT_EQ(parse_range("", 10).kind, Kind::kFull);
}

TEST(EtagTest, IfNoneMatchUsesWeakComparison) {
  const std::string etag = "\"a-b-c\"";
  EXPECT_TRUE(if_none_match_matches("\"a-b-c\"", etag));
  EXPECT_TRUE(if_none_match_matches("W/\"a-b-c\"", etag));
  EXPECT_TRUE(if_none_match_matches("\"x\", \"a-b-c\"", etag));
  EXPECT_TRUE(if_none_match_matches("*", etag));
  EXPECT_FALSE(if_none_match_matches("\"a-b-d\"", etag));
  EXPECT_FALSE(if_none_match_matches("a-b-c", etag));
  EXPECT_FALSE(if_none_match_matches("", etag));
}

TEST(EtagTest, IfRangeIsStrong) {
  const std::string etag = "\"a-b-c\"";
  auto lm = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  EXPECT_TRUE(if_range_matches("\"a-b-c\"", etag, lm));
  EXPECT_FALSE(if_range_matches("W/\"a-b-c\"", etag, lm));
  EXPECT_FALSE(if_range_matches("\"zzz\"", etag, lm));
  EXPECT_TRUE(if_range_matches(http_date(lm), etag, lm));
  EXPECT_FALSE(if_range_matches(http_date(lm - std::chrono::seconds(1)), etag, lm));
  EXPECT_FALSE(if_range_matches("garbage", etag, lm));
}

TEST(MimeTest, CommonTypes) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("a/b/style.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("mod.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("data.json"), "application/json");
  EXPECT_EQ(content_type_for("p.png"), "image/png");
  EXPECT_EQ(content_type_for("p.jpg"), "image/jpeg");
  EXPECT_EQ(content_type_for("p.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("p.webp"), "image/webp");
  EXPECT_EQ(content_type_for("v.mp4"), "video/mp4");
  EXPECT_EQ(content_type_for("live/index.m3u8"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(content_type_for("seg1.ts"), "video/mp2t");
  EXPECT_EQ(content_type_for("chunk.m4s"), "video/iso.segment");
  EXPECT_EQ(content_type_for("x.wasm"), "application/wasm");
  EXPECT_EQ(content_type_for("r.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(content_type_for("blob.bin"), "application/octet-stream");
  EXPECT_EQ(content_type_for("noext"), "application/octet-stream");
  EXPECT_EQ(content_type_for("dir.html/file"), "application/octet-stream");
  EXPECT_EQ(content_type_for("trailing."), "application/octet-stream");
}

}  // namespace
}  // namespace mirror::app
