// A pool of worker threads fed by one lock-free blocking queue of requests (moodycamel). Idle
// workers sleep on the queue's semaphore; Stop() wakes them with one null sentinel each.
#pragma once

#include <blockingconcurrentqueue.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace ip {

struct Request;

class StagePool {
 public:
  using Work = std::function<void(Request*)>;

  StagePool(int threads, Work work);
  ~StagePool();

  void Push(Request* request) { queue_.enqueue(request); }
  // Joins the workers after they finish what they hold; requests still queued stay queued.
  void Stop();
  // Takes the requests still queued (after Stop), for the caller to fail.
  bool TryPop(Request*& request) { return queue_.try_dequeue(request); }

 private:
  void Loop();

  moodycamel::BlockingConcurrentQueue<Request*> queue_;
  Work work_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

}  // namespace ip
