// The dynamic batching policy as one small pure unit: given what the batcher has collected, it says
// whether to run now or how long a partial batch may wait for company. With maxQueueDelay 0 a lone
// request never waits.
#pragma once

#include <chrono>

namespace ip {

struct BatchPolicy {
  int maxBatchSize = 8;
  std::chrono::microseconds maxQueueDelay{0};
};

struct BatchDecision {
  bool runNow = true;
  std::chrono::steady_clock::time_point waitUntil;  // when runNow is false: wait for more until then
};

// `collected` items are in hand; the oldest became ready at `oldestReady`.
BatchDecision DecideBatch(const BatchPolicy& policy, int collected, std::chrono::steady_clock::time_point oldestReady,
                          std::chrono::steady_clock::time_point now);

}  // namespace ip
