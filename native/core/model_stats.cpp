#include "core/model_stats.h"

namespace ip {
namespace {

LatencySummary Summarize(const LatencyHistogram& h) {
  LatencySummary s;
  s.p50 = h.PercentileUs(0.50) / 1000.0;
  s.p90 = h.PercentileUs(0.90) / 1000.0;
  s.p99 = h.PercentileUs(0.99) / 1000.0;
  s.max = double(h.maxUs()) / 1000.0;
  return s;
}

}  // namespace

ModelStats::ModelStats(int maxBatchSize, std::chrono::nanoseconds slotLength, int slots)
    : histogram_(new std::atomic<uint64_t>[size_t(maxBatchSize + 1)]),
      size_(size_t(maxBatchSize + 1)),
      window_(slotLength, slots) {
  for (size_t i = 0; i < size_; ++i) histogram_[i] = 0;
}

void ModelStats::WindowSlot::Clear() {
  for (auto& h : stages) h.Clear();
  priorities.clear();  // levels not seen again free their memory
}

void ModelStats::AddCompletedAt(int64_t queueUs, int64_t preUs, int64_t inferUs, int64_t postUs, int64_t totalUs,
                                int priority, TimePoint now) {
  const std::array<int64_t, kStages> us = {queueUs, preUs, inferUs, postUs, totalUs};
  std::lock_guard<std::mutex> lock(mutex_);
  ++completed_;
  WindowSlot& slot = window_.At(now);
  for (int i = 0; i < kStages; ++i) {
    sumUs_[i] += us[i];
    ++buckets_[i][LatencyBoundOf(us[i])];
    slot.stages[i].Add(us[i]);
  }
  ++priorityCompleted_[priority];
  slot.priorities[priority].Add(totalUs);
}

ModelStatsSnapshot ModelStats::SnapshotAt(TimePoint now) const {
  ModelStatsSnapshot s;
  s.failed = failed_.load(std::memory_order_acquire);
  s.batches = batches_.load(std::memory_order_relaxed);
  s.expired = expired_.load(std::memory_order_relaxed);
  s.rejected = rejected_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < size_; ++i) s.batchSizeHistogram.push_back(histogram_[i].load(std::memory_order_relaxed));

  // Copied under the lock, summarised after it: recording waits only for the merge.
  std::array<LatencyHistogram, kStages> stages;
  std::map<int, LatencyHistogram> priorities;
  std::array<int64_t, kStages> sumUs;
  std::array<std::array<uint64_t, kLatencyBoundsMs.size()>, kStages> buckets;
  std::map<int, uint64_t> priorityCompleted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    s.completed = completed_;
    sumUs = sumUs_;
    buckets = buckets_;
    priorityCompleted = priorityCompleted_;
    window_.ForEachLive(now, [&](const WindowSlot& slot) {
      for (int i = 0; i < kStages; ++i) stages[i].Merge(slot.stages[i]);
      for (const auto& [level, h] : slot.priorities) priorities[level].Merge(h);
    });
  }
  // Read after the completions: every request counted as completed or failed is counted here too, so
  // requests - completed - failed never goes below zero.
  s.requests = requests_.load(std::memory_order_acquire);
  if (s.completed > 0) {
    double n = double(s.completed) * 1000.0;
    s.meanQueueMs = double(sumUs[kQueue]) / n;
    s.meanPreprocessMs = double(sumUs[kPreprocess]) / n;
    s.meanInferenceMs = double(sumUs[kInference]) / n;
    s.meanPostprocessMs = double(sumUs[kPostprocess]) / n;
  }
  auto cumulate = [&](Stage stage, CumulativeHistogram& h) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.counts.size(); ++i) h.counts[i] = cumulative += buckets[stage][i];
    h.sumMs = double(sumUs[stage]) / 1000.0;
    h.count = s.completed;
  };
  cumulate(kQueue, s.histograms.queue);
  cumulate(kPreprocess, s.histograms.preprocess);
  cumulate(kInference, s.histograms.inference);
  cumulate(kPostprocess, s.histograms.postprocess);
  cumulate(kTotal, s.histograms.total);
  s.queue = Summarize(stages[kQueue]);
  s.preprocess = Summarize(stages[kPreprocess]);
  s.inference = Summarize(stages[kInference]);
  s.postprocess = Summarize(stages[kPostprocess]);
  s.total = Summarize(stages[kTotal]);
  for (const auto& [level, completed] : priorityCompleted) {
    PriorityStats& p = s.priorities[level];
    p.completed = completed;
    auto it = priorities.find(level);
    if (it != priorities.end()) {
      p.p50 = it->second.PercentileUs(0.50) / 1000.0;
      p.p99 = it->second.PercentileUs(0.99) / 1000.0;
    }
  }
  return s;
}

}  // namespace ip
