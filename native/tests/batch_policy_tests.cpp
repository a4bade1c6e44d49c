// Deterministic tests of the batching policy (batch_policy.h): queue delay, full batches, priorities
// with aging, deadlines, and flushing on close. No threads and no clocks: times are made up.
#include <chrono>
#include <vector>

#include "core/batch_policy.h"
#include "tests/check.h"

namespace {

using ip_test::Check;
using namespace ip;
using Ms = std::chrono::milliseconds;
using Us = std::chrono::microseconds;

const PolicyClock::time_point t0 = PolicyClock::time_point{} + std::chrono::seconds(100);

QueuedItem Item(int64_t priority, int submittedMs, int readyMs = -1, int deadlineMs = -1) {
  QueuedItem q;
  q.priority = priority;
  q.submitted = t0 + Ms(submittedMs);
  q.ready = t0 + Ms(readyMs < 0 ? submittedMs : readyMs);
  if (deadlineMs >= 0) q.deadline = t0 + Ms(deadlineMs);
  return q;
}

void TestDelay() {
  BatchPolicy noDelay{8, Us(0), Us(0)};
  BatchDecision d = DecideBatch(noDelay, {Item(0, 0)}, t0);
  Check(d.runNow && d.take == std::vector<int>{0}, "no delay: a lone request runs at once");
  Check(!DecideBatch(noDelay, {}, t0).runNow, "nothing ready: nothing runs");
  Check(DecideBatch(noDelay, {}, t0).waitUntil == PolicyClock::time_point::max(), "nothing ready: wait for work");

  BatchPolicy delay{8, Us(5000), Us(0)};
  std::vector<QueuedItem> three = {Item(0, 0, 0), Item(0, 0, 2), Item(0, 0, 3)};
  d = DecideBatch(delay, three, t0 + Ms(1));
  Check(!d.runNow && d.waitUntil == t0 + Ms(5), "delay: a partial batch waits until the oldest ready + delay");
  // The oldest is not the first in the list (the ready list is FIFO per producer only).
  std::vector<QueuedItem> shuffled = {Item(0, 0, 3), Item(0, 0, 1), Item(0, 0, 2)};
  d = DecideBatch(delay, shuffled, t0 + Ms(2));
  Check(!d.runNow && d.waitUntil == t0 + Ms(6), "delay: counted from the oldest request, wherever it is");
  Check(DecideBatch(delay, three, t0 + Ms(5)).runNow, "delay: runs once the delay is over");
  std::vector<QueuedItem> eight(8, Item(0, 0));
  Check(DecideBatch(delay, eight, t0).runNow, "delay: a full batch runs at once");
  std::vector<QueuedItem> nine(9, Item(0, 0));
  d = DecideBatch(delay, nine, t0);
  Check(d.runNow && d.take.size() == 8, "more than a batch: takes exactly maxBatchSize");
  BatchPolicy single{1, Us(5000), Us(0)};
  Check(DecideBatch(single, {Item(0, 0)}, t0).runNow, "max batch 1 never waits");
  d = DecideBatch(delay, three, t0 + Ms(1), /*flush=*/true);
  Check(d.runNow && d.take.size() == 3, "closing: a forming batch runs without waiting");
}

void TestPriorities() {
  BatchPolicy p{3, Us(0), Us(0)};
  // Indices: 0 low old, 1 high, 2 low, 3 mid, 4 high newer.
  std::vector<QueuedItem> items = {Item(0, 0), Item(5, 1), Item(0, 2), Item(2, 3), Item(5, 4)};
  BatchDecision d = DecideBatch(p, items, t0 + Ms(10));
  Check(d.take == std::vector<int>{1, 4, 3}, "highest priority first, oldest first within a level");
  BatchPolicy big{8, Us(0), Us(0)};
  d = DecideBatch(big, items, t0 + Ms(10));
  Check(d.take == std::vector<int>{1, 4, 3, 0, 2}, "then lower levels up to the batch size");
  std::vector<QueuedItem> negative = {Item(-3, 0), Item(0, 1)};
  Check(DecideBatch(p, negative, t0 + Ms(5)).take == std::vector<int>{1, 0}, "negative priorities come last");
}

void TestAging() {
  // One level per 100 ms of waiting.
  BatchPolicy p{1, Us(0), Us(100000)};
  std::vector<QueuedItem> items = {Item(0, 0), Item(1, 150)};
  // At 160 ms: the low one has 1.6 levels, the fresh high one 1.1.
  Check(DecideBatch(p, items, t0 + Ms(160)).take == std::vector<int>{0}, "aging: a long wait lifts a low priority");
  std::vector<QueuedItem> early = {Item(0, 0), Item(1, 40)};
  Check(DecideBatch(p, early, t0 + Ms(50)).take == std::vector<int>{1}, "aging: a short wait does not");
  Check(EffectivePriority(p, 2, t0, t0 + Ms(250)) == 4.5, "effective priority = level + waited / step");
  BatchPolicy none{1, Us(0), Us(0)};
  Check(EffectivePriority(none, 2, t0, t0 + Ms(250)) == 2.0, "aging off: the level alone");
}

void TestDeadlines() {
  BatchPolicy delay{8, Us(10000), Us(0)};
  std::vector<QueuedItem> items = {Item(0, 0, 0, 5), Item(0, 0, 0), Item(0, 0, 1, 3)};
  BatchDecision d = DecideBatch(delay, items, t0 + Ms(4));
  Check(d.expired == std::vector<int>{2}, "deadline passed: expired, never taken");
  Check(!d.runNow && d.waitUntil == t0 + Ms(5), "a forming batch wakes at the next deadline");
  d = DecideBatch(delay, items, t0 + Ms(6));
  Check(d.expired.size() == 2 && !d.runNow, "both past their deadlines; the third still waits for company");
  BatchPolicy now{8, Us(0), Us(0)};
  d = DecideBatch(now, items, t0 + Ms(4));
  Check(d.runNow && d.take == std::vector<int>{0, 1} && d.expired == std::vector<int>{2},
        "no delay: the live ones run, the expired one does not");
  d = DecideBatch(now, {Item(0, 0, 0, 1)}, t0 + Ms(1));
  Check(d.expired.size() == 1 && !d.runNow && d.take.empty(), "a deadline equal to now has passed");
}

}  // namespace

void RunBatchPolicyTests() {
  TestDelay();
  TestPriorities();
  TestAging();
  TestDeadlines();
}
