#include "net/loop.h"

namespace mirror::net {

void IoWatcher::init(struct ev_loop* loop, int fd, int events, std::function<void(int)> cb) {
  stop();
  loop_ = loop;
  events_ = events;
  cb_ = std::move(cb);
  ev_io_init(&w_, &IoWatcher::trampoline, fd, events);
  w_.data = this;
}

void IoWatcher::set_events(int events) {
  if (events == events_ && active()) return;
  bool was_active = active();
  if (was_active) ev_io_stop(loop_, &w_);
  events_ = events;
  ev_io_set(&w_, w_.fd, events);
  if (was_active || events != 0) {
    if (events != 0) ev_io_start(loop_, &w_);
  }
}

void IoWatcher::start() {
  if (loop_ && events_ != 0 && !ev_is_active(&w_)) ev_io_start(loop_, &w_);
}

void IoWatcher::stop() {
  if (loop_ && ev_is_active(&w_)) ev_io_stop(loop_, &w_);
}

void IoWatcher::trampoline(struct ev_loop*, ev_io* w, int revents) noexcept {
  static_cast<IoWatcher*>(w->data)->cb_(revents);
}

void Timer::init(struct ev_loop* loop, std::function<void()> cb) {
  stop();
  loop_ = loop;
  cb_ = std::move(cb);
  ev_init(&w_, &Timer::trampoline);
  w_.data = this;
}

void Timer::start(double after) {
  if (ev_is_active(&w_)) ev_timer_stop(loop_, &w_);
  ev_timer_set(&w_, after, 0.);
  ev_timer_start(loop_, &w_);
}

void Timer::again(double repeat) {
  w_.repeat = repeat;
  ev_timer_again(loop_, &w_);
}

void Timer::stop() {
  if (loop_ && ev_is_active(&w_)) ev_timer_stop(loop_, &w_);
}

void Timer::trampoline(struct ev_loop*, ev_timer* w, int) noexcept {
  static_cast<Timer*>(w->data)->cb_();
}

EventThread::EventThread() : loop_(ev_loop_new(EVFLAG_AUTO)) {
  ev_async_init(&async_, &EventThread::async_cb);
  async_.data = this;
  ev_async_start(loop_, &async_);
  // The async watcher alone must not keep the loop alive after stop().
  ev_unref(loop_);
}

EventThread::~EventThread() {
  stop();
  join();
  ev_ref(loop_);
  ev_async_stop(loop_, &async_);
  ev_loop_destroy(loop_);
}

void EventThread::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(fn));
  }
  ev_async_send(loop_, &async_);
}

void EventThread::start(std::function<void()> on_start) {
  thread_ = std::thread([this, on_start = std::move(on_start)] {
    thread_id_ = std::this_thread::get_id();
    if (on_start) on_start();
    ev_run(loop_, 0);
    drain();
  });
}

void EventThread::run_here() {
  thread_id_ = std::this_thread::get_id();
  ev_run(loop_, 0);
  drain();
}

void EventThread::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  ev_async_send(loop_, &async_);
}

void EventThread::join() {
  if (thread_.joinable()) thread_.join();
}

void EventThread::drain() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(tasks_);
  }
  for (auto& t : tasks) t();
}

void EventThread::async_cb(struct ev_loop* loop, ev_async* w, int) noexcept {
  auto* self = static_cast<EventThread*>(w->data);
  self->drain();
  bool stopping;
  {
    std::lock_guard lock(self->mu_);
    stopping = self->stopping_;
  }
  if (stopping) ev_break(loop, EVBREAK_ALL);
}

}  // namespace mirror::net
