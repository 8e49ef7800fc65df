#include "h3load/report.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace h3load {

std::string format_duration(double t) {
  if (t >= 1.0) return fmt::format("{:.2f}s", t);
  if (t >= 0.001) return fmt::format("{:.2f}ms", t * 1e3);
  return fmt::format("{}us", static_cast<int64_t>(t * 1e6));
}

std::string format_bytes(double n) {
  if (n >= double(1 << 30)) return fmt::format("{:.2f}G", n / double(1 << 30));
  if (n >= double(1 << 20)) return fmt::format("{:.2f}M", n / double(1 << 20));
  if (n >= double(1 << 10)) return fmt::format("{:.2f}K", n / double(1 << 10));
  return fmt::format("{}", static_cast<uint64_t>(n));
}

void account_not_issued(RunResult& r) {
  if (r.timing_mode) return;  // with -D there is no fixed total to fall short of
  Stats& s = r.stats;
  const uint64_t accounted = s.req_status_success + s.req_failed;
  r.not_issued = r.requests_total > accounted ? r.requests_total - accounted : 0;
  s.req_failed += r.not_issued;
  s.req_errored += r.not_issued;
}

double requests_per_second(const RunResult& r) {
  return r.elapsed_s > 0 ? static_cast<double>(r.stats.req_completed) / r.elapsed_s : 0;
}

double bytes_per_second(const RunResult& r) {
  return r.elapsed_s > 0 ? static_cast<double>(r.stats.bytes_total) / r.elapsed_s : 0;
}

bool run_failed(const RunResult& r) { return r.stats.req_failed > 0 || r.stats.req_errored > 0; }

namespace {

std::string time_row(const char* label, const TimeStat& t) {
  return fmt::format("{}{:>10}  {:>10}  {:>10}  {:>10}{:>9.2f}%\n", label, format_duration(t.min),
                     format_duration(t.max), format_duration(t.mean), format_duration(t.sd),
                     t.within_sd);
}

nlohmann::ordered_json micros(const TimeStat& t) {
  auto us = [](double s) { return std::llround(s * 1e6); };
  return {{"count", t.count}, {"min", us(t.min)},   {"mean", us(t.mean)}, {"sd", us(t.sd)},
          {"p50", us(t.p50)}, {"p90", us(t.p90)},   {"p99", us(t.p99)},   {"max", us(t.max)}};
}

}  // namespace

void print_text(const RunResult& r, std::ostream& out) {
  const Stats& s = r.stats;
  const TimeStat req = summarize(s.request_time);
  const TimeStat conn = summarize(s.connect_time);
  const TimeStat ttfb = summarize(s.ttfb);
  const TimeStat rps = summarize(s.client_rps);
  const double savings =
      s.bytes_head_decomp ? 100.0 * (1.0 - double(s.bytes_head) / double(s.bytes_head_decomp)) : 0;

  out << fmt::format("\nfinished in {}, {:.2f} req/s, {}B/s\n", format_duration(r.elapsed_s),
                     requests_per_second(r), format_bytes(bytes_per_second(r)));
  out << fmt::format(
      "requests: {} total, {} started, {} done, {} succeeded, {} failed, {} errored, {} timeout\n",
      r.requests_total, s.req_started, s.req_done, s.req_status_success, s.req_failed,
      s.req_errored, s.req_timedout);
  out << fmt::format("status codes: {} 2xx, {} 3xx, {} 4xx, {} 5xx\n", s.status[2], s.status[3],
                     s.status[4], s.status[5]);
  out << fmt::format(
      "traffic: {}B ({}) total, {}B ({}) headers (space savings {:.2f}%), {}B ({}) data\n",
      format_bytes(s.bytes_total), s.bytes_total, format_bytes(s.bytes_head), s.bytes_head,
      savings, format_bytes(s.bytes_body), s.bytes_body);
  out << fmt::format("UDP datagram: {} sent, {} received\n", s.udp_sent, s.udp_recv);
  out << fmt::format("connections: {} opened, {} failed to connect, {} lost\n", s.connections,
                     s.connect_failures, s.connection_errors);
  if (r.check_size) {
    out << fmt::format("size check: {} responses not {} bytes\n", s.size_mismatch, *r.check_size);
  }
  if (r.not_issued) out << fmt::format("not issued: {} requests never sent\n", r.not_issued);
  out << "                     min         max         mean         sd        +/- sd\n";
  out << time_row("time for request: ", req);
  out << time_row("time for connect: ", conn);
  out << time_row("time to 1st byte: ", ttfb);
  out << fmt::format("req/s           : {:>10.2f}  {:>10.2f}  {:>10.2f}  {:>10.2f}{:>9.2f}%\n",
                     rps.min, rps.max, rps.mean, rps.sd, rps.within_sd);
  out << fmt::format("p50 time for request: {}\n", format_duration(req.p50));
  out << fmt::format("p90 time for request: {}\n", format_duration(req.p90));
  out << fmt::format("p99 time for request: {}\n", format_duration(req.p99));
  out.flush();
}

void print_json(const RunResult& r, std::ostream& out) {
  const Stats& s = r.stats;
  nlohmann::ordered_json j;
  j["requests"] = r.requests_total;
  j["started"] = s.req_started;
  j["done"] = s.req_done;
  j["succeeded"] = s.req_status_success;
  j["failed"] = s.req_failed;
  j["errored"] = s.req_errored;
  j["timeout"] = s.req_timedout;
  j["size_mismatch"] = s.size_mismatch;
  j["not_issued"] = r.not_issued;
  j["status"] = {{"2xx", s.status[2]}, {"3xx", s.status[3]}, {"4xx", s.status[4]},
                 {"5xx", s.status[5]}};
  j["duration_s"] = r.elapsed_s;
  j["rps"] = requests_per_second(r);
  j["bytes_per_sec"] = bytes_per_second(r);
  j["bytes_total"] = s.bytes_total;
  j["bytes_headers"] = s.bytes_head;
  j["bytes_data"] = s.bytes_body;
  j["latency_us"] = micros(summarize(s.request_time));
  j["connect_us"] = micros(summarize(s.connect_time));
  j["ttfb_us"] = micros(summarize(s.ttfb));
  j["connections"] = {{"opened", s.connections},
                      {"connect_failures", s.connect_failures},
                      {"lost", s.connection_errors}};
  j["udp"] = {{"sent", s.udp_sent}, {"received", s.udp_recv}};
  j["clients"] = r.clients;
  j["threads"] = r.threads;
  j["max_concurrent_streams"] = r.max_concurrent;
  out << j.dump() << std::endl;
}

}  // namespace h3load
