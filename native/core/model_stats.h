// Per-model counters, updated with relaxed atomics from the stage threads and read as a snapshot.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace ip {

struct ModelStatsSnapshot {
  uint64_t requests = 0, completed = 0, failed = 0, batches = 0;
  std::vector<uint64_t> batchSizeHistogram;  // [n] = batches of size n
  uint64_t waiting = 0;   // admitted, not yet given a tensor slot (nothing prepared for them yet)
  uint64_t prepared = 0;  // preprocessed, waiting for the batcher
  double meanQueueMs = 0, meanPreprocessMs = 0, meanInferenceMs = 0, meanPostprocessMs = 0;
};

class ModelStats {
 public:
  explicit ModelStats(int maxBatchSize) : histogram_(new std::atomic<uint64_t>[maxBatchSize + 1]), size_(maxBatchSize + 1) {
    for (size_t i = 0; i < size_; ++i) histogram_[i] = 0;
  }

  void AddRequest() { requests_.fetch_add(1, std::memory_order_relaxed); }
  void AddBatch(int size) {
    batches_.fetch_add(1, std::memory_order_relaxed);
    if (size >= 0 && size_t(size) < size_) histogram_[size].fetch_add(1, std::memory_order_relaxed);
  }
  void AddFailed() { failed_.fetch_add(1, std::memory_order_relaxed); }
  void AddExpired() { expired_.fetch_add(1, std::memory_order_relaxed); }
  void AddRejected() { rejected_.fetch_add(1, std::memory_order_relaxed); }
  // Stage times in microseconds of one successful request.
  void AddCompleted(int64_t queueUs, int64_t preUs, int64_t inferUs, int64_t postUs) {
    completed_.fetch_add(1, std::memory_order_relaxed);
    queueUs_.fetch_add(queueUs, std::memory_order_relaxed);
    preUs_.fetch_add(preUs, std::memory_order_relaxed);
    inferUs_.fetch_add(inferUs, std::memory_order_relaxed);
    postUs_.fetch_add(postUs, std::memory_order_relaxed);
  }

  ModelStatsSnapshot Snapshot() const {
    ModelStatsSnapshot s;
    s.requests = requests_.load(std::memory_order_relaxed);
    s.completed = completed_.load(std::memory_order_relaxed);
    s.failed = failed_.load(std::memory_order_relaxed);
    s.batches = batches_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < size_; ++i) s.batchSizeHistogram.push_back(histogram_[i].load(std::memory_order_relaxed));
    if (s.completed > 0) {
      double n = double(s.completed) * 1000.0;
      s.meanQueueMs = double(queueUs_.load(std::memory_order_relaxed)) / n;
      s.meanPreprocessMs = double(preUs_.load(std::memory_order_relaxed)) / n;
      s.meanInferenceMs = double(inferUs_.load(std::memory_order_relaxed)) / n;
      s.meanPostprocessMs = double(postUs_.load(std::memory_order_relaxed)) / n;
    }
    return s;
  }

 private:
  std::atomic<uint64_t> requests_{0}, completed_{0}, failed_{0}, batches_{0}, expired_{0}, rejected_{0};
  std::atomic<int64_t> queueUs_{0}, preUs_{0}, inferUs_{0}, postUs_{0};
  std::unique_ptr<std::atomic<uint64_t>[]> histogram_;
  size_t size_;
};

}  // namespace ip
