#include "h3load/stats.h"

#include <algorithm>
#include <cmath>

namespace h3load {

void Sampler::add(double v) {
  if (count_ == 0) {
    min_ = max_ = v;
  } else {
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  ++count_;
  sum_ += v;
  if (samples_.size() < cap_) {
    samples_.push_back(v);
    return;
  }
  // Algorithm R: the i-th sample replaces a random slot with probability cap/i.
  std::uniform_int_distribution<uint64_t> pick(0, count_ - 1);
  if (const uint64_t j = pick(rng_); j < cap_) samples_[j] = v;
}

void Sampler::merge(const Sampler& other) {
  if (other.count_ == 0) return;
  const uint64_t total = count_ + other.count_;
  if (samples_.size() + other.samples_.size() <= cap_) {
    samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  } else {
    // Both sides are reservoirs of different populations: keep each in proportion to the
    // number of events it stands for, so percentiles stay unbiased.
    const auto keep_mine = static_cast<size_t>(
        std::llround(static_cast<double>(cap_) * static_cast<double>(count_) / total));
    auto take = [this](std::vector<double> v, size_t n) {
      std::shuffle(v.begin(), v.end(), rng_);
      v.resize(std::min(n, v.size()));
      return v;
    };
    std::vector<double> merged = take(samples_, keep_mine);
    std::vector<double> theirs = take(other.samples_, cap_ - merged.size());
    merged.insert(merged.end(), theirs.begin(), theirs.end());
    samples_ = std::move(merged);
  }
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = count_ ? std::max(max_, other.max_) : other.max_;
  sum_ += other.sum_;
  count_ = total;
}

void Stats::merge(const Stats& o) {
  req_started += o.req_started;
  req_done += o.req_done;
  req_completed += o.req_completed;
  req_status_success += o.req_status_success;
  req_failed += o.req_failed;
  req_errored += o.req_errored;
  req_timedout += o.req_timedout;
  size_mismatch += o.size_mismatch;
  for (size_t i = 0; i < status.size(); ++i) status[i] += o.status[i];
  bytes_total += o.bytes_total;
  bytes_head += o.bytes_head;
  bytes_head_decomp += o.bytes_head_decomp;
  bytes_body += o.bytes_body;
  udp_sent += o.udp_sent;
  udp_recv += o.udp_recv;
  connections += o.connections;
  connect_failures += o.connect_failures;
  connection_errors += o.connection_errors;
  last_done_ns = std::max(last_done_ns, o.last_done_ns);
  request_time.merge(o.request_time);
  connect_time.merge(o.connect_time);
  ttfb.merge(o.ttfb);
  client_rps.merge(o.client_rps);
}

TimeStat summarize(const Sampler& s) {
  TimeStat t;
  t.count = s.count();
  if (t.count == 0) return t;
  t.min = s.min();
  t.max = s.max();
  t.mean = s.mean();

  std::vector<double> v = s.samples();
  double sq = 0;
  for (double x : v) sq += (x - t.mean) * (x - t.mean);
  t.sd = v.empty() ? 0 : std::sqrt(sq / static_cast<double>(v.size()));
  const auto within = std::count_if(v.begin(), v.end(), [&](double x) {
    return t.mean - t.sd <= x && x <= t.mean + t.sd;
  });
  t.within_sd = v.empty() ? 0 : 100.0 * static_cast<double>(within) / v.size();

  std::sort(v.begin(), v.end());
  // Nearest-rank percentile: the smallest sample with at least p% of samples at or below it.
  auto pct = [&v](double p) {
    if (v.empty()) return 0.0;
    auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
  };
  t.p50 = pct(50);
  t.p90 = pct(90);
  t.p99 = pct(99);
  return t;
}

}  // namespace h3load
