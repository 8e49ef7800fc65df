#include "base/clock.h"

#include <ctime>
#include <cstdio>
#include <cstring>

namespace mirror {

std::string rfc3339(std::chrono::system_clock::time_point tp) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(tp.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ns / 1000000000);
  long frac = static_cast<long>(ns % 1000000000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (frac != 0) {
    char f[16];
    snprintf(f, sizeof f, ".%09ld", frac);
    std::string fs(f);
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  out += 'Z';
  return out;
}

std::string rfc3339_now() { return rfc3339(std::chrono::system_clock::now()); }

std::string http_date(std::chrono::system_clock::time_point tp) {
  time_t t = std::chrono::system_clock::to_time_t(tp);
  struct tm tm {};
  gmtime_r(&t, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
           months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

const std::string& current_http_date() {
  thread_local time_t formatted_for = 0;
  thread_local std::string value;
  time_t now = time(nullptr);
  if (now != formatted_for || value.empty()) {
    value = http_date(std::chrono::system_clock::from_time_t(now));
    formatted_for = now;
  }
  return value;
}

bool parse_http_date(const std::string& s, std::chrono::system_clock::time_point& out) {
  struct tm tm {};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return false;
  out = std::chrono::system_clock::from_time_t(timegm(&tm));
  return true;
}

}  // namespace mirror
