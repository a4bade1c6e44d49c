// A sliding time window kept as a ring of sub-windows ("slots"), so old samples age out a slot at a
// time without storing individual samples. Slot k of the ring holds period p (p = time / slot length)
// where p % slots == k; a slot still holding an older period is cleared the first time the ring comes
// back to it. The window at time t is the current period and the slots - 1 before it, so it spans
// between (slots - 1) and slots slot lengths. Not synchronised: the owner locks around it.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace ip {

template <typename Slot>  // Slot: default-constructible, with Clear()
class SlidingWindow {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  SlidingWindow(std::chrono::nanoseconds slotLength, int slots)
      : slotLength_(slotLength.count() > 0 ? slotLength : std::chrono::nanoseconds(1)),
        slots_(size_t(slots > 0 ? slots : 1)),
        periods_(slots_.size(), -1) {}

  // The slot that records what happens at `now`.
  Slot& At(TimePoint now) {
    int64_t period = PeriodOf(now);
    size_t k = Index(period);
    if (periods_[k] != period) {
      slots_[k].Clear();
      periods_[k] = period;
    }
    return slots_[k];
  }

  // Calls f(slot) for every slot inside the window that ends at `now`.
  template <typename F>
  void ForEachLive(TimePoint now, F&& f) const {
    int64_t current = PeriodOf(now);
    for (size_t k = 0; k < slots_.size(); ++k) {
      int64_t p = periods_[k];
      if (p >= 0 && p <= current && p > current - int64_t(slots_.size())) f(slots_[k]);
    }
  }

  std::chrono::nanoseconds length() const { return slotLength_ * int64_t(slots_.size()); }

 private:
  int64_t PeriodOf(TimePoint t) const {
    int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    return ns < 0 ? 0 : ns / slotLength_.count();
  }
  size_t Index(int64_t period) const { return size_t(period % int64_t(slots_.size())); }

  std::chrono::nanoseconds slotLength_;
  std::vector<Slot> slots_;
  std::vector<int64_t> periods_;  // the period each slot holds; -1 for never used
};

}  // namespace ip
