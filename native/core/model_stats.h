// Per-model counters and latency statistics, recorded by the stage threads and read as a snapshot.
// Counters bumped on their own are relaxed atomics. What a completed request records (means, windowed
// histograms, the all-time cumulative histograms of each stage and the total, per-priority counts) goes
// under one small mutex per model, so a snapshot sees them agree (every cumulative histogram's last
// count equals `completed`).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "core/latency_histogram.h"
#include "core/sliding_window.h"

namespace ip {

// Milliseconds, over the sliding window; all 0 while the window is empty.
struct LatencySummary {
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};

struct PriorityStats {
  uint64_t completed = 0;  // all-time
  double p50 = 0, p99 = 0;  // total latency over the window, ms
};

// One all-time latency, Prometheus style: counts[i] = completed requests whose latency was at most
// kLatencyBoundsMs[i] (cumulative; the last bound is +Infinity, so the last count is `count`).
struct CumulativeHistogram {
  std::array<uint64_t, kLatencyBoundsMs.size()> counts{};
  double sumMs = 0;
  uint64_t count = 0;  // = the snapshot's `completed`
};

struct StageHistograms {
  CumulativeHistogram queue, preprocess, inference, postprocess, total;
};

struct ModelStatsSnapshot {
  uint64_t requests = 0, completed = 0, failed = 0, batches = 0;
  uint64_t expired = 0;   // failed with DEADLINE_EXCEEDED
  uint64_t rejected = 0;  // refused with QUEUE_FULL
  int64_t inFlight = 0;   // admitted, not yet completed (filled in by the pipeline)
  std::vector<uint64_t> batchSizeHistogram;  // [n] = batches of size n
  uint64_t waiting = 0;   // admitted, not yet given a tensor slot (nothing prepared for them yet)
  uint64_t prepared = 0;  // preprocessed, waiting for the batcher
  double meanQueueMs = 0, meanPreprocessMs = 0, meanInferenceMs = 0, meanPostprocessMs = 0;
  LatencySummary queue, preprocess, inference, postprocess, total;
  // All-time, per stage as in LatencySummary; each one's count is `completed`.
  StageHistograms histograms;
  std::map<int, PriorityStats> priorities;  // by request priority level
};

class ModelStats {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // The latency window: 12 slots of 5 s, so percentiles cover the last 55 to 60 seconds.
  static constexpr std::chrono::seconds kSlotLength{5};
  static constexpr int kSlots = 12;

  explicit ModelStats(int maxBatchSize, std::chrono::nanoseconds slotLength = kSlotLength, int slots = kSlots);

  void AddRequest() { requests_.fetch_add(1, std::memory_order_relaxed); }
  void AddBatch(int size) {
    batches_.fetch_add(1, std::memory_order_relaxed);
    if (size >= 0 && size_t(size) < size_) histogram_[size].fetch_add(1, std::memory_order_relaxed);
  }
  // Release, as the completion mutex is: a snapshot that sees the failure sees its AddRequest too.
  void AddFailed() { failed_.fetch_add(1, std::memory_order_release); }
  void AddExpired() { expired_.fetch_add(1, std::memory_order_relaxed); }
  void AddRejected() { rejected_.fetch_add(1, std::memory_order_relaxed); }
  // One successful request: its stage times and total (submitted → postprocessed) in microseconds,
  // truncated, and its priority level.
  void AddCompleted(int64_t queueUs, int64_t preUs, int64_t inferUs, int64_t postUs, int64_t totalUs, int priority) {
    AddCompletedAt(queueUs, preUs, inferUs, postUs, totalUs, priority, std::chrono::steady_clock::now());
  }
  // The same with the clock reading given (tests move time by hand).
  void AddCompletedAt(int64_t queueUs, int64_t preUs, int64_t inferUs, int64_t postUs, int64_t totalUs, int priority,
                      TimePoint now);

  ModelStatsSnapshot Snapshot() const { return SnapshotAt(std::chrono::steady_clock::now()); }
  ModelStatsSnapshot SnapshotAt(TimePoint now) const;

 private:
  enum Stage { kQueue, kPreprocess, kInference, kPostprocess, kTotal, kStages };
  struct WindowSlot {
    std::array<LatencyHistogram, kStages> stages;
    std::map<int, LatencyHistogram> priorities;  // total latency
    void Clear();
  };

  std::atomic<uint64_t> requests_{0}, failed_{0}, batches_{0}, expired_{0}, rejected_{0};
  std::unique_ptr<std::atomic<uint64_t>[]> histogram_;
  size_t size_;

  mutable std::mutex mutex_;  // guards everything below
  uint64_t completed_ = 0;
  std::array<int64_t, kStages> sumUs_{};
  // Per stage, not cumulative: [stage][i] = requests whose first bound above their latency is i.
  std::array<std::array<uint64_t, kLatencyBoundsMs.size()>, kStages> buckets_{};
  std::map<int, uint64_t> priorityCompleted_;
  SlidingWindow<WindowSlot> window_;
};

}  // namespace ip
