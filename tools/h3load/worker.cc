#include "h3load/worker.h"

#include "base/clock.h"
#include "h3load/client.h"

namespace h3load {

namespace {

Worker* self(void* data) { return static_cast<Worker*>(data); }

void warm_up_over_cb(struct ev_loop*, ev_timer* w, int) noexcept { self(w->data)->on_warm_up_over(); }
void duration_over_cb(struct ev_loop*, ev_timer* w, int) noexcept {
  self(w->data)->on_duration_over();
}

}  // namespace

Worker::Worker(WorkerConfig config)
    : config_(std::move(config)),
      loop_(ev_loop_new(EVFLAG_AUTO)),
      phase_(options().timing_mode() && options().warm_up_s > 0 ? Phase::kWarmUp : Phase::kMain) {
  ev_timer_init(&warm_up_timer_, warm_up_over_cb, options().warm_up_s, 0.);
  warm_up_timer_.data = this;
  ev_timer_init(&duration_timer_, duration_over_cb, options().duration_s, 0.);
  duration_timer_.data = this;
  for (size_t i = 0; i < config_.client_requests.size(); ++i) {
    // Client numbers are unique across workers so verbose logs can be told apart.
    const size_t index = config_.id * 100000 + i;
    clients_.push_back(std::make_unique<Client>(*this, index, config_.client_requests[i]));
  }
}

Worker::~Worker() {
  clients_.clear();  // their watchers live on loop_
  ev_loop_destroy(loop_);
}

void Worker::run() {
  if (phase_ == Phase::kMain) main_start_ns_ = mirror::monotonic_ns();
  if (options().timing_mode()) {
    ev_timer_start(loop_, phase_ == Phase::kWarmUp ? &warm_up_timer_ : &duration_timer_);
  }
  for (auto& c : clients_) c->start();
  // A client can finish inside start() (nobody listening); ev_break before ev_run is lost.
  if (finished_ < clients_.size()) ev_run(loop_, 0);
}

void Worker::on_client_finished() {
  if (++finished_ < clients_.size()) return;
  ev_timer_stop(loop_, &warm_up_timer_);
  ev_timer_stop(loop_, &duration_timer_);
  ev_break(loop_, EVBREAK_ALL);
}

void Worker::on_warm_up_over() {
  phase_ = Phase::kMain;
  main_start_ns_ = mirror::monotonic_ns();
  ev_timer_start(loop_, &duration_timer_);
}

void Worker::on_duration_over() {
  phase_ = Phase::kOver;
  stop_all_clients();
}

void Worker::stop_all_clients() {
  for (auto& c : clients_) c->stop();
}

}  // namespace h3load
