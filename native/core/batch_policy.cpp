#include "core/batch_policy.h"

namespace ip {

BatchDecision DecideBatch(const BatchPolicy& policy, int collected, std::chrono::steady_clock::time_point oldestReady,
                          std::chrono::steady_clock::time_point now) {
  BatchDecision d;
  if (collected >= policy.maxBatchSize || policy.maxQueueDelay.count() <= 0) return d;
  auto deadline = oldestReady + policy.maxQueueDelay;
  if (now >= deadline) return d;
  d.runNow = false;
  d.waitUntil = deadline;
  return d;
}

}  // namespace ip
