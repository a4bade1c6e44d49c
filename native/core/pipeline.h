// The whole pool as a C++ object, free of Node-API: a preprocess stage pool, one ModelRunner per
// model (batcher + inference instances), a postprocess stage pool, and a completion queue that
// the embedder drains on its own thread after `wake` tells it there is something to take.
#pragma once

#include <concurrentqueue.h>

#include <atomic>
#include <condition_variable>
#include <thread>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/model_runner.h"
#include "core/model_stats.h"
#include "core/ort_runtime.h"
#include "core/request.h"
#include "core/stage_pool.h"

namespace ip {

struct PoolConfig {
  int maxBatchSize = 8;         // default for models whose spec gives none
  double maxQueueDelayMs = 0;   // how long a partial batch may wait for company
  double priorityAgingMs = 10000;  // a waiting request gains one priority level per this much waiting
  size_t maxQueueSize = 10000;  // requests in the pool at once; more are refused with QUEUE_FULL
  int preprocessThreads = 1;
  int postprocessThreads = 1;
  size_t maxImagePixels = 50'000'000;
  RuntimeOptions runtime;
  SessionConfig session;
};

class Pipeline {
 public:
  using Wake = std::function<void()>;

  // Throws PoolError (PROVIDER_UNAVAILABLE when the library or the execution provider is missing).
  Pipeline(const PoolConfig& config, Wake wake);
  ~Pipeline();

  OrtRuntime& runtime() { return runtime_; }

  // Creates the sessions (slow; call it off the embedder's main thread). Throws PoolError.
  std::shared_ptr<ModelRunner> LoadModel(const ModelSpec& spec);
  std::shared_ptr<ModelRunner> FindModel(const std::string& id);
  // Refuses new requests for the model at once; returns it so that the caller can wait for its
  // requests to finish (ModelRunner::WaitIdle) and Stop() it off the main thread. Throws MODEL_NOT_FOUND.
  std::shared_ptr<ModelRunner> DetachModel(const std::string& id);

  // Takes ownership of `request` until it comes back through DrainCompleted. Throws PoolError
  // (POOL_CLOSED, MODEL_NOT_FOUND, QUEUE_FULL) without taking it.
  void Submit(Request* request, const std::string& modelId);
  // Takes up to `max` completed requests; the caller owns them.
  size_t DrainCompleted(Request** out, size_t max);

  // Refuse new requests from now on (cheap; call on the thread that submits).
  void MarkClosing() { closing_.store(true, std::memory_order_release); }
  bool closing() const { return closing_.load(std::memory_order_acquire); }
  // Blocking: fails what has not started (POOL_CLOSED), lets running batches finish, joins every
  // thread. With `terminate`, running batches are asked to stop early too.
  void Close(bool terminate = false);

  void SetBatchingHeld(bool held);
  std::vector<std::pair<std::string, ModelStatsSnapshot>> Stats();

 private:
  void PreprocessOne(Request* request);
  void PostprocessOne(Request* request);
  void Complete(Request* request);
  StageLinks Links();
  void ProbeCuda();
  void WatchDeadline(Clock::time_point deadline);
  void SweepLoop();
  void StopSweeper();

  PoolConfig config_;
  OrtRuntime& runtime_;
  Wake wake_;
  std::atomic<bool> closing_{false};
  std::mutex closeMutex_;  // Close() may be called by a close worker and by environment teardown
  bool closed_ = false;
  std::atomic<bool> held_{false};
  std::atomic<size_t> inflight_{0};

  std::shared_mutex modelsMutex_;
  std::map<std::string, std::shared_ptr<ModelRunner>> models_;
  std::vector<std::weak_ptr<ModelRunner>> detached_;  // unloading: out of the table, maybe still running

  std::unique_ptr<StagePool> preprocess_;
  std::unique_ptr<StagePool> postprocess_;
  moodycamel::ConcurrentQueue<Request*> completed_;

  // The deadline sweeper: wakes at nextSweep_, the earliest deadline any runner reported or was told.
  std::mutex sweepMutex_;
  std::condition_variable sweepChanged_;
  Clock::time_point nextSweep_ = Clock::time_point::max();
  bool sweepStop_ = false;
  std::thread sweeper_;
  std::atomic<bool> wakeScheduled_{false};
};

}  // namespace ip
