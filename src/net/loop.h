// libev wrappers: one loop per worker thread (DESIGN.md "Threads and packets").
// Watchers are members of their owner, so they stop when the owner is destroyed.
#pragma once

#include <ev.h>

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mirror::net {

// Readiness watcher on a file descriptor.
class IoWatcher {
 public:
  IoWatcher() = default;
  IoWatcher(const IoWatcher&) = delete;
  IoWatcher& operator=(const IoWatcher&) = delete;
  ~IoWatcher() { stop(); }

  // events: EV_READ and/or EV_WRITE.
  void init(struct ev_loop* loop, int fd, int events, std::function<void(int revents)> cb);
  void set_events(int events);  // re-arms with new interest
  void start();
  void stop();
  bool active() const { return loop_ && ev_is_active(&w_); }
  int events() const { return events_; }

 private:
  static void trampoline(struct ev_loop*, ev_io* w, int revents) noexcept;
  struct ev_loop* loop_ = nullptr;
  ev_io w_{};
  int events_ = 0;
  std::function<void(int)> cb_;
};

// One-shot or repeating timer. Times in seconds (libev's ev_tstamp).
class Timer {
 public:
  Timer() = default;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { stop(); }

  void init(struct ev_loop* loop, std::function<void()> cb);
  // Fires once after `after` seconds (restarts if running).
  void start(double after);
  // ev_timer_again semantics: cheap re-arm of a repeating/idle timeout.
  void again(double repeat);
  void stop();
  bool active() const { return loop_ && ev_is_active(&w_); }

 private:
  static void trampoline(struct ev_loop*, ev_timer* w, int revents) noexcept;
  struct ev_loop* loop_ = nullptr;
  ev_timer w_{};
  std::function<void()> cb_;
};

// A thread with its own loop and a queue of tasks other threads can post to it.
class EventThread {
 public:
  EventThread();
  ~EventThread();
  EventThread(const EventThread&) = delete;
  EventThread& operator=(const EventThread&) = delete;

  struct ev_loop* loop() const { return loop_; }
  // Runs fn on this loop's thread (thread-safe, from anywhere).
  void post(std::function<void()> fn);
  // Starts the thread running the loop; `on_start` runs first on that thread.
  void start(std::function<void()> on_start = {});
  // Runs the loop on the calling thread until break_loop() (used by the main thread).
  void run_here();
  // Makes the loop return (thread-safe).
  void stop();
  void join();
  bool on_own_thread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  static void async_cb(struct ev_loop*, ev_async* w, int) noexcept;
  void drain();

  struct ev_loop* loop_;
  ev_async async_{};
  std::mutex mu_;
  std::vector<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
  std::thread::id thread_id_;
};

}  // namespace mirror::net
