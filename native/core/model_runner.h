// One model's batcher and inference threads. Requests are admitted into a parked queue, move to
// preprocessing only when one of the model's tensor slots is free (so memory stays bounded however
// many wait), come back preprocessed into the ready queue, and are taken in batches by whichever
// instance thread is free. Each instance thread owns one ONNX Runtime session and one batch buffer.
#pragma once

#include <blockingconcurrentqueue.h>
#include <concurrentqueue.h>
#include <onnxruntime_cxx_api.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/batch_policy.h"
#include "core/model.h"
#include "core/model_stats.h"
#include "core/preprocess.h"
#include "core/request.h"

namespace ip {

// The outputs of one batch run, shared by the batch's requests until the last is postprocessed.
struct BatchOutput {
  std::vector<Ort::Value> values;
  int runSize = 0;  // the batch dimension it ran with (a fixed-batch model pads)
};

// How a runner hands requests to the pipeline's other stages.
struct StageLinks {
  std::function<void(Request*)> preprocess;
  std::function<void(Request*)> postprocess;
  std::function<void(Request*)> complete;  // succeeded or failed, for good
  std::function<bool()> closing;
};

class ModelRunner {
 public:
  ModelRunner(std::unique_ptr<Model> model, std::chrono::microseconds maxQueueDelay, int slotCount, StageLinks links);
  ~ModelRunner();

  void Start();
  Model& model() { return *model_; }
  const NormalizeTable& normalizeTable() const { return table_; }
  ModelStats& stats() { return stats_; }
  uint64_t waiting() const { return parkedCount_.load(std::memory_order_relaxed); }
  uint64_t prepared() const { return readyCount_.load(std::memory_order_relaxed); }
  int64_t inFlight() const { return outstanding_.load(std::memory_order_relaxed); }

  // Admission: the request waits, parked, until a tensor slot frees up.
  void Admit(Request* request);
  // Moves parked requests into free slots and on to preprocessing.
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

  // Test hook: while held, no batch is taken, so tests can line up an exact batch.
  void SetHeld(bool held) { held_.store(held); }
  // Blocks until every admitted request has completed (used to unload a model gracefully).
  void WaitIdle();
  // Joins the threads. Requests not yet running fail with POOL_CLOSED; a running batch completes.
  void Stop();
  // Asks running batches to stop early (environment teardown).
  void Terminate();
  // Wakes a batcher waiting for company so it sees the pool closing.
  void Interrupt();

 private:
  void InstanceLoop(int instance);
  void RunBatch(int instance, Request** batch, int n);
  // Runs `runSize` inputs (the first n of them real requests) as one call, and hands the requests on.
  void RunSlice(Ort::Session& session, int instance, float* input, int runSize, Request** requests, int n,
                int batchSize);
  void ReleaseSlot(int slot) { freeSlots_.enqueue(slot); }

  std::unique_ptr<Model> model_;
  BatchPolicy policy_;
  NormalizeTable table_;
  StageLinks links_;
  ModelStats stats_;

  int slotCount_;
  std::unique_ptr<float[]> slab_;  // slotCount_ preprocessed inputs
  moodycamel::ConcurrentQueue<int> freeSlots_;
  moodycamel::ConcurrentQueue<Request*> parked_;
  moodycamel::BlockingConcurrentQueue<Request*> ready_;
  std::atomic<uint64_t> parkedCount_{0}, readyCount_{0};

  std::vector<std::unique_ptr<float[]>> batchBuffers_;  // one per instance, allocated on its first batch
  std::vector<Ort::RunOptions> runOptions_;             // one per instance
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> held_{false};
  std::mutex stopMutex_;
  bool stopped_ = false;

  // Adaptive instances: a batch runs on the parallel session only when nothing else runs and nothing
  // waits; otherwise on its thread's single-threaded session, side by side with the others.
  Ort::Session& ChooseSession(bool* parallel);
  void ReleaseSession(bool parallel);
  std::mutex batcherMutex_;  // held by the instance thread that is forming a batch
  std::mutex scheduleMutex_;
  std::condition_variable scheduleChanged_;
  int runningSingle_ = 0;
  bool runningParallel_ = false;

  std::atomic<int64_t> outstanding_{0};
  std::mutex idleMutex_;
  std::condition_variable idle_;
};

}  // namespace ip
