#include "config/duration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/size.h"

namespace mirror::config {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

Duration parsed(std::string_view text) {
  auto d = parse_duration(text);
  EXPECT_TRUE(d.ok()) << text << ": " << (d.ok() ? "" : d.error().message);
  return d.ok() ? *d : Duration{-1};
}

std::string parse_error(std::string_view text) {
  auto d = parse_duration(text);
  EXPECT_FALSE(d.ok()) << text << " parsed as " << (d.ok() ? d->count() : 0) << "ns";
  return d.ok() ? "" : d.error().message;
}

TEST(ParseDuration, AcceptsGoSyntax) {
  EXPECT_EQ(parsed("30s"), 30s);
  EXPECT_EQ(parsed("1m30s"), 90s);
  EXPECT_EQ(parsed("500ms"), 500ms);
  EXPECT_EQ(parsed("1h"), 1h);
  EXPECT_EQ(parsed("2h45m"), 2h + 45min);
  EXPECT_EQ(parsed("1.5s"), 1500ms);
  EXPECT_EQ(parsed("300us"), 300us);
  EXPECT_EQ(parsed("300µs"), 300us);        // U+00B5 micro sign
  EXPECT_EQ(parsed("300\xCE\xBCs"), 300us);  // U+03BC Greek mu
  EXPECT_EQ(parsed("10ns"), 10ns);
  EXPECT_EQ(parsed("0"), 0ns);
  EXPECT_EQ(parsed("0s"), 0ns);
  EXPECT_EQ(parsed("+5s"), 5s);
  EXPECT_EQ(parsed(".5s"), 500ms);
  EXPECT_EQ(parsed("1.s"), 1s);
  EXPECT_EQ(parsed("1h1m1s1ms1us1ns"), 1h + 1min + 1s + 1ms + 1us + 1ns);
  EXPECT_EQ(parsed("0.000000001s"), 1ns);
  EXPECT_EQ(parsed("1.0000000019s"), 1s + 1ns);  // digits below 1ns are dropped, as in Go
  EXPECT_EQ(parsed("1.5h"), 90min);
  EXPECT_EQ(parsed("2562047h"), 2562047h);  // near the int64 nanosecond limit
}

TEST(ParseDuration, RejectsNegativeGarbageAndOverflow) {
  EXPECT_THAT(parse_error("-1s"), HasSubstr("negative"));
  EXPECT_THAT(parse_error("30"), HasSubstr("missing unit"));
  EXPECT_THAT(parse_error("30 seconds"), HasSubstr("unknown unit"));
  EXPECT_THAT(parse_error("30 seconds"), HasSubstr("\"30 seconds\" is not a duration"));
  EXPECT_THAT(parse_error("30 seconds"), HasSubstr("examples: 30s, 1m30s, 500ms"));
  EXPECT_THAT(parse_error(""), HasSubstr("empty"));
  EXPECT_THAT(parse_error("s"), HasSubstr("is not a duration"));
  EXPECT_THAT(parse_error("1d"), HasSubstr("unknown unit"));
  EXPECT_THAT(parse_error("1s2"), HasSubstr("missing unit"));
  EXPECT_THAT(parse_error("."), HasSubstr("is not a duration"));
  EXPECT_THAT(parse_error("1e3s"), HasSubstr("unknown unit"));
  EXPECT_THAT(parse_error("2562048h"), HasSubstr("too large"));
  EXPECT_THAT(parse_error("99999999999999999999999s"), HasSubstr("too large"));
  EXPECT_THAT(parse_error("2562047h47m16.854775808s"), HasSubstr("too large"));  // INT64_MAX + 1
  EXPECT_THAT(parse_error("+"), HasSubstr("no number"));
}

TEST(FormatDuration, WritesShortExactSpellings) {
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(10ns), "10ns");
  EXPECT_EQ(format_duration(300us), "300us");
  EXPECT_EQ(format_duration(1500us), "1.5ms");
  EXPECT_EQ(format_duration(500ms), "500ms");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(30s), "30s");
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(1h), "1h");
  EXPECT_EQ(format_duration(2h + 45min), "2h45m");
  EXPECT_EQ(format_duration(1h + 500ms), "1h0.5s");
  EXPECT_EQ(format_duration(1s + 1ns), "1.000000001s");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (Duration d : {Duration{1}, Duration{999}, Duration{1001}, Duration{123456789},
                     Duration{3'723'000'000'007}, Duration{std::numeric_limits<int64_t>::max()}}) {
    auto back = parse_duration(format_duration(d));
    ASSERT_TRUE(back.ok()) << format_duration(d) << ": " << back.error().message;
    EXPECT_EQ(*back, d) << format_duration(d);
  }
}

TEST(ParseSize, AcceptsBytesAndUnits) {
  EXPECT_EQ(*parse_size("65536"), 65536u);
  EXPECT_EQ(*parse_size("64KiB"), 65536u);
  EXPECT_EQ(*parse_size("6 MiB"), 6u << 20);
  EXPECT_EQ(*parse_size("1GiB"), 1u << 30);
  EXPECT_EQ(*parse_size("10MB"), 10'000'000u);
  EXPECT_EQ(*parse_size("10mb"), 10'000'000u);
  EXPECT_EQ(*parse_size("2k"), 2000u);
  EXPECT_EQ(*parse_size("7B"), 7u);
}

TEST(ParseSize, RejectsGarbage) {
  EXPECT_THAT(parse_size("-1").error().message, HasSubstr("negative"));
  EXPECT_THAT(parse_size("lots").error().message, HasSubstr("\"lots\" is not a size"));
  EXPECT_THAT(parse_size("6 mib").error().message, HasSubstr("unknown unit"));
  EXPECT_THAT(parse_size("1.5MiB").error().message, HasSubstr("unknown unit"));
  EXPECT_THAT(parse_size("").error().message, HasSubstr("empty"));
  EXPECT_THAT(parse_size("99999999999GiB").error().message, HasSubstr("too large"));
}

TEST(FormatSize, UsesLargestExactBinaryUnit) {
  EXPECT_EQ(format_size(0), "0");
  EXPECT_EQ(format_size(1000), "1000");
  EXPECT_EQ(format_size(65536), "64KiB");
  EXPECT_EQ(format_size(6u << 20), "6MiB");
  EXPECT_EQ(format_size(3u << 30), "3GiB");
  EXPECT_EQ(format_size(1536), "1536");  // 1.5KiB is not a whole number of KiB
}

}  // namespace
}  // namespace mirror::config
