// The dynamic batching policy as one small pure unit (as Triton's GetDynamicBatch()): given the
// requests waiting for a model's batcher, it says which have expired, which to take, and whether to
// run now or how long a partial batch may wait for company. No locks, no clocks, no queues: the
// batcher (ModelRunner) feeds it a snapshot and applies the answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace ip {

using PolicyClock = std::chrono::steady_clock;

struct BatchPolicy {
  int maxBatchSize = 8;
  std::chrono::microseconds maxQueueDelay{0};  // 0: a lone request never waits
  // Aging: a waiting request gains one priority level per this much waiting time, so a low priority
  // is never starved forever. 0 disables aging.
  std::chrono::microseconds agingStep{std::chrono::seconds(10)};
};

// One waiting request, as the policy sees it.
struct QueuedItem {
  int64_t priority = 0;
  PolicyClock::time_point submitted;  // orders requests of equal effective priority; ages them
  PolicyClock::time_point ready;      // when it became ready for a batch (starts the queue delay)
  PolicyClock::time_point deadline = PolicyClock::time_point::max();
};

struct BatchDecision {
  std::vector<int> expired;  // indices whose deadline has passed: fail them, never run them
  std::vector<int> take;     // when runNow: the indices to run, best first (at most maxBatchSize)
  bool runNow = false;
  // When !runNow: wake up then to decide again (the queue delay's end or the next deadline);
  // max() when there is nothing to wait for but new requests.
  PolicyClock::time_point waitUntil = PolicyClock::time_point::max();
};

// A request's priority raised by its waiting time (see BatchPolicy::agingStep).
double EffectivePriority(const BatchPolicy& policy, int64_t priority, PolicyClock::time_point submitted,
                         PolicyClock::time_point now);

// `flush`: run whatever is there without waiting (the pool is closing).
BatchDecision DecideBatch(const BatchPolicy& policy, const std::vector<QueuedItem>& items, PolicyClock::time_point now,
                          bool flush = false);

}  // namespace ip
