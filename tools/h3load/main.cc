// h3load: HTTP/3 load generator with h2load's flags and report. See tools/h3load/README.md.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "h3load/options.h"
#include "h3load/report.h"
#include "h3load/tls.h"
#include "h3load/udp.h"
#include "h3load/worker.h"

namespace {

using namespace h3load;

// Splits -n over -c clients (the first n % c get one more) and deals the clients out to the
// threads round-robin. With -D every client gets 0: it works until the duration ends.
std::vector<std::vector<uint64_t>> plan_clients(const Options& o) {
  std::vector<std::vector<uint64_t>> per_thread(o.threads);
  for (size_t k = 0; k < o.clients; ++k) {
    uint64_t share = 0;
    if (!o.timing_mode()) share = o.requests / o.clients + (k < o.requests % o.clients ? 1 : 0);
    per_thread[k % o.threads].push_back(share);
  }
  return per_thread;
}

int run(const Options& opts) {
  const Target& target = opts.targets.front();
  auto remote = resolve_udp(target.host, target.port);
  if (!remote) {
    fmt::print(stderr, "h3load: {}\n", remote.error().message);
    return 1;
  }
  auto credentials = make_tls_credentials();
  if (!credentials) {
    fmt::print(stderr, "h3load: {}\n", credentials.error().message);
    return 1;
  }

  std::vector<std::unique_ptr<Worker>> workers;
  const auto plan = plan_clients(opts);
  for (size_t i = 0; i < plan.size(); ++i) {
    WorkerConfig wc;
    wc.id = i;
    wc.options = &opts;
    wc.credentials = credentials->get();
    wc.remote = remote.value();
    wc.client_requests = plan[i];
    workers.push_back(std::make_unique<Worker>(std::move(wc)));
  }

  if (!opts.json) {
    fmt::print("starting benchmark...\nspawning thread #0..#{}: {} total client(s). {}\n",
               opts.threads - 1, opts.clients,
               opts.timing_mode() ? fmt::format("duration {}s (warm-up {}s)", opts.duration_s,
                                                opts.warm_up_s)
                                  : fmt::format("{} total requests", opts.requests));
    std::fflush(stdout);
  }

  const uint64_t start = mirror::monotonic_ns();
  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers.size(); ++i) {
    threads.emplace_back([w = workers[i].get()] { w->run(); });
  }
  workers[0]->run();  // the main thread is worker 0
  for (auto& t : threads) t.join();
  const uint64_t end = mirror::monotonic_ns();

  RunResult r;
  for (const auto& w : workers) r.stats.merge(w->stats());
  r.timing_mode = opts.timing_mode();
  // With -D the measured phase is exactly the duration (as h2load reports it). With -n it ends
  // when the last response completed, so the connections' closing linger is not counted.
  const uint64_t last = r.stats.last_done_ns ? r.stats.last_done_ns : end;
  r.elapsed_s = opts.timing_mode() ? opts.duration_s : static_cast<double>(last - start) / 1e9;
  r.requests_total = opts.timing_mode() ? r.stats.req_started : opts.requests;
  r.clients = opts.clients;
  r.threads = opts.threads;
  r.max_concurrent = opts.max_concurrent;
  r.check_size = opts.check_size;
  account_not_issued(r);
  if (opts.json) {
    print_json(r, std::cout);
  } else {
    print_text(r, std::cout);
  }
  return run_failed(r) ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto opts = parse_options(argc, argv);
  if (!opts) {
    const std::string& code = opts.error().code;
    // --help / --version exit 0; CLI11 has already printed its own message for bad flags.
    if (code.rfind("exit:", 0) == 0) return code == "exit:0" ? 0 : 2;
    fmt::print(stderr, "h3load: {}\n", opts.error().message);
    return 2;
  }
  return run(opts.value());
}
