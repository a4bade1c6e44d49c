// One model's scheduler and inference threads. Requests are admitted into a priority queue of parked
// requests, move to preprocessing only when one of the model's tensor slots is free (so memory stays
// bounded however many wait), come back preprocessed into the ready list, and are taken in batches,
// as the batching policy (batch_policy.h) decides, by whichever instance thread is free. Every
// instance thread runs its batches on the model's shared session with a batch buffer of its own.
#pragma once

#include <concurrentqueue.h>
#include <onnxruntime_cxx_api.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/batch_output.h"
#include "core/batch_policy.h"
#include "core/model.h"
#include "core/model_stats.h"
#include "core/preprocess.h"
#include "core/priority_queue.h"
#include "core/request.h"

namespace ip {

// How a runner hands requests to the pipeline's other stages.
struct StageLinks {
  std::function<void(Request*)> preprocess;
  std::function<void(Request*)> postprocess;
  std::function<void(Request*)> complete;  // succeeded or failed, for good
  std::function<bool()> closing;
  // A request with a deadline started waiting: the deadline sweeper must wake by then.
  std::function<void(Clock::time_point)> watchDeadline;
  // Stop() has joined this runner's threads: orders that before whatever the pipeline does next under
  // its model table's lock (Close() deleting the pipeline those threads read, above all).
  std::function<void()> stopped;
};

struct RunnerConfig {
  std::chrono::microseconds maxQueueDelay{0};
  std::chrono::microseconds agingStep{std::chrono::seconds(10)};
  int slotCount = 1;
  size_t maxQueueSize = 0;  // requests this model may hold at once; 0: no bound of its own
};

class ModelRunner {
 public:
  ModelRunner(std::unique_ptr<Model> model, const RunnerConfig& config, StageLinks links);
  ~ModelRunner();

  void Start();
  Model& model() { return *model_; }
  const NormalizeTable& normalizeTable() const { return table_; }
  ModelStats& stats() { return stats_; }
  uint64_t waiting() const { return parkedCount_.load(std::memory_order_relaxed); }
  uint64_t prepared() const { return readyCount_.load(std::memory_order_relaxed); }
  int64_t inFlight() const { return outstanding_.load(std::memory_order_relaxed); }
  size_t maxQueueSize() const { return config_.maxQueueSize; }

  // Admission: the request waits, parked, until a tensor slot frees up.
  void Admit(Request* request);
  // Moves the best parked requests into free slots and on to preprocessing.
  void Pump();
  float* SlotData(int slot) { return slab_.get() + size_t(slot) * model_->itemElements(); }
  // From preprocessing: the request's input is in its slot.
  void Ready(Request* request);
  // Fails a request this runner owns (releasing its slot) and hands it to completion.
  void Fail(Request* request, ErrorCode code, const std::string& message);
  void FailAndPump(Request* request, ErrorCode code, const std::string& message) {
    Fail(request, code, message);
    Pump();
  }
  // Called by the pipeline once for every admitted request when it completes.
  void OnCompleted();
  // Fails the waiting requests whose deadline has passed (and drops cancelled ones); returns the
  // earliest deadline still waiting, max() if none. Called by the pipeline's deadline sweeper.
  Clock::time_point ExpireDue(Clock::time_point now);

  // Test hook: while held, no batch is taken, so tests can line up an exact batch.
  void SetHeld(bool held);
  // Blocks until every admitted request has completed (used to unload a model gracefully).
  void WaitIdle();
  // Joins the threads. Requests not yet running fail with POOL_CLOSED; a running batch completes.
  void Stop();
  // Asks running batches to stop early (environment teardown).
  void Terminate();
  // Wakes batchers waiting for company, so they see the pool closing.
  void Interrupt();

 private:
  void InstanceLoop(int instance);
  // Waits until the policy says run (or the runner stops), then takes the batch out of the ready list.
  // Returns how many requests it put in `batch`; 0 when stopping.
  int TakeBatch(std::vector<Request*>& batch);
  // Fails what must not run (pool closing, cancelled, expired); returns how many are left, in order.
  int DropUnrunnable(Request** batch, int n);
  void RunBatch(int instance, Request** batch, int n);
  // Runs `runSize` inputs (the first n of them real requests) as one call, and hands the requests on.
  void RunSlice(Ort::Session& session, int instance, float* input, int runSize, Request** requests, int n,
                int batchSize);
  void ReleaseSlot(int slot) { freeSlots_.enqueue(slot); }
  bool Expired(const Request* r, Clock::time_point now) const { return r->deadline <= now; }
  // Images per run on the single-threaded session (see RunBatch).
  int SliceImages() const;

  std::unique_ptr<Model> model_;
  RunnerConfig config_;
  BatchPolicy policy_;
  NormalizeTable table_;
  StageLinks links_;
  ModelStats stats_;

  int slotCount_;
  std::unique_ptr<float[]> slab_;  // slotCount_ preprocessed inputs
  moodycamel::ConcurrentQueue<int> freeSlots_;

  // Admission: parked requests, best first. Slots are taken under this mutex, so a freed slot and a
  // newly parked request cannot miss each other.
  std::mutex parkedMutex_;
  RequestPriorityQueue parked_;
  std::atomic<uint64_t> parkedCount_{0};

  // Preprocessed requests waiting for a batch; instance threads wait on `readyChanged_`.
  std::mutex readyMutex_;
  std::condition_variable readyChanged_;
  std::vector<Request*> ready_;
  std::atomic<uint64_t> readyCount_{0};

  std::vector<std::unique_ptr<float[]>> batchBuffers_;  // one per instance, allocated on its first batch
  std::vector<Ort::RunOptions> runOptions_;             // one per instance
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> held_{false};
  std::mutex stopMutex_;
  bool stopped_ = false;

  // Adaptive instances: a batch runs on the parallel session only when nothing else runs and nothing
  // waits; otherwise on the single-threaded session, side by side with the others.
  Ort::Session& ChooseSession(bool* parallel);
  void ReleaseSession(bool parallel);
  std::mutex scheduleMutex_;
  std::condition_variable scheduleChanged_;
  int runningSingle_ = 0;
  bool runningParallel_ = false;

  std::atomic<int64_t> outstanding_{0};
  std::atomic<int> running_{0};  // batches taken and not yet finished
  // Moving averages (µs) of a request's preprocessing and of one image's share of a run, for
  // deadline-aware admission.
  std::atomic<int64_t> preprocessUs_{0}, imageUs_{0};
  std::mutex idleMutex_;
  std::condition_variable idle_;
};

}  // namespace ip
