#include "core/priority_queue.h"

#include <algorithm>

namespace ip {

Request* RequestPriorityQueue::PopBest(Clock::time_point now, const Feasible& feasible) {
  if (feasible) {
    for (auto it = levels_.begin(); it != levels_.end();) {
      auto& fifo = it->second;
      while (!fifo.empty() && !feasible(fifo.front())) {
        setAside_.push_back(fifo.front());
        fifo.pop_front();
      }
      it = fifo.empty() ? levels_.erase(it) : std::next(it);
    }
  }
  if (levels_.empty()) {
    for (auto it = setAside_.begin(); it != setAside_.end(); ++it) {
      if (!feasible || feasible(*it)) {
        Request* r = *it;
        setAside_.erase(it);
        --size_;
        return r;
      }
    }
    return nullptr;
  }
  // Within a level the head waited longest, so it has that level's highest effective priority.
  auto best = levels_.end();
  double bestLevel = 0;
  for (auto it = levels_.begin(); it != levels_.end(); ++it) {
    const Request* head = it->second.front();
    const double level = EffectivePriority(policy_, head->options.priority, head->times.submitted, now);
    if (best == levels_.end() || level > bestLevel ||
        (level == bestLevel && head->times.submitted < best->second.front()->times.submitted)) {
      best = it;
      bestLevel = level;
    }
  }
  if (best == levels_.end()) return nullptr;
  Request* r = best->second.front();
  best->second.pop_front();
  if (best->second.empty()) levels_.erase(best);
  --size_;
  return r;
}

Request* RequestPriorityQueue::PopAny() {
  if (!setAside_.empty()) {
    Request* r = setAside_.front();
    setAside_.pop_front();
    --size_;
    return r;
  }
  if (levels_.empty()) return nullptr;
  auto it = levels_.begin();
  Request* r = it->second.front();
  it->second.pop_front();
  if (it->second.empty()) levels_.erase(it);
  --size_;
  return r;
}

void RequestPriorityQueue::RemoveIf(const std::function<bool(Request*)>& drop, std::vector<Request*>* out) {
  for (auto it = levels_.begin(); it != levels_.end();) {
    auto& fifo = it->second;
    auto keep = std::stable_partition(fifo.begin(), fifo.end(), [&](Request* r) { return !drop(r); });
    for (auto k = keep; k != fifo.end(); ++k) out->push_back(*k);
    size_ -= size_t(fifo.end() - keep);
    fifo.erase(keep, fifo.end());
    it = fifo.empty() ? levels_.erase(it) : std::next(it);
  }
  auto keep = std::stable_partition(setAside_.begin(), setAside_.end(), [&](Request* r) { return !drop(r); });
  for (auto k = keep; k != setAside_.end(); ++k) out->push_back(*k);
  size_ -= size_t(setAside_.end() - keep);
  setAside_.erase(keep, setAside_.end());
}

Clock::time_point RequestPriorityQueue::EarliestDeadline() const {
  Clock::time_point earliest = Clock::time_point::max();
  for (const auto& [level, fifo] : levels_) {
    for (const Request* r : fifo) earliest = std::min(earliest, r->deadline);
  }
  for (const Request* r : setAside_) earliest = std::min(earliest, r->deadline);
  return earliest;
}

}  // namespace ip
