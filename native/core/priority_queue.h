// Requests waiting for a model's tensor slot (admission), best first: one FIFO per priority level,
// the best being the level head with the highest effective priority (its level raised by its waiting
// time, see BatchPolicy::agingStep). Not thread-safe: the owner holds its own mutex.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <vector>

#include "core/batch_policy.h"
#include "core/request.h"

namespace ip {

class RequestPriorityQueue {
 public:
  explicit RequestPriorityQueue(const BatchPolicy& policy) : policy_(policy) {}

  void Push(Request* request) {
    levels_[request->options.priority].push_back(request);
    ++size_;
  }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  using Feasible = std::function<bool(const Request*)>;
  // The best request that `feasible` accepts (all, when it is empty), or nullptr. Requests it refuses
  // are set aside, still held (and still expired, removed or drained like the others), and offered
  // again when no other request is left.
  Request* PopBest(Clock::time_point now, const Feasible& feasible = nullptr);
  // Any request (for draining at shutdown), or nullptr.
  Request* PopAny();
  // Removes the requests that `drop` selects (expired, cancelled) into `out`.
  void RemoveIf(const std::function<bool(Request*)>& drop, std::vector<Request*>* out);
  // The earliest deadline among the requests held (max() when none has one).
  Clock::time_point EarliestDeadline() const;

 private:
  const BatchPolicy& policy_;
  std::map<int64_t, std::deque<Request*>, std::greater<int64_t>> levels_;
  std::deque<Request*> setAside_;  // refused by `feasible` (in the order they were refused)
  size_t size_ = 0;
};

}  // namespace ip
