#include "core/batch_policy.h"

#include <algorithm>
#include <numeric>

namespace ip {

double EffectivePriority(const BatchPolicy& policy, int64_t priority, PolicyClock::time_point submitted,
                         PolicyClock::time_point now) {
  double level = double(priority);
  if (policy.agingStep.count() > 0 && now > submitted) {
    level += std::chrono::duration<double>(now - submitted) / std::chrono::duration<double>(policy.agingStep);
  }
  return level;
}

BatchDecision DecideBatch(const BatchPolicy& policy, const std::vector<QueuedItem>& items, PolicyClock::time_point now,
                          bool flush) {
  BatchDecision d;
  std::vector<int> live;
  live.reserve(items.size());
  for (int i = 0; i < int(items.size()); ++i) {
    if (items[i].deadline <= now) {
      d.expired.push_back(i);
    } else {
      live.push_back(i);
    }
  }
  if (live.empty()) return d;

  // Best first: highest effective priority, then the longest waiting.
  std::vector<double> level(items.size());
  for (int i : live) level[i] = EffectivePriority(policy, items[i].priority, items[i].submitted, now);
  std::stable_sort(live.begin(), live.end(), [&](int a, int b) {
    if (level[a] != level[b]) return level[a] > level[b];
    return items[a].submitted < items[b].submitted;
  });

  const int maxBatch = std::max(policy.maxBatchSize, 1);
  PolicyClock::time_point oldestReady = PolicyClock::time_point::max();
  PolicyClock::time_point nextDeadline = PolicyClock::time_point::max();
  for (int i : live) {
    oldestReady = std::min(oldestReady, items[i].ready);
    nextDeadline = std::min(nextDeadline, items[i].deadline);
  }
  const bool full = int(live.size()) >= maxBatch;
  const bool noDelay = policy.maxQueueDelay.count() <= 0;
  const PolicyClock::time_point delayEnd = oldestReady + policy.maxQueueDelay;
  if (full || noDelay || flush || now >= delayEnd) {
    d.runNow = true;
    d.take.assign(live.begin(), live.begin() + std::min<size_t>(live.size(), size_t(maxBatch)));
    return d;
  }
  // Wait for company, but wake at the first deadline so that request expires on time.
  d.waitUntil = std::min(delayEnd, nextDeadline);
  return d;
}

}  // namespace ip
